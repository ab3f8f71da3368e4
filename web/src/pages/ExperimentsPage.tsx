/** Every experiment of the workspace: runs, active runs, last activity; archived behind a toggle. */
import { useState } from "preact/hooks";
import { listExperiments, type Experiment } from "../api/experiments";
import { useStudio } from "../app/context";
import { useAsync, useNow } from "../app/useAsync";
import { emptyQuery } from "../app/url";
import { ErrorNote, Loading } from "../components/ErrorNote";
import { Link } from "../components/Link";
import { formatAgo, formatTime } from "../format/values";

type SortKey = "name" | "runCount" | "activeRunCount" | "lastActivityUtc";

function compare(a: Experiment, b: Experiment, key: SortKey): number {
  const x = a[key] ?? "";
  const y = b[key] ?? "";
  if (typeof x === "number" && typeof y === "number") return x - y;
  return String(x).localeCompare(String(y));
}

export function ExperimentsPage({ archived }: { archived: boolean }) {
  const { navigate } = useStudio();
  const [result] = useAsync((signal) => listExperiments(archived, signal), [archived]);
  const [filter, setFilter] = useState("");
  const [sort, setSort] = useState<{ key: SortKey; descending: boolean }>({ key: "lastActivityUtc", descending: true });
  const now = useNow(true, 30_000);

  const header = (key: SortKey, label: string, numeric = false) => {
    const active = sort.key === key;
    return (
      <th scope="col" class={numeric ? "num" : undefined} aria-sort={active ? (sort.descending ? "descending" : "ascending") : "none"}>
        <button
          type="button"
          class="sort-button"
          onClick={() => setSort({ key, descending: active ? !sort.descending : key !== "name" })}
        >
          {label}
          <span class="sort-arrow" aria-hidden="true">
            {active ? (sort.descending ? "▾" : "▴") : ""}
          </span>
        </button>
      </th>
    );
  };

  let body;
  if (result.state === "loading") body = <Loading what="experiments" />;
  else if (result.state === "error") body = <ErrorNote error={result.error} what="experiments" />;
  else {
    const needle = filter.trim().toLowerCase();
    const shown = result.value
      .filter((e) => !needle || e.name.toLowerCase().includes(needle))
      .sort((a, b) => (sort.descending ? -1 : 1) * compare(a, b, sort.key));
    body =
      result.value.length === 0 ? (
        <div class="empty">
          <h2>No experiments yet</h2>
          <p>
            Log a run with the SDK, e.g. <code>python examples/log_every_kind.py</code>, and it shows here.
          </p>
        </div>
      ) : (
        <table class="grid-table" data-testid="experiments-table">
          <thead>
            <tr>
              {header("name", "Experiment")}
              {header("runCount", "Runs", true)}
              {header("activeRunCount", "Active runs", true)}
              {header("lastActivityUtc", "Last activity")}
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((e) => (
              <tr key={e.name} data-testid="experiment-row">
                <td>
                  <Link to={{ page: "runs", experiment: e.name, query: emptyQuery() }} class="strong-link">
                    {e.name}
                  </Link>
                  {e.archived ? <span class="pill pill-muted">archived</span> : null}
                </td>
                <td class="num">{e.runCount.toLocaleString()}</td>
                <td class="num">
                  {e.activeRunCount > 0 ? <span class="pill pill-live">{e.activeRunCount.toLocaleString()}</span> : "0"}
                </td>
                <td title={formatTime(e.lastActivityUtc)}>{formatAgo(e.lastActivityUtc, now)}</td>
                <td>{formatTime(e.createdUtc)}</td>
              </tr>
            ))}
            {shown.length === 0 ? (
              <tr>
                <td colSpan={5} class="muted">
                  No experiment matches “{filter}”.
                </td>
              </tr>
            ) : null}
          </tbody>
        </table>
      );
  }

  return (
    <section aria-labelledby="experiments-title">
      <div class="page-head">
        <div>
          <h1 id="experiments-title">Experiments</h1>
          <p class="muted">Named groups of runs in this workspace.</p>
        </div>
      </div>
      <div class="toolbar">
        <label class="field field-inline">
          <span class="visually-hidden">Filter experiments by name</span>
          <input
            type="search"
            placeholder="Filter by name"
            value={filter}
            onInput={(e) => setFilter((e.target as HTMLInputElement).value)}
          />
        </label>
        <label class="check">
          <input
            type="checkbox"
            checked={archived}
            onChange={(e) => navigate({ page: "experiments", archived: (e.target as HTMLInputElement).checked }, { replace: true })}
          />
          Show archived
        </label>
      </div>
      {body}
    </section>
  );
}
