/** Runs: documents, the runs table search, and the changes a contributor may make. */
import { get, request, wsPath } from "./http";

export const TERMINAL_STATUSES = ["Completed", "Failed", "Canceled"] as const;
export const ALL_STATUSES = [
  "NotStarted",
  "Queued",
  "Preparing",
  "Starting",
  "Running",
  "NotResponding",
  "CancelRequested",
  "Finalizing",
  "Completed",
  "Failed",
  "Canceled",
] as const;

export function isTerminal(status: string): boolean {
  return (TERMINAL_STATUSES as readonly string[]).includes(status);
}

/** Queued or working: what has a Cancel button and a live duration. */
export function isActive(status: string): boolean {
  return !isTerminal(status) && status !== "NotStarted";
}

export interface RunError {
  code: string;
  message: string;
}

export interface RunDocument {
  runId: string;
  runNumber: number;
  experimentName: string;
  experimentId: number;
  displayName: string | null;
  description: string | null;
  status: string;
  target: string;
  runType: string;
  parentRunId: string | null;
  rootRunId: string | null;
  createdUtc: string;
  startTimeUtc: string | null;
  endTimeUtc: string | null;
  submittedBy: string | null;
  tags: Record<string, string | null>;
  properties: Record<string, string>;
  runDefinition: Record<string, unknown>;
  logFiles: Record<string, string>;
  error: RunError | null;
}

export interface MetricSummary {
  last: number | string | null;
  min: number | string | null;
  max: number | string | null;
  last_step: number | null;
  count: number;
}

export interface RunRow {
  run: RunDocument;
  metrics: Record<string, MetricSummary>;
  children: { total: number; by_status: Record<string, number> };
}

export interface RunTableRequest {
  experiment: string;
  parent?: string | null;
  roots_only?: boolean;
  status?: string[];
  tags?: Record<string, string | null>;
  properties?: Record<string, string | null>;
  submitted_by?: string[];
  text?: string;
  metrics?: string[];
  sort?: string;
  descending?: boolean;
  offset: number;
  limit: number;
  /** False skips counting the matches (later pages of a scroll); `total` is then null. */
  with_total?: boolean;
}

export interface RunTablePage {
  total: number | null;
  offset: number;
  rows: RunRow[];
}

export const searchRunTable = (body: RunTableRequest, signal?: AbortSignal): Promise<RunTablePage> =>
  request<RunTablePage>("POST", wsPath("/runs/table"), body, signal);

/** Distinct values for filter pickers and the column chooser. */
export const tableValues = (experiment: string, field: string): Promise<string[]> =>
  request<{ values: string[] }>("POST", wsPath("/runs/table/values"), { experiment, field }).then(
    (answer) => answer.values,
  );

const runPath = (runId: string): string => wsPath(`/runs/${encodeURIComponent(runId)}`);

export const getRun = (runId: string, signal?: AbortSignal): Promise<RunDocument> =>
  get<RunDocument>(runPath(runId), signal);

export const updateRun = (runId: string, changes: { display_name?: string; description?: string }): Promise<undefined> =>
  request<undefined>("PATCH", runPath(runId), changes);

export const setTags = (runId: string, tags: Record<string, string | null>): Promise<undefined> =>
  request<undefined>("PUT", `${runPath(runId)}/tags`, { tags });

export const removeTags = (runId: string, keys: string[]): Promise<undefined> =>
  request<undefined>("POST", `${runPath(runId)}/tags/remove`, { keys });

/** Cancel as `run.cancel()` does: answers CancelRequested (submitted) or Canceled. */
export const cancelRun = (runId: string): Promise<{ status: string }> =>
  request<{ status: string }>("POST", `${runPath(runId)}/cancel`);

/** The run's live stream: status, metric points and log lines as they arrive. */
export const runEventsUrl = (runId: string, fromStart: boolean, metrics = true, logs = true): string =>
  `${runPath(runId)}/events?metrics=${metrics}&logs=${logs}&from_start=${fromStart}`;
