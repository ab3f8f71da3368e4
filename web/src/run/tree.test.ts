import { describe, expect, it } from "vitest";
import { baseName, buildTree } from "./tree";

describe("buildTree", () => {
  it("nests files in folders, folders first and sorted, with sizes summed", () => {
    const root = buildTree([
      { name: "outputs/model.pkl", size: 100 },
      { name: "b.txt", size: 1 },
      { name: "outputs/eval/report.json", size: 10 },
      { name: "a.txt", size: 2 },
      { name: "logs/stdout.txt", size: 5 },
    ]);
    expect(root.size).toBe(118);
    expect(root.folders.map((f) => f.name)).toEqual(["logs", "outputs"]);
    expect(root.files.map((f) => f.name)).toEqual(["a.txt", "b.txt"]);
    const outputs = root.folders[1];
    expect(outputs?.size).toBe(110);
    expect(outputs?.folders[0]?.path).toBe("outputs/eval");
    expect(outputs?.files.map((f) => f.name)).toEqual(["outputs/model.pkl"]);
  });

  it("names files by their last part", () => {
    expect(baseName("outputs/eval/report.json")).toBe("report.json");
    expect(baseName("top.txt")).toBe("top.txt");
  });
});
