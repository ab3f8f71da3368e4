/** The source snapshot a submitted run was started from. */
import { encodePath, get, query, wsPath } from "./http";
import type { FileEntry, Preview } from "./files";

export interface Snapshot {
  snapshot_id: string;
  files: FileEntry[];
}

const base = (runId: string): string => wsPath(`/runs/${encodeURIComponent(runId)}/snapshot`);

export const getSnapshot = (runId: string): Promise<Snapshot> => get<Snapshot>(base(runId));

export const snapshotFileUrl = (runId: string, name: string): string => `${base(runId)}/files/${encodePath(name)}`;

export const previewSnapshotFile = (runId: string, name: string, maxBytes = 65536): Promise<Preview> =>
  get<Preview>(`${base(runId)}/preview/${encodePath(name)}${query({ max_bytes: maxBytes })}`);

export const snapshotZipUrl = (runId: string): string => `${base(runId)}/zip`;
