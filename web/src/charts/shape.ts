/**
 * Turns what the server returns for each metric kind (spec §2) into what a chart draws.
 * Charts cannot draw NaN or ±inf: such points become gaps and are listed beside the chart
 * (and marked on it), so they are visible rather than silently dropped.
 */
import type { History, MetricSeries } from "../api/metrics";
import { formatNumber, toNumber } from "../format/values";

export type NonFiniteKind = "NaN" | "+Inf" | "-Inf";

export interface NonFinitePoint {
  x: number;
  kind: NonFiniteKind;
}

/** One line over x, with optional per-bucket min/max of a downsampled history. */
export interface LineData {
  x: number[];
  y: (number | null)[];
  min: (number | null)[] | null;
  max: (number | null)[] | null;
  nonFinite: NonFinitePoint[];
  /** Values that are not numbers at all (strings logged into a numeric series). */
  texts: { x: number; text: string }[];
}

function classify(value: number): NonFiniteKind | null {
  if (Number.isNaN(value)) return "NaN";
  if (value === Number.POSITIVE_INFINITY) return "+Inf";
  if (value === Number.NEGATIVE_INFINITY) return "-Inf";
  return null;
}

export function emptyLine(): LineData {
  return { x: [], y: [], min: null, max: null, nonFinite: [], texts: [] };
}

/** Add points to a line in place (the live path). Points at or before the line's last x
 * were already drawn (a stream may repeat them) and are skipped; answers how many were added. */
export function appendPoints(line: LineData, xs: readonly number[], values: readonly unknown[]): number {
  let last = line.x.length ? (line.x[line.x.length - 1] as number) : Number.NEGATIVE_INFINITY;
  let added = 0;
  for (let i = 0; i < xs.length; i++) {
    const x = xs[i] as number;
    if (x <= last) continue;
    last = x;
    added += 1;
    const number = toNumber(values[i]);
    line.x.push(x);
    if (number === null) {
      line.y.push(null);
      line.texts.push({ x, text: String(values[i]) });
    } else {
      const bad = classify(number);
      line.y.push(bad ? null : number);
      if (bad) line.nonFinite.push({ x, kind: bad });
    }
    line.min?.push(null);
    line.max?.push(null);
  }
  return added;
}

/** A scalar series: its values over their steps. */
export function scalarLine(steps: readonly number[], values: readonly unknown[]): LineData {
  const line = emptyLine();
  appendPoints(line, steps, values);
  return line;
}

/** A `log_list` metric: values over their index. */
export function listLine(values: readonly unknown[]): LineData {
  return scalarLine(
    values.map((_, i) => i),
    values,
  );
}

/** A chart history (raw or downsampled, min/max kept per bucket). */
export function historyLine(history: History): LineData {
  const line = scalarLine(history.steps, history.values);
  if (history.downsampled) {
    const clean = (v: number | string | null): number | null => {
      const n = toNumber(v);
      return n === null || !Number.isFinite(n) ? null : n;
    };
    line.min = history.min.map(clean);
    line.max = history.max.map(clean);
  }
  return line;
}

/** Short text listing non-finite points, e.g. "NaN at steps 3, 7 · +Inf at step 9". */
export function describeNonFinite(points: readonly NonFinitePoint[], unit = "step", limit = 5): string {
  const byKind = new Map<NonFiniteKind, number[]>();
  for (const point of points) {
    const list = byKind.get(point.kind) ?? [];
    list.push(point.x);
    byKind.set(point.kind, list);
  }
  const parts: string[] = [];
  for (const [kind, xs] of byKind) {
    const shown = xs.slice(0, limit).map(formatNumber).join(", ");
    const more = xs.length > limit ? ` and ${xs.length - limit} more` : "";
    parts.push(`${kind} at ${unit}${xs.length === 1 ? "" : "s"} ${shown}${more}`);
  }
  return parts.join(" · ");
}

/** A row/table metric: its columns (in the server's order) and their values. */
export interface TableData {
  columns: string[];
  values: Record<string, unknown[]>;
  rows: number;
}

export function tableFromSeries(series: readonly MetricSeries[]): TableData {
  const values: Record<string, unknown[]> = {};
  const columns: string[] = [];
  let rows = 0;
  for (const s of series) {
    columns.push(s.column);
    values[s.column] = s.values;
    rows = Math.max(rows, s.values.length);
  }
  return { columns, values, rows };
}

/** Columns whose values are all numbers (NaN/±inf allowed): the ones a chart can plot. */
export function numericColumns(table: TableData): string[] {
  return table.columns.filter((c) => (table.values[c] ?? []).every((v) => toNumber(v) !== null));
}

/** The default choice of a two-variable chart: first numeric column as x, the rest as y. */
export function defaultAxes(table: TableData): { x: string | null; y: string[] } {
  const numeric = numericColumns(table);
  if (numeric.length < 2) return { x: null, y: numeric };
  return { x: numeric[0] ?? null, y: numeric.slice(1) };
}

/** A two-variable line chart of a table: y columns over the x column (or the row index),
 * rows ordered by x as a line needs. */
export function tableLines(
  table: TableData,
  xColumn: string | null,
  yColumns: readonly string[],
): { x: number[]; ys: (number | null)[][]; nonFinite: NonFinitePoint[] } {
  const order = Array.from({ length: table.rows }, (_, i) => i);
  const xRaw = xColumn ? (table.values[xColumn] ?? []).map(toNumber) : order.map((i) => i);
  const usable = order.filter((i) => {
    const x = xRaw[i];
    return x !== null && x !== undefined && Number.isFinite(x);
  });
  usable.sort((a, b) => (xRaw[a] as number) - (xRaw[b] as number));
  const nonFinite: NonFinitePoint[] = [];
  const x = usable.map((i) => xRaw[i] as number);
  const ys = yColumns.map((column) =>
    usable.map((i) => {
      const value = toNumber((table.values[column] ?? [])[i]);
      if (value === null) return null;
      const bad = classify(value);
      if (bad) nonFinite.push({ x: xRaw[i] as number, kind: bad });
      return bad ? null : value;
    }),
  );
  return { x, ys, nonFinite };
}

/** Structured metrics are `{schema_type, schema_version, data}`; this is their `data`. */
function dataOf(value: unknown): Record<string, unknown> {
  if (value && typeof value === "object" && "data" in value) {
    const data = (value as { data: unknown }).data;
    if (data && typeof data === "object") return data as Record<string, unknown>;
  }
  throw new Error("not a structured metric value (no data object)");
}

function numbers(value: unknown, what: string): number[] {
  if (!Array.isArray(value)) throw new Error(`${what} is not a list`);
  return value.map((v) => toNumber(v) ?? Number.NaN);
}

export interface ConfusionMatrix {
  labels: string[];
  /** matrix[true class][predicted class] */
  matrix: number[][];
  max: number;
}

export function confusionMatrix(value: unknown): ConfusionMatrix {
  const data = dataOf(value);
  const labels = (data.class_labels as unknown[]).map(String);
  const matrix = (data.matrix as unknown[]).map((row, i) => numbers(row, `matrix row ${i}`));
  const max = Math.max(0, ...matrix.flat().filter(Number.isFinite));
  return { labels, matrix, max };
}

export interface Curve {
  x: number[];
  y: number[];
}

export interface ClassCurves {
  label: string;
  roc: Curve;
  pr: Curve;
}

function sortedCurve(points: [number, number][]): Curve {
  const kept = points.filter(([a, b]) => Number.isFinite(a) && Number.isFinite(b));
  kept.sort((p, q) => p[0] - q[0] || p[1] - q[1]);
  return { x: kept.map((p) => p[0]), y: kept.map((p) => p[1]) };
}

/** ROC (false vs true positive rate) and precision–recall curves per class, from the
 * accuracy table's probability tables: one [TP, FP, TN, FN] row per threshold. */
export function accuracyCurves(value: unknown): ClassCurves[] {
  const data = dataOf(value);
  const labels = (data.class_labels as unknown[]).map(String);
  const tables = data.probability_tables as unknown[][];
  return labels.map((label, c) => {
    const rows = (tables[c] ?? []).map((row, i) => numbers(row, `class ${label} threshold ${i}`));
    const roc: [number, number][] = [];
    const pr: [number, number][] = [];
    for (const [tp = 0, fp = 0, tn = 0, fn = 0] of rows) {
      const tpr = tp + fn > 0 ? tp / (tp + fn) : 0;
      const fpr = fp + tn > 0 ? fp / (fp + tn) : 0;
      roc.push([fpr, tpr]);
      if (tp + fp > 0) pr.push([tpr, tp / (tp + fp)]);
    }
    return { label, roc: sortedCurve(roc), pr: sortedCurve(pr) };
  });
}

export interface Histogram {
  edges: number[];
  counts: number[];
}

/** Residuals: a histogram of bin counts between edges. */
export function residualsHistogram(value: unknown): Histogram {
  const data = dataOf(value);
  return { edges: numbers(data.bin_edges, "bin_edges"), counts: numbers(data.bin_counts, "bin_counts") };
}

export interface PredictionsChart {
  /** The true value at each bin's centre. */
  x: number[];
  predicted: number[];
  lower: number[];
  upper: number[];
  counts: number[];
}

/** Predictions: the average prediction per bin of true values, ± its error; a perfect
 * model lies on the diagonal (predicted = true). */
export function predictionsChart(value: unknown): PredictionsChart {
  const data = dataOf(value);
  const edges = numbers(data.bin_edges, "bin_edges");
  const averages = numbers(data.bin_averages, "bin_averages");
  const errors = numbers(data.bin_errors, "bin_errors");
  const centers = averages.map((_, i) => ((edges[i] ?? 0) + (edges[i + 1] ?? 0)) / 2);
  return {
    x: centers,
    predicted: averages,
    lower: averages.map((a, i) => a - (errors[i] ?? 0)),
    upper: averages.map((a, i) => a + (errors[i] ?? 0)),
    counts: numbers(data.bin_counts, "bin_counts"),
  };
}

/** The last value of a series (structured metrics show their latest logged value). */
export function lastValue(series: MetricSeries): unknown {
  return series.values[series.values.length - 1];
}

/** Whether a scalar series holds text rather than numbers (shown as text, not a chart). */
export function isTextSeries(values: readonly unknown[]): boolean {
  return values.length > 0 && values.every((v) => typeof v === "string" && toNumber(v) === null);
}
