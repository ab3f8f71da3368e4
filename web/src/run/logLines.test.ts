import { describe, expect, it } from "vitest";
import { mergeLines } from "./logLines";

describe("mergeLines", () => {
  const held = { first: 0, lines: ["a", "b", "c"] };

  it("appends the lines that follow", () => {
    expect(mergeLines(held, 3, ["d", "e"], 100)).toEqual({ kind: "merged", held: { first: 0, lines: ["a", "b", "c", "d", "e"] } });
  });

  it("skips lines already held when a batch overlaps", () => {
    expect(mergeLines(held, 1, ["b", "c", "d"], 100)).toEqual({ kind: "merged", held: { first: 0, lines: ["a", "b", "c", "d"] } });
    expect(mergeLines(held, 0, ["a", "b"], 100)).toEqual({ kind: "unchanged" });
  });

  it("reports a gap instead of showing lines out of order", () => {
    expect(mergeLines(held, 6, ["g"], 100)).toEqual({ kind: "gap", from: 3, count: 3 });
  });

  it("keeps only the newest lines past the window", () => {
    expect(mergeLines(held, 3, ["d", "e"], 3)).toEqual({ kind: "merged", held: { first: 2, lines: ["c", "d", "e"] } });
  });
});
