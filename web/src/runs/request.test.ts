import { describe, expect, it } from "vitest";
import { emptyQuery, type RunsQuery } from "../app/url";
import { childSummary, filterKey, firstPageRequest, neededMetrics, serverSort, tableRequest } from "./request";

describe("runs table request", () => {
  it("asks for the newest root runs by default", () => {
    expect(tableRequest("mnist", emptyQuery(), 0, 100)).toEqual({
      experiment: "mnist",
      metrics: [],
      sort: "created",
      descending: true,
      offset: 0,
      limit: 100,
      roots_only: true,
    });
  });

  it("sends every filter and the metric columns", () => {
    const query: RunsQuery = {
      ...emptyQuery(),
      statuses: ["Running"],
      tags: [
        ["team", "a"],
        ["best", null],
      ],
      properties: [["lr", "0.1"]],
      submitter: "alice",
      text: "  resnet ",
      sort: { by: { kind: "metric", column: { name: "loss", agg: "min" } }, descending: false },
      columns: [
        { name: "acc", agg: "max" },
        { name: "loss", agg: "last" },
      ],
    };
    expect(tableRequest("e", query, 200, 50)).toEqual({
      experiment: "e",
      metrics: ["acc", "loss"],
      sort: "metric:loss:min",
      descending: false,
      offset: 200,
      limit: 50,
      roots_only: true,
      status: ["Running"],
      tags: { team: "a", best: null },
      properties: { lr: "0.1" },
      submitted_by: ["alice"],
      text: "resnet",
    });
  });

  it("asks for a parent's children without the root filters", () => {
    const query: RunsQuery = { ...emptyQuery(), statuses: ["Failed"], text: "x" };
    const request = tableRequest("e", query, 0, 100, "parent-1");
    expect(request.parent).toBe("parent-1");
    expect(request.status).toBeUndefined();
    expect(request.roots_only).toBeUndefined();
  });

  it("maps fixed sort keys to the server's", () => {
    expect(serverSort({ by: { kind: "field", key: "submitter" }, descending: true })).toBe("submitted_by");
    expect(neededMetrics([], { by: { kind: "metric", column: { name: "m", agg: "last" } }, descending: true })).toEqual(["m"]);
  });

  it("summarises children by running and failed", () => {
    expect(childSummary({ Running: 1, Queued: 2, Failed: 1, Completed: 5 })).toBe("3 running · 1 failed");
    expect(childSummary({ Completed: 5 })).toBe("");
  });

  it("sorts by a tag or property column with the server's key", () => {
    expect(serverSort({ by: { kind: "key", column: { kind: "tag", key: "team" } }, descending: true })).toBe("tag:team");
    expect(serverSort({ by: { kind: "key", column: { kind: "property", key: "lr" } }, descending: false })).toBe("property:lr");
  });

  it("asks for the count on a first page, and keeps one count across sorts and columns", () => {
    const query = emptyQuery();
    expect(firstPageRequest("e", query)).toEqual({ ...tableRequest("e", query, 0, 100), with_total: true });
    const sorted: RunsQuery = {
      ...query,
      sort: { by: { kind: "field", key: "name" }, descending: false },
      columns: [{ name: "loss", agg: "min" }],
      keyColumns: [{ kind: "tag", key: "team" }],
    };
    expect(filterKey("e", sorted, null)).toBe(filterKey("e", query, null));
    expect(filterKey("e", { ...query, text: "x" }, null)).not.toBe(filterKey("e", query, null));
    expect(filterKey("e", query, "parent-run")).not.toBe(filterKey("e", query, null));
  });
});
