/** Keeping a window of a log stream's lines as numbered batches arrive (possibly repeated). */

export interface Lines {
  /** Number of the first line held. */
  first: number;
  lines: string[];
}

export type Merge =
  | { kind: "merged"; held: Lines }
  | { kind: "unchanged" }
  /** Lines `from`..`first - 1` were never received: read them before this batch. */
  | { kind: "gap"; from: number; count: number };

/** Add a batch of lines numbered from `first`, dropping what is already held and the
 * oldest lines past `keep`. */
export function mergeLines(held: Lines, first: number, lines: readonly string[], keep: number): Merge {
  const next = held.first + held.lines.length;
  if (first > next) return { kind: "gap", from: next, count: first - next };
  const fresh = lines.slice(next - first);
  if (!fresh.length) return { kind: "unchanged" };
  let all = held.lines.concat(fresh);
  let start = held.first;
  if (all.length > keep) {
    start += all.length - keep;
    all = all.slice(all.length - keep);
  }
  return { kind: "merged", held: { first: start, lines: all } };
}

/** The stream to show: the one selected, or else stdout, or else the first by name (null
 * while the run has written to none). */
export function chooseStream(selected: string | null, streams: Readonly<Record<string, number>>): string | null {
  if (selected !== null) return selected;
  if (streams.stdout !== undefined) return "stdout";
  return Object.keys(streams).sort()[0] ?? null;
}

/** The streams known once a live batch of `stream` ending before line `end` has arrived
 * (the same object if that stream was known). */
export function withStream(streams: Record<string, number>, stream: string, end: number): Record<string, number> {
  return stream in streams ? streams : { ...streams, [stream]: end };
}
