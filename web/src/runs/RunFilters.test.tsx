import { render } from "preact";
import { useState } from "preact/hooks";
import { act } from "preact/test-utils";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { emptyQuery, type RunsQuery } from "../app/url";
import { RunFilters } from "./RunFilters";

vi.mock("../api/runs", async (original) => ({
  ...(await original<typeof import("../api/runs")>()),
  tableValues: () => Promise.resolve([]),
}));

describe("RunFilters", () => {
  let root: HTMLElement;
  let seen: RunsQuery = emptyQuery();
  beforeEach(() => {
    vi.useFakeTimers();
    root = document.createElement("div");
    document.body.append(root);
  });
  afterEach(() => {
    render(null, root);
    root.remove();
    vi.useRealTimers();
  });

  /** The runs page's part: the query lives in (URL) state; changes apply to it as it is. */
  function Page({ initial }: { initial: RunsQuery }) {
    const [query, setQuery] = useState(initial);
    seen = query;
    return <RunFilters experiment="e" query={query} onChange={(next) => setQuery(next)} />;
  }

  it("keeps a status ticked while a cleared search is still waiting to apply", () => {
    act(() => render(<Page initial={{ ...emptyQuery(), text: "lr" }} />, root));
    const search = root.querySelector<HTMLInputElement>("input[type=search]");
    const failed = [...root.querySelectorAll("label.check")].find((l) => l.textContent === "Failed")?.querySelector("input");
    if (!search || !failed) throw new Error("filters not rendered");

    act(() => {
      search.value = "";
      search.dispatchEvent(new Event("input", { bubbles: true }));
    });
    act(() => {
      failed.checked = true;
      failed.dispatchEvent(new Event("change", { bubbles: true }));
    });
    expect(seen.statuses).toEqual(["Failed"]);

    act(() => {
      vi.advanceTimersByTime(300);
    });
    expect(seen.text).toBe("");
    expect(seen.statuses).toEqual(["Failed"]);
    expect(failed.checked).toBe(true);
  });
});
