import { describe, expect, it } from "vitest";
import { decodeView, emptyQuery, encodeView, searchText, updateRunsView, type View } from "./url";

function roundTrip(view: View): View {
  return decodeView(encodeView(view));
}

describe("URL state", () => {
  it("the home page is the experiments list with no query", () => {
    expect(encodeView({ page: "experiments", archived: false })).toBe("");
    expect(decodeView("")).toEqual({ page: "experiments", archived: false });
    expect(roundTrip({ page: "experiments", archived: true })).toEqual({
      page: "experiments",
      archived: true,
    });
  });

  it("keeps every part of a runs view: filters, sort and metric columns", () => {
    const view: View = {
      page: "runs",
      experiment: "sweep & co/1",
      query: {
        statuses: ["Running", "Failed"],
        tags: [
          ["quality", "great run"],
          ["has=equals", null],
        ],
        properties: [["author", "a=b"]],
        submitter: "alice",
        text: "lr 0.1",
        sort: { by: { kind: "metric", column: { name: "val:loss", agg: "min" } }, descending: false },
        columns: [
          { name: "val:loss", agg: "min" },
          { name: "accuracy", agg: "last" },
        ],
        keyColumns: [],
      },
    };
    const back = roundTrip(view);
    expect(back).toEqual({
      ...view,
      query: {
        ...view.query,
        // A key holding "=" cannot be told from key=value: the first "=" splits.
        tags: [
          ["quality", "great run"],
          ["has", "equals"],
        ],
      },
    });
  });

  it("keeps tag and property columns, and a sort by one of them", () => {
    const view: View = {
      page: "runs",
      experiment: "e",
      query: {
        ...emptyQuery(),
        keyColumns: [
          { kind: "tag", key: "team: a/b" },
          { kind: "property", key: "lr" },
        ],
        sort: { by: { kind: "key", column: { kind: "property", key: "lr" } }, descending: true },
      },
    };
    const text = encodeView(view);
    expect(text).toContain("kcol=tag%3Ateam%3A+a%2Fb");
    expect(text).toContain("sort=-prop%3Alr");
    expect(roundTrip(view)).toEqual(view);
    // A column or sort naming no key is dropped, not kept as an empty key.
    expect(decodeView("?experiment=e&kcol=tag:&kcol=other:x&sort=prop:")).toEqual({ page: "runs", experiment: "e", query: emptyQuery() });
  });

  it("leaves the default sort out of the URL and reads an unknown sort as the default", () => {
    const view: View = { page: "runs", experiment: "e", query: emptyQuery() };
    expect(encodeView(view)).toBe("?experiment=e");
    const decoded = decodeView("?experiment=e&sort=-bogus&col=median:x&col=last:");
    expect(decoded).toEqual(view);
  });

  it("keeps a run's tab, zoomed ranges and chosen file", () => {
    const view: View = {
      page: "run",
      runId: "exp_1700000000_abcdef12",
      tab: "metrics",
      zoom: { loss: [10, 200.5], "Cosine Wave/cos,x": [-1, 1] },
      file: null,
    };
    expect(roundTrip(view)).toEqual(view);
    expect(roundTrip({ ...view, tab: "outputs", zoom: {}, file: "outputs/a b.txt" })).toEqual({
      ...view,
      tab: "outputs",
      zoom: {},
      file: "outputs/a b.txt",
    });
  });

  it("drops an unknown tab and malformed zooms", () => {
    expect(decodeView("?run=r1&tab=evil&zoom=5,1,loss&zoom=a,b,c&zoom=1,2")).toEqual({
      page: "run",
      runId: "r1",
      tab: "overview",
      zoom: {},
      file: null,
    });
  });

  it("keeps where to go after signing in", () => {
    expect(roundTrip({ page: "signin", next: "?run=r1" })).toEqual({ page: "signin", next: "?run=r1" });
  });
});

describe("delayed runs query updates", () => {
  const runs = (query = emptyQuery()): View => ({ page: "runs", experiment: "e", query });

  it("a debounced search merges into the query as it is when it fires, not as it was typed", () => {
    // Typed (search cleared) while the query was this...
    const typedAt = { ...emptyQuery(), text: "lr" };
    const update = searchText("");
    // ...but a status was ticked before the update fired.
    const now = runs({ ...typedAt, statuses: ["Failed"] });
    expect(updateRunsView(now, "e", update)).toEqual(runs({ ...typedAt, statuses: ["Failed"], text: "" }));
  });

  it("a search already applied, or one for a page left since, changes nothing", () => {
    expect(updateRunsView(runs({ ...emptyQuery(), text: "x" }), "e", searchText("x"))).toBe(null);
    expect(updateRunsView(runs(), "other", searchText("x"))).toBe(null);
    expect(updateRunsView({ page: "experiments", archived: false }, "e", searchText("x"))).toBe(null);
  });

  it("a whole query replaces the view's", () => {
    const query = { ...emptyQuery(), submitter: "alice" };
    expect(updateRunsView({ page: "experiments", archived: false }, "e", query)).toEqual(runs(query));
  });
});
