/**
 * Where a run's event stream stands, kept by the page from the stream's own events, so a
 * stream that drops reopens where it stopped (the server's `resume`): nothing logged
 * meanwhile is lost, nothing already shown comes twice.
 */

export interface StreamCursor {
  /** Per metric: name, column, last step and last sequence number received. */
  m: [string, string, number, number][];
  /** Per log stream: the last line number received. */
  l: [string, number][];
}

export class RunCursor {
  private metrics = new Map<string, [string, string, number, number]>();
  private logs = new Map<string, number>();
  private known = false;

  /** The stream's `cursor` event: where it started. */
  start(cursor: StreamCursor): void {
    this.metrics.clear();
    this.logs.clear();
    for (const entry of cursor.m) this.metrics.set(JSON.stringify([entry[0], entry[1]]), entry);
    for (const [stream, last] of cursor.l) this.logs.set(stream, last);
    this.known = true;
  }

  /** A metric event: its last point is the metric's place now. */
  metric(event: { name: string; column: string; steps: number[]; last_seq?: number | null }): void {
    const step = event.steps[event.steps.length - 1];
    if (step === undefined || event.last_seq === undefined || event.last_seq === null) return;
    this.metrics.set(JSON.stringify([event.name, event.column]), [event.name, event.column, step, event.last_seq]);
  }

  /** A log event: its last line is the stream's place now. */
  log(event: { stream: string; first: number; lines: string[] }): void {
    if (!event.lines.length) return;
    const last = event.first + event.lines.length - 1;
    this.logs.set(event.stream, Math.max(last, this.logs.get(event.stream) ?? -1));
  }

  /** The cursor to resume from (null before the stream said where it started). */
  value(): StreamCursor | null {
    if (!this.known) return null;
    return { m: [...this.metrics.values()], l: [...this.logs.entries()] };
  }
}

/** A run stream's address to reopen at: resuming from the cursor when there is one. */
export function resumeUrl(base: string, cursor: StreamCursor | null): string {
  if (cursor === null) return base;
  return `${base}&resume=${encodeURIComponent(JSON.stringify(cursor))}`;
}
