/**
 * A run's log streams (stdout, stderr, …). The last lines are read once; new lines arrive
 * on the run's event stream and are appended, numbered so that none is shown twice or
 * missed. Until a run writes, no stream is selected; the first one it writes to (stdout
 * if there are several) is selected as it appears. Follow mode keeps the newest line in
 * view while the run is running.
 */
import { useEffect, useLayoutEffect, useRef, useState } from "preact/hooks";
import { listStreams, readLines } from "../api/logs";
import { ErrorNote, Loading } from "../components/ErrorNote";
import { chooseStream, mergeLines, withStream, type Lines } from "./logLines";
import { useRunEvent, type LogEvent } from "./stream";

const KEEP = 50_000;
const FIRST_READ = 10_000;

export function LogView({ runId, live }: { runId: string; live: boolean }) {
  const [streams, setStreams] = useState<Record<string, number> | null>(null);
  const [stream, setStream] = useState<string | null>(null);
  const [held, setHeld] = useState<Lines | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [follow, setFollow] = useState(true);
  const box = useRef<HTMLPreElement>(null);
  const heldRef = useRef(held);
  heldRef.current = held;
  const streamRef = useRef(stream);
  streamRef.current = stream;
  // The stream whose lines `held` are (null while they are being read), and the live
  // batches that arrived meanwhile, applied once the read is in.
  const loaded = useRef<string | null>(null);
  const pending = useRef<LogEvent[]>([]);

  useEffect(() => {
    listStreams(runId).then((found) => {
      // Streams that live events announced before this answer came are kept.
      setStreams((known) => ({ ...known, ...found }));
      setStream((current) => chooseStream(current, found));
    }, setError);
  }, [runId]);

  const load = (name: string, count: number): void => {
    const after = Math.max(-1, count - FIRST_READ - 1);
    readLines(runId, name, after, FIRST_READ + 10).then(
      (lines) => {
        if (streamRef.current !== name) return;
        const read = { first: lines[0]?.seq ?? after + 1, lines: lines.map((l) => l.line) };
        heldRef.current = read;
        loaded.current = name;
        setHeld(read);
        const waiting = pending.current.filter((event) => event.stream === name);
        pending.current = [];
        for (const event of waiting) append(event.first, event.lines);
      },
      setError,
    );
  };

  useEffect(() => {
    if (stream === null || streams === null) return;
    heldRef.current = null;
    loaded.current = null;
    setHeld(null);
    load(stream, streams[stream] ?? 0);
  }, [stream, streams === null]);

  const append = (first: number, lines: string[]): void => {
    const current = heldRef.current;
    if (!current) return;
    const merge = mergeLines(current, first, lines, KEEP);
    if (merge.kind === "gap") {
      // Lines written between our read and the stream's start: read them, then this batch.
      readLines(runId, streamRef.current ?? "stdout", merge.from - 1, merge.count).then((gap) => {
        const now = heldRef.current;
        if (!now || now.first + now.lines.length !== merge.from) return;
        if (gap.length === 0) {
          // The missing lines are gone: show the new ones rather than ask again forever.
          const jumped = { first, lines: [...lines] };
          heldRef.current = jumped;
          setHeld(jumped);
          return;
        }
        append(merge.from, gap.map((l) => l.line));
        append(first, lines);
      }, setError);
      return;
    }
    if (merge.kind === "merged") {
      heldRef.current = merge.held;
      setHeld(merge.held);
    }
  };

  useRunEvent(
    "log",
    (event) => {
      if (event.stream === streamRef.current) {
        if (loaded.current === event.stream) append(event.first, event.lines);
        else pending.current.push(event);
        return;
      }
      const end = event.first + event.lines.length;
      setStreams((known) => (known === null ? known : withStream(known, event.stream, end)));
      // The first stream written to is shown at once; its lines (this batch included) are
      // then read like any selected stream's, and later batches appended.
      setStream((current) => chooseStream(current, { [event.stream]: end }));
    },
    [runId],
  );

  useLayoutEffect(() => {
    if (follow && box.current) box.current.scrollTop = box.current.scrollHeight;
  }, [held, follow]);

  if (error) return <ErrorNote error={error} what="logs" />;
  if (streams === null) return <Loading what="log streams" />;
  const names = Object.keys(streams).sort();
  if (names.length === 0 && !live) return <p class="muted">This run wrote no logs.</p>;
  return (
    <div class="logs">
      <div class="log-toolbar">
        <div class="segmented" role="tablist" aria-label="Log streams">
          {names.map((name) => (
            <button
              type="button"
              role="tab"
              aria-selected={name === stream}
              class={name === stream ? "seg active" : "seg"}
              key={name}
              onClick={() => setStream(name)}
            >
              {name}
            </button>
          ))}
        </div>
        <label class="check">
          <input type="checkbox" checked={follow} onChange={(e) => setFollow((e.target as HTMLInputElement).checked)} />
          Follow{live ? " (live)" : ""}
        </label>
      </div>
      {held === null && names.length ? (
        <Loading what={stream ?? "log"} />
      ) : (
        <pre
          class="log-view"
          ref={box}
          data-testid="log-view"
          data-stream={stream ?? ""}
          tabIndex={0}
          aria-label={`Log ${stream ?? ""}`}
          onScroll={(event) => {
            const el = event.currentTarget;
            const atBottom = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
            if (!atBottom && follow) setFollow(false);
          }}
        >
          {held && held.first > 0 ? `… ${held.first.toLocaleString()} earlier lines not shown\n` : ""}
          {held ? held.lines.join("\n") : live ? "Waiting for output…" : ""}
        </pre>
      )}
    </div>
  );
}
