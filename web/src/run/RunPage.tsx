/** A run's page: header with status and Cancel, tabs as in the Azure studio, live updates. */
import { useEffect, useMemo, useState } from "preact/hooks";
import { subscribe } from "../api/events";
import { ApiError } from "../api/http";
import { cancelRun, getRun, isTerminal, runEventsUrl, type RunDocument } from "../api/runs";
import { useStudio } from "../app/context";
import { useAsync, useNow } from "../app/useAsync";
import { emptyQuery, RUN_TABS, type RunTab, type View } from "../app/url";
import { ErrorNote, Loading } from "../components/ErrorNote";
import { Link } from "../components/Link";
import { StatusBadge } from "../components/StatusBadge";
import { formatDuration, runDurationMs } from "../format/values";
import { ChildrenTab } from "./ChildrenTab";
import { ImagesTab } from "./ImagesTab";
import { MetricsTab } from "./MetricsTab";
import { OutputsTab } from "./OutputsTab";
import { OverviewTab } from "./OverviewTab";
import { SnapshotTab } from "./SnapshotTab";
import { resumeUrl, RunCursor, type StreamCursor } from "./cursor";
import { RunStream, RunStreamContext, type LogEvent, type MetricEvent, type StatusEvent } from "./stream";

type RunView = Extract<View, { page: "run" }>;

const TAB_NAMES: Record<RunTab, string> = {
  overview: "Overview",
  metrics: "Metrics",
  images: "Images",
  children: "Child runs",
  outputs: "Outputs + logs",
  snapshot: "Snapshot",
};

/** Statuses from which the Cancel button is offered (the server decides in the end). */
const CANCELABLE = ["NotStarted", "Queued", "Preparing", "Starting", "Running", "NotResponding"];

function CancelDialog(props: { run: RunDocument; onClose: () => void; onCanceled: (status: string) => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const confirm = async (): Promise<void> => {
    setBusy(true);
    try {
      const answer = await cancelRun(props.run.runId);
      props.onCanceled(answer.status);
      props.onClose();
    } catch (caught) {
      setError(caught instanceof ApiError ? caught.message : String(caught));
      setBusy(false);
    }
  };
  useEffect(() => {
    const onKey = (event: KeyboardEvent): void => {
      if (event.key === "Escape") props.onClose();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);
  return (
    <div class="modal-backdrop">
      <div class="modal" role="dialog" aria-modal="true" aria-labelledby="cancel-title" data-testid="cancel-dialog">
        <h2 id="cancel-title">Cancel this run?</h2>
        <p>
          <strong>{props.run.displayName || props.run.runId}</strong> will be stopped on its compute target and marked
          Canceled. This cannot be undone.
        </p>
        {error ? (
          <p class="note note-error" role="alert">
            {error}
          </p>
        ) : null}
        <div class="modal-actions">
          <button type="button" class="btn" onClick={props.onClose} disabled={busy}>
            Keep it running
          </button>
          <button type="button" class="btn btn-danger" onClick={confirm} disabled={busy} autoFocus>
            Yes, cancel run
          </button>
        </div>
      </div>
    </div>
  );
}

export function RunPage({ view }: { view: RunView }) {
  const { navigate, canWrite } = useStudio();
  const runId = view.runId;
  const [result, setRun, reload] = useAsync((signal) => getRun(runId, signal), [runId]);
  const stream = useMemo(() => new RunStream(), [runId]);
  const [confirming, setConfirming] = useState(false);
  const [streaming, setStreaming] = useState(false);
  const run = result.state === "done" ? result.value : null;

  // Open the live stream once for a run that has not ended; it closes on the stream's end.
  useEffect(() => setStreaming(false), [runId]);
  useEffect(() => {
    if (run && !isTerminal(run.status)) setStreaming(true);
  }, [run?.runId, run?.status]);
  useEffect(() => {
    if (!streaming) return;
    // A dropped stream reopens where it stopped: the cursor follows every event received.
    const cursor = new RunCursor();
    const url = runEventsUrl(runId, false);
    return subscribe(
      url,
      {
        cursor: (data) => cursor.start(data as StreamCursor),
        status: (data) => {
          stream.emit("status", data as StatusEvent);
          reload();
        },
        metric: (data) => {
          cursor.metric(data as MetricEvent);
          stream.emit("metric", data as MetricEvent);
        },
        log: (data) => {
          cursor.log(data as LogEvent);
          stream.emit("log", data as LogEvent);
        },
        end: () => {
          reload();
          setStreaming(false);
        },
      },
      { url: () => resumeUrl(url, cursor.value()) },
    );
  }, [streaming, runId]);

  const now = useNow(run !== null && !isTerminal(run.status));

  if (result.state === "loading") return <Loading what="the run" />;
  if (result.state === "error") return <ErrorNote error={result.error} what={`run ${runId}`} />;
  const doc = result.value;
  const tab = view.tab;
  const go = (next: RunTab): void => navigate({ ...view, tab: next, zoom: next === view.tab ? view.zoom : {}, file: null });

  return (
    <RunStreamContext.Provider value={stream}>
      <section aria-labelledby="run-title" data-testid="run-page" data-run-id={doc.runId}>
        <nav class="breadcrumb" aria-label="Breadcrumb">
          <Link to={{ page: "experiments", archived: false }}>Experiments</Link>
          <span aria-hidden="true">›</span>
          <Link to={{ page: "runs", experiment: doc.experimentName, query: emptyQuery() }}>{doc.experimentName}</Link>
          {doc.parentRunId ? (
            <>
              <span aria-hidden="true">›</span>
              <Link to={{ page: "run", runId: doc.parentRunId, tab: "children", zoom: {}, file: null }}>parent run</Link>
            </>
          ) : null}
          <span aria-hidden="true">›</span>
          <span>{doc.displayName || doc.runId}</span>
        </nav>
        <div class="page-head">
          <div>
            <h1 id="run-title">
              {doc.displayName || doc.runId}
              <StatusBadge status={doc.status} />
            </h1>
            <p class="muted">
              Run {doc.runNumber} · <span class="mono">{doc.runId}</span>
              {runDurationMs(doc, now) !== null ? ` · ${formatDuration(runDurationMs(doc, now))}` : ""}
              {streaming ? <span class="live-dot" title="Live: updates as they happen"> live</span> : null}
            </p>
          </div>
          <div class="page-actions">
            {canWrite && CANCELABLE.includes(doc.status) ? (
              <button type="button" class="btn btn-danger-outline" onClick={() => setConfirming(true)} data-testid="cancel-run">
                Cancel run
              </button>
            ) : null}
            <button type="button" class="btn" onClick={reload}>
              Refresh
            </button>
          </div>
        </div>
        <div class="tabs" role="tablist" aria-label="Run views">
          {RUN_TABS.map((name) => (
            <button
              type="button"
              role="tab"
              key={name}
              id={`tab-${name}`}
              aria-selected={tab === name}
              aria-controls={`panel-${name}`}
              tabIndex={tab === name ? 0 : -1}
              class={tab === name ? "tab active" : "tab"}
              onClick={() => go(name)}
              onKeyDown={(event) => {
                const index = RUN_TABS.indexOf(name);
                const step = event.key === "ArrowRight" ? 1 : event.key === "ArrowLeft" ? -1 : 0;
                if (step) {
                  const next = RUN_TABS[(index + step + RUN_TABS.length) % RUN_TABS.length] as RunTab;
                  go(next);
                  document.getElementById(`tab-${next}`)?.focus();
                }
              }}
            >
              {TAB_NAMES[name]}
            </button>
          ))}
        </div>
        <div class="tabpanel" role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`}>
          {tab === "overview" ? (
            <OverviewTab run={doc} now={now} onChanged={reload} onRun={setRun} />
          ) : tab === "metrics" ? (
            <MetricsTab run={doc} zoom={view.zoom} onZoom={(zoom) => navigate({ ...view, zoom }, { keepScroll: true })} />
          ) : tab === "images" ? (
            <ImagesTab run={doc} />
          ) : tab === "children" ? (
            <ChildrenTab run={doc} />
          ) : tab === "outputs" ? (
            <OutputsTab run={doc} file={view.file} onFile={(file) => navigate({ ...view, file })} live={streaming} />
          ) : (
            <SnapshotTab run={doc} file={view.file} onFile={(file) => navigate({ ...view, file })} />
          )}
        </div>
        {confirming ? (
          <CancelDialog
            run={doc}
            onClose={() => setConfirming(false)}
            onCanceled={(status) => {
              setRun({ ...doc, status });
              setStreaming(true);
              reload();
            }}
          />
        ) : null}
      </section>
    </RunStreamContext.Provider>
  );
}
