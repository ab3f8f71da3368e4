/** A run's metrics: the list, full series, and chart history (downsampled, zoomable). */
import { toNumber } from "../format/values";
import { get, query, wsPath } from "./http";

export type MetricKind =
  | "scalar"
  | "list"
  | "table"
  | "image"
  | "confusion_matrix"
  | "accuracy_table"
  | "residuals"
  | "predictions";

export interface MetricInfo {
  name: string;
  column: string;
  kind: MetricKind;
  description: string;
  count: number;
  last_value: unknown;
  last_step: number | null;
  min_value: number | string | null;
  max_value: number | string | null;
}

export interface MetricSeries {
  name: string;
  column: string;
  kind: MetricKind;
  description: string;
  steps: number[];
  values: unknown[];
  times: number[];
}

export interface History {
  count: number;
  downsampled: boolean;
  steps: number[];
  values: unknown[];
  min: (number | string | null)[];
  max: (number | string | null)[];
  counts: number[];
}

const base = (runId: string): string => wsPath(`/runs/${encodeURIComponent(runId)}/metrics`);

export const listMetrics = (runId: string, signal?: AbortSignal): Promise<MetricInfo[]> =>
  get<MetricInfo[]>(base(runId), signal);

export const getSeries = (runId: string, names: string[], signal?: AbortSignal): Promise<MetricSeries[]> =>
  get<MetricSeries[]>(`${base(runId)}/series${query({ name: names })}`, signal);

/** Buckets a whole chart asks for: about twice the pixels a chart card has across (each
 * bucket keeps its min and max, so no spike is lost). More is not seen, but is read,
 * sent, parsed and drawn: 1,000 buckets are half the bytes and time of 2,000. */
export const HISTORY_POINTS = 1000;
/** A zoomed range is asked at the same detail (full detail once it holds fewer points). */
export const ZOOM_POINTS = 1000;

/** The chart history's address (the entry script reads it early with the same one). */
export function historyUrl(runId: string, name: string, column: string, maxPoints: number, range?: [number, number]): string {
  return `${base(runId)}/history${query({
    name,
    column,
    max_points: maxPoints,
    min_step: range ? Math.floor(range[0]) : null,
    max_step: range ? Math.ceil(range[1]) : null,
  })}`;
}

export const getHistory = (
  runId: string,
  name: string,
  column: string,
  maxPoints: number,
  range?: [number, number],
  signal?: AbortSignal,
): Promise<History> => get<History>(historyUrl(runId, name, column, maxPoints, range), signal);

/** Whether a metric is drawn as a scalar line chart from its history (not text, not
 * a structured kind): what the metrics tab charts and the entry script reads early. */
export function isScalarChart(info: MetricInfo): boolean {
  return info.kind === "scalar" && !(typeof info.last_value === "string" && toNumber(info.last_value) === null);
}

/** The base of a run's metric routes (for early reads). */
export const metricsUrl = (runId: string): string => base(runId);
