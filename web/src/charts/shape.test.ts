import { describe, expect, it } from "vitest";
import type { MetricSeries } from "../api/metrics";
import {
  accuracyCurves,
  appendPoints,
  confusionMatrix,
  defaultAxes,
  describeNonFinite,
  historyLine,
  isTextSeries,
  listLine,
  predictionsChart,
  residualsHistogram,
  scalarLine,
  tableFromSeries,
  tableLines,
} from "./shape";

const column = (name: string, col: string, values: unknown[]): MetricSeries => ({
  name,
  column: col,
  kind: "table",
  description: "",
  steps: values.map((_, i) => i),
  values,
  times: [],
});

describe("scalar and list lines", () => {
  it("keeps NaN and infinities as gaps and lists them", () => {
    const line = scalarLine([0, 1, 2, 3], [0.5, "NaN", "Infinity", "-Infinity"]);
    expect(line.x).toEqual([0, 1, 2, 3]);
    expect(line.y).toEqual([0.5, null, null, null]);
    expect(line.nonFinite).toEqual([
      { x: 1, kind: "NaN" },
      { x: 2, kind: "+Inf" },
      { x: 3, kind: "-Inf" },
    ]);
    expect(describeNonFinite(line.nonFinite)).toBe("NaN at step 1 · +Inf at step 2 · -Inf at step 3");
  });

  it("draws a list over its index", () => {
    expect(listLine([0, 1, 1, 2]).x).toEqual([0, 1, 2, 3]);
  });

  it("appends live points that extend the line and skips ones already drawn", () => {
    const line = scalarLine([0, 1], [1, 2]);
    expect(appendPoints(line, [2, 3], [3, "NaN"])).toBe(2);
    expect(line.y).toEqual([1, 2, 3, null]);
    expect(line.nonFinite).toEqual([{ x: 3, kind: "NaN" }]);
    expect(appendPoints(line, [3, 4], [5, 6])).toBe(1);
    expect(line.x).toEqual([0, 1, 2, 3, 4]);
  });

  it("keeps min and max bands of a downsampled history", () => {
    const line = historyLine({
      count: 1000,
      downsampled: true,
      steps: [0, 500],
      values: [1.5, 2.5],
      min: [1, "-Infinity"],
      max: [2, 3],
      counts: [500, 500],
    });
    expect(line.min).toEqual([1, null]);
    expect(line.max).toEqual([2, 3]);
    const raw = historyLine({ count: 2, downsampled: false, steps: [0, 1], values: [1, 2], min: [], max: [], counts: [] });
    expect(raw.min).toBeNull();
  });

  it("tells text series from numeric ones", () => {
    expect(isTextSeries(["Hello from run!"])).toBe(true);
    expect(isTextSeries(["NaN", 1])).toBe(false);
    expect(isTextSeries([])).toBe(false);
  });
});

describe("tables", () => {
  const table = tableFromSeries([
    column("Cosine Wave", "angle", [1, 0, 0.5]),
    column("Cosine Wave", "cos", [0.54, 1, "NaN"]),
    column("Cosine Wave", "label", ["a", "b", "c"]),
  ]);

  it("picks the first numeric column as x and the others as y", () => {
    expect(defaultAxes(table)).toEqual({ x: "angle", y: ["cos"] });
  });

  it("orders rows by x and keeps NaN visible", () => {
    const lines = tableLines(table, "angle", ["cos"]);
    expect(lines.x).toEqual([0, 0.5, 1]);
    expect(lines.ys).toEqual([[1, null, 0.54]]);
    expect(lines.nonFinite).toEqual([{ x: 0.5, kind: "NaN" }]);
  });

  it("plots over the row index without an x column", () => {
    expect(tableLines(table, null, ["angle"]).x).toEqual([0, 1, 2]);
  });
});

describe("structured metrics", () => {
  it("reads a confusion matrix", () => {
    const cm = confusionMatrix({
      schema_type: "confusion_matrix",
      data: { class_labels: ["cat", "dog"], matrix: [[40, 2], [5, 53]] },
    });
    expect(cm).toEqual({ labels: ["cat", "dog"], matrix: [[40, 2], [5, 53]], max: 53 });
  });

  it("computes ROC and precision-recall curves per class from [TP, FP, TN, FN] rows", () => {
    const curves = accuracyCurves({
      data: {
        class_labels: ["a"],
        probability_tables: [
          [
            [10, 10, 0, 0], // threshold 0: everything positive
            [8, 2, 8, 2],
            [0, 0, 10, 10], // threshold 1: nothing positive
          ],
        ],
        percentile_tables: [[]],
        probability_thresholds: [0, 0.5, 1],
        percentile_thresholds: [],
      },
    });
    expect(curves).toHaveLength(1);
    expect(curves[0]?.roc).toEqual({ x: [0, 0.2, 1], y: [0, 0.8, 1] });
    expect(curves[0]?.pr).toEqual({ x: [0.8, 1], y: [0.8, 0.5] });
  });

  it("reads residuals and predictions", () => {
    expect(residualsHistogram({ data: { bin_edges: [-1, 0, 1], bin_counts: [4, 6] } })).toEqual({
      edges: [-1, 0, 1],
      counts: [4, 6],
    });
    const p = predictionsChart({
      data: { bin_averages: [0.2, 0.8], bin_errors: [0.05, 0.04], bin_counts: [10, 12], bin_edges: [0, 0.5, 1] },
    });
    expect(p.x).toEqual([0.25, 0.75]);
    expect(p.lower[0]).toBeCloseTo(0.15);
    expect(p.upper[1]).toBeCloseTo(0.84);
  });

  it("refuses a value without data", () => {
    expect(() => confusionMatrix("oops")).toThrow(/structured/);
  });
});
