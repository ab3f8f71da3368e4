/** A run's details, error, tags (editable), properties (read-only) and description (Markdown). */
import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { ApiError } from "../api/http";
import { removeTags, setTags, updateRun, type RunDocument } from "../api/runs";
import { useStudio } from "../app/context";
import { Link } from "../components/Link";
import { StatusBadge } from "../components/StatusBadge";
import { formatDuration, formatTime, runDurationMs } from "../format/values";
import { Markdown } from "./Markdown";

function message(caught: unknown): string {
  return caught instanceof ApiError ? caught.message : caught instanceof Error ? caught.message : String(caught);
}

function TagsEditor({ run, onChanged }: { run: RunDocument; onChanged: () => void }) {
  const { canWrite } = useStudio();
  const [editing, setEditing] = useState<string | null>(null);
  const [key, setKey] = useState("");
  const [value, setValue] = useState("");
  const [error, setError] = useState("");
  const entries = Object.entries(run.tags).sort(([a], [b]) => a.localeCompare(b));

  const save = async (event: Event): Promise<void> => {
    event.preventDefault();
    setError("");
    try {
      if (editing !== null && editing !== key.trim()) await removeTags(run.runId, [editing]);
      await setTags(run.runId, { [key.trim()]: value === "" ? null : value });
      setEditing(null);
      setKey("");
      setValue("");
      onChanged();
    } catch (caught) {
      setError(message(caught));
    }
  };

  const remove = async (tag: string): Promise<void> => {
    setError("");
    try {
      await removeTags(run.runId, [tag]);
      onChanged();
    } catch (caught) {
      setError(message(caught));
    }
  };

  return (
    <section class="card" aria-labelledby="tags-title" data-testid="tags">
      <h2 id="tags-title">Tags</h2>
      {entries.length === 0 ? <p class="muted">No tags.</p> : null}
      <ul class="kv-list">
        {entries.map(([k, v]) => (
          <li key={k} data-testid="tag">
            <span class="kv-key">{k}</span>
            <span class="kv-value">{v ?? <em class="muted">no value</em>}</span>
            {canWrite ? (
              <span class="kv-actions">
                <button
                  type="button"
                  class="btn btn-small btn-quiet"
                  aria-label={`Edit tag ${k}`}
                  onClick={() => {
                    setEditing(k);
                    setKey(k);
                    setValue(v ?? "");
                  }}
                >
                  Edit
                </button>
                <button type="button" class="btn btn-small btn-quiet" aria-label={`Remove tag ${k}`} onClick={() => remove(k)}>
                  Remove
                </button>
              </span>
            ) : null}
          </li>
        ))}
      </ul>
      {canWrite ? (
        <form class="inline-form" onSubmit={save}>
          <label class="field">
            <span>Tag key</span>
            <input type="text" value={key} required maxLength={100} onInput={(e) => setKey((e.target as HTMLInputElement).value)} />
          </label>
          <label class="field">
            <span>Tag value</span>
            <input type="text" value={value} maxLength={1000} placeholder="(none)" onInput={(e) => setValue((e.target as HTMLInputElement).value)} />
          </label>
          <button type="submit" class="btn btn-primary btn-small" disabled={key.trim() === ""}>
            {editing !== null ? "Save tag" : "Add tag"}
          </button>
          {editing !== null ? (
            <button
              type="button"
              class="btn btn-small btn-quiet"
              onClick={() => {
                setEditing(null);
                setKey("");
                setValue("");
              }}
            >
              Discard
            </button>
          ) : null}
        </form>
      ) : null}
      {error ? (
        <p class="note note-error" role="alert">
          {error}
        </p>
      ) : null}
    </section>
  );
}

function DescriptionEditor({ run, onChanged }: { run: RunDocument; onChanged: () => void }) {
  const { canWrite } = useStudio();
  const [draft, setDraft] = useState<string | null>(null);
  const [error, setError] = useState("");
  const save = async (): Promise<void> => {
    if (draft === null) return;
    try {
      await updateRun(run.runId, { description: draft });
      setDraft(null);
      setError("");
      onChanged();
    } catch (caught) {
      setError(message(caught));
    }
  };
  return (
    <section class="card" aria-labelledby="description-title">
      <div class="card-head">
        <h2 id="description-title">Description</h2>
        {canWrite && draft === null ? (
          <button type="button" class="btn btn-small" onClick={() => setDraft(run.description ?? "")}>
            Edit description
          </button>
        ) : null}
      </div>
      {draft !== null ? (
        <div class="description-edit">
          <label class="field">
            <span>Description (Markdown)</span>
            <textarea rows={8} maxLength={5000} value={draft} onInput={(e) => setDraft((e.target as HTMLTextAreaElement).value)} />
          </label>
          <div class="row-actions">
            <button type="button" class="btn btn-primary btn-small" onClick={save}>
              Save description
            </button>
            <button type="button" class="btn btn-small btn-quiet" onClick={() => setDraft(null)}>
              Discard
            </button>
          </div>
        </div>
      ) : run.description ? (
        <Markdown text={run.description} />
      ) : (
        <p class="muted">No description.</p>
      )}
      {error ? (
        <p class="note note-error" role="alert">
          {error}
        </p>
      ) : null}
    </section>
  );
}

export function OverviewTab(props: { run: RunDocument; now: number; onChanged: () => void; onRun: (run: RunDocument) => void }) {
  const { run, now, onChanged } = props;
  const details: [string, ComponentChildren][] = [
    ["Run ID", <span class="mono">{run.runId}</span>],
    ["Run number", run.runNumber],
    ["Status", <StatusBadge status={run.status} />],
    ["Display name", run.displayName ?? ""],
    ["Experiment", run.experimentName],
    ["Created", formatTime(run.createdUtc)],
    ["Started", formatTime(run.startTimeUtc)],
    ["Ended", formatTime(run.endTimeUtc)],
    ["Duration", formatDuration(runDurationMs(run, now))],
    ["Compute target", run.target],
    ["Run type", run.runType],
    ["Submitted by", run.submittedBy ?? ""],
    [
      "Parent run",
      run.parentRunId ? (
        <Link to={{ page: "run", runId: run.parentRunId, tab: "overview", zoom: {}, file: null }}>{run.parentRunId}</Link>
      ) : (
        ""
      ),
    ],
  ];
  const properties = Object.entries(run.properties).sort(([a], [b]) => a.localeCompare(b));
  const definition = Object.keys(run.runDefinition).length ? JSON.stringify(run.runDefinition, null, 2) : "";
  return (
    <div class="overview">
      <div class="overview-main">
        {run.error ? (
          <section class="card card-error" aria-labelledby="error-title" data-testid="run-error">
            <h2 id="error-title">Error: {run.error.code}</h2>
            <pre class="error-text">{run.error.message}</pre>
          </section>
        ) : null}
        <section class="card" aria-labelledby="details-title">
          <h2 id="details-title">Details</h2>
          <dl class="details">
            {details.map(([label, value]) => (
              <div class="detail" key={label}>
                <dt>{label}</dt>
                <dd>{value === "" ? <span class="muted">—</span> : value}</dd>
              </div>
            ))}
          </dl>
        </section>
        <DescriptionEditor run={run} onChanged={onChanged} />
        {definition ? (
          <section class="card" aria-labelledby="definition-title">
            <h2 id="definition-title">Run definition</h2>
            <pre class="code-block">{definition}</pre>
          </section>
        ) : null}
      </div>
      <div class="overview-side">
        <TagsEditor run={run} onChanged={onChanged} />
        <section class="card" aria-labelledby="properties-title" data-testid="properties">
          <h2 id="properties-title">Properties</h2>
          {properties.length === 0 ? <p class="muted">No properties.</p> : null}
          <ul class="kv-list">
            {properties.map(([k, v]) => (
              <li key={k}>
                <span class="kv-key">{k}</span>
                <span class="kv-value">{v}</span>
              </li>
            ))}
          </ul>
        </section>
      </div>
    </div>
  );
}
