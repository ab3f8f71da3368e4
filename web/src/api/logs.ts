/** A run's log streams (stdout, stderr, …); live lines arrive on the run's event stream. */
import { get, query, wsPath } from "./http";

export interface LogLine {
  stream: string;
  seq: number;
  time: number | string;
  line: string;
}

const base = (runId: string): string => wsPath(`/runs/${encodeURIComponent(runId)}/logs`);

export const listStreams = (runId: string): Promise<Record<string, number>> =>
  get<Record<string, number>>(`${base(runId)}/streams`);

export const readLines = (runId: string, stream: string, after = -1, limit = 10000): Promise<LogLine[]> =>
  get<LogLine[]>(`${base(runId)}${query({ stream, after, limit })}`);
