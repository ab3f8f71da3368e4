import { describe, expect, it } from "vitest";
import { resumeUrl, RunCursor } from "./cursor";

describe("run stream cursor", () => {
  it("follows metric and log events from where the stream started", () => {
    const cursor = new RunCursor();
    expect(cursor.value()).toBeNull();
    cursor.start({ m: [["loss", "", 4, 4]], l: [["stdout", 1]] });
    cursor.metric({ name: "loss", column: "", steps: [5, 6, 7], last_seq: 7 });
    cursor.metric({ name: "Cosine Wave", column: "cos", steps: [0], last_seq: 0 });
    cursor.log({ stream: "stdout", first: 2, lines: ["a", "b"] });
    cursor.log({ stream: "stderr", first: 0, lines: ["oops"] });
    expect(cursor.value()).toEqual({
      m: [
        ["loss", "", 7, 7],
        ["Cosine Wave", "cos", 0, 0],
      ],
      l: [
        ["stdout", 3],
        ["stderr", 0],
      ],
    });
  });

  it("never moves a log back for a repeated batch, and ignores events without a place", () => {
    const cursor = new RunCursor();
    cursor.start({ m: [], l: [["stdout", 9]] });
    cursor.log({ stream: "stdout", first: 5, lines: ["x"] });
    cursor.log({ stream: "stdout", first: 10, lines: [] });
    cursor.metric({ name: "loss", column: "", steps: [], last_seq: 3 });
    cursor.metric({ name: "loss", column: "", steps: [1] });
    expect(cursor.value()).toEqual({ m: [], l: [["stdout", 9]] });
  });

  it("reopens at the cursor, or where it first opened before knowing one", () => {
    const base = "/api/v1/workspaces/default/runs/r/events?metrics=true&logs=true&from_start=false";
    expect(resumeUrl(base, null)).toBe(base);
    const url = resumeUrl(base, { m: [["a&b", "", 1, 2]], l: [] });
    expect(new URL(url, "http://x").searchParams.get("resume")).toBe('{"m":[["a&b","",1,2]],"l":[]}');
  });
});
