import { describe, expect, it } from "vitest";
import { chooseStream, mergeLines, withStream } from "./logLines";

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

describe("chooseStream", () => {
  it("selects nothing until a stream is written", () => {
    expect(chooseStream(null, {})).toBe(null);
  });

  it("selects the first stream to appear, stdout among several", () => {
    expect(chooseStream(null, { stderr: 2 })).toBe("stderr");
    expect(chooseStream(null, { stderr: 2, stdout: 1 })).toBe("stdout");
    expect(chooseStream(null, { "worker-2": 1, "worker-1": 1 })).toBe("worker-1");
  });

  it("keeps the stream already selected", () => {
    expect(chooseStream("stderr", { stderr: 2, stdout: 1 })).toBe("stderr");
  });
});

describe("withStream", () => {
  it("adds a stream a live batch announces, with its line count, and keeps known ones", () => {
    expect(withStream({}, "stdout", 3)).toEqual({ stdout: 3 });
    expect(withStream({ stdout: 3 }, "stdout", 9)).toEqual({ stdout: 3 });
    expect(withStream({ stdout: 3 }, "stderr", 1)).toEqual({ stdout: 3, stderr: 1 });
  });
});
