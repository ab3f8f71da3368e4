/** A run's metrics: the list, full series, and chart history (downsampled, zoomable). */
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

export const getHistory = (
  runId: string,
  name: string,
  column: string,
  maxPoints: number,
  range?: [number, number],
  signal?: AbortSignal,
): Promise<History> =>
  get<History>(
    `${base(runId)}/history${query({
      name,
      column,
      max_points: maxPoints,
      min_step: range ? Math.floor(range[0]) : null,
      max_step: range ? Math.ceil(range[1]) : null,
    })}`,
    signal,
  );
