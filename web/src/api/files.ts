/** A run's files (outputs, logs, images) and their previews. */
import { encodePath, get, query, wsPath } from "./http";

export interface FileEntry {
  name: string;
  size: number;
}

export interface Preview {
  name: string;
  size: number;
  content_type: string;
  kind: "text" | "image" | "binary";
  text: string | null;
  truncated: boolean;
}

const runBase = (runId: string): string => wsPath(`/runs/${encodeURIComponent(runId)}`);
const base = (runId: string): string => `${runBase(runId)}/files`;

export const listFileTree = (runId: string): Promise<FileEntry[]> =>
  get<{ files: FileEntry[] }>(`${runBase(runId)}/file-tree`).then((answer) => answer.files);

/** The URL of a run file's bytes (images show inline, other files download). */
export const fileUrl = (runId: string, name: string): string => `${base(runId)}/${encodePath(name)}`;

export const previewFile = (runId: string, name: string, maxBytes = 65536): Promise<Preview> =>
  get<Preview>(`${runBase(runId)}/file-preview/${encodePath(name)}${query({ max_bytes: maxBytes })}`);
