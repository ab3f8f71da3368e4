/** Experiments of the workspace. */
import { get, query, wsPath } from "./http";

export interface Experiment {
  experimentId: number;
  name: string;
  createdUtc: string;
  archived: boolean;
  runCount: number;
  activeRunCount: number;
  lastActivityUtc: string | null;
}

export const listExperiments = (includeArchived: boolean, signal?: AbortSignal): Promise<Experiment[]> =>
  get<Experiment[]>(wsPath(`/experiments${query({ include_archived: includeArchived })}`), signal);

export const getExperiment = (name: string): Promise<Experiment> =>
  get<Experiment>(wsPath(`/experiments/${encodeURIComponent(name)}`));

/** The live stream of an experiment's run statuses (`status`, `created`, `ping`). */
export const experimentEventsUrl = (name: string): string =>
  wsPath(`/experiments/${encodeURIComponent(name)}/events`);
