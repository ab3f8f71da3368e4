/**
 * The runs of an experiment (or a run's children) as a virtualized table: pages of rows
 * are fetched by offset as they scroll into view, so 100,000 runs scroll smoothly. Child
 * runs expand in place to any depth. Statuses of loaded rows follow the experiment's
 * live event stream.
 */
import type { ComponentChildren } from "preact";
import { useEffect, useMemo, useReducer, useRef, useState } from "preact/hooks";
import { subscribe } from "../api/events";
import { experimentEventsUrl } from "../api/experiments";
import { isActive, searchRunTable, type RunDocument, type RunRow } from "../api/runs";
import { useNow } from "../app/useAsync";
import type { MetricColumn, RunsQuery, Sort, SortKey } from "../app/url";
import { ErrorNote } from "../components/ErrorNote";
import { Link } from "../components/Link";
import { StatusBadge } from "../components/StatusBadge";
import { formatDuration, formatTime, formatValue, runDurationMs } from "../format/values";
import { childSummary, tableRequest } from "./request";
import { useVirtualRows } from "./useVirtualRows";

const PAGE = 100;
const ROW_HEIGHT = 38;

type Item = number | { row: RunRow; depth: number } | { loading: true; depth: number };

interface Column {
  id: string;
  label: string;
  /** Pixels: every row lays its cells out alike, whatever their content. */
  width: number;
  sort: SortKey | null;
  render: (row: RunRow, ctx: CellContext) => ComponentChildren;
}

interface CellContext {
  now: number;
  depth: number;
  expanded: boolean;
  toggle: () => void;
}

function keyValues(map: Record<string, string | null>) {
  const entries = Object.entries(map);
  if (entries.length === 0) return null;
  return (
    <span class="chips" title={entries.map(([k, v]) => (v === null ? k : `${k}: ${v}`)).join("\n")}>
      {entries.slice(0, 3).map(([k, v]) => (
        <span class="chip" key={k}>
          {v === null ? k : `${k}: ${v}`}
        </span>
      ))}
      {entries.length > 3 ? <span class="chip chip-more">+{entries.length - 3}</span> : null}
    </span>
  );
}

function runName(run: RunDocument): string {
  return run.displayName || run.runId;
}

function columnsFor(metricColumns: readonly MetricColumn[]): Column[] {
  const fixed: Column[] = [
    {
      id: "status",
      label: "Status",
      width: 140,
      sort: { kind: "field", key: "status" },
      render: (row) => <StatusBadge status={row.run.status} />,
    },
    {
      id: "name",
      label: "Display name",
      width: 300,
      sort: { kind: "field", key: "name" },
      render: (row, ctx) => (
        <span class="name-cell" style={{ paddingLeft: `${ctx.depth * 18}px` }}>
          {row.children.total > 0 ? (
            <button
              type="button"
              class="tree-toggle"
              aria-expanded={ctx.expanded}
              aria-label={`${ctx.expanded ? "Collapse" : "Expand"} child runs of ${runName(row.run)}`}
              onClick={ctx.toggle}
            >
              {ctx.expanded ? "▾" : "▸"}
            </button>
          ) : (
            <span class="tree-spacer" />
          )}
          <span class="name-text">
            <Link to={{ page: "run", runId: row.run.runId, tab: "overview", zoom: {}, file: null }} title={row.run.runId}>
              {runName(row.run)}
            </Link>
            {row.children.total > 0 ? (
              <span class="children-count">
                {row.children.total} child{row.children.total === 1 ? "" : "ren"}
                {childSummary(row.children.by_status) ? ` · ${childSummary(row.children.by_status)}` : ""}
              </span>
            ) : null}
          </span>
        </span>
      ),
    },
    {
      id: "created",
      label: "Created",
      width: 176,
      sort: { kind: "field", key: "created" },
      render: (row) => formatTime(row.run.createdUtc),
    },
    {
      id: "duration",
      label: "Duration",
      width: 112,
      sort: { kind: "field", key: "duration" },
      render: (row, ctx) => formatDuration(runDurationMs(row.run, ctx.now)),
    },
    {
      id: "target",
      label: "Compute target",
      width: 130,
      sort: { kind: "field", key: "target" },
      render: (row) => row.run.target,
    },
    {
      id: "submitter",
      label: "Submitted by",
      width: 120,
      sort: { kind: "field", key: "submitter" },
      render: (row) => row.run.submittedBy ?? "",
    },
    { id: "tags", label: "Tags", width: 200, sort: null, render: (row) => keyValues(row.run.tags) },
    {
      id: "properties",
      label: "Properties",
      width: 200,
      sort: null,
      render: (row) => keyValues(row.run.properties),
    },
  ];
  const metrics: Column[] = metricColumns.map((column) => ({
    id: `metric:${column.agg}:${column.name}`,
    label: `${column.name} (${column.agg})`,
    width: 130,
    sort: { kind: "metric", column },
    render: (row) => {
      const summary = row.metrics[column.name];
      return summary ? <span class="num">{formatValue(summary[column.agg])}</span> : "";
    },
  }));
  // Chosen metric columns come right after the name, where they are seen without scrolling.
  return [...fixed.slice(0, 2), ...metrics, ...fixed.slice(2)];
}

function sameSortKey(a: SortKey, b: SortKey): boolean {
  if (a.kind === "field" && b.kind === "field") return a.key === b.key;
  if (a.kind === "metric" && b.kind === "metric") return a.column.name === b.column.name && a.column.agg === b.column.agg;
  return false;
}

class RowCache {
  total = -1;
  pages = new Map<number, RunRow[]>();
  pending = new Set<number>();
  children = new Map<string, RunRow[] | "loading">();
  byId = new Map<string, RunRow>();
  /** Counts changes of `children`, so the flattened tree is rebuilt when they arrive. */
  childVersion = 0;

  remember(rows: RunRow[]): void {
    for (const row of rows) this.byId.set(row.run.runId, row);
  }
}

export function RunsTable(props: {
  experiment: string;
  query: RunsQuery;
  parent?: string;
  onSort?: (sort: Sort) => void;
  label: string;
}) {
  const { experiment, query, parent = null } = props;
  const queryKey = JSON.stringify([experiment, query, parent]);
  const cache = useRef(new RowCache());
  const [, bump] = useReducer((n: number) => n + 1, 0);
  const [expanded, setExpanded] = useState<ReadonlySet<string>>(new Set());
  const [error, setError] = useState<unknown>(null);
  const generation = useRef(0);

  const loadPage = (page: number, replace = false): void => {
    const c = cache.current;
    if (c.pending.has(page) || (!replace && c.pages.has(page))) return;
    c.pending.add(page);
    const mine = generation.current;
    // Counting every match costs the server a query: only the first page (and refreshes) ask.
    const withTotal = page === 0 || replace || c.total < 0;
    searchRunTable({ ...tableRequest(experiment, query, page * PAGE, PAGE, parent), with_total: withTotal }).then(
      (answer) => {
        if (mine !== generation.current) return;
        c.pending.delete(page);
        if (answer.total !== null) c.total = answer.total;
        c.pages.set(page, answer.rows);
        c.remember(answer.rows);
        setError(null);
        bump(0);
      },
      (caught: unknown) => {
        if (mine !== generation.current) return;
        c.pending.delete(page);
        setError(caught);
      },
    );
  };

  // A new query starts from an empty cache.
  useEffect(() => {
    generation.current += 1;
    cache.current = new RowCache();
    setExpanded(new Set());
    setError(null);
    loadPage(0);
    bump(0);
  }, [queryKey]);

  const loadChildren = (runId: string): void => {
    const c = cache.current;
    if (!c.children.has(runId)) c.children.set(runId, "loading");
    const mine = generation.current;
    searchRunTable(tableRequest(experiment, query, 0, 1000, runId)).then(
      (answer) => {
        if (mine !== generation.current) return;
        c.children.set(runId, answer.rows);
        c.childVersion += 1;
        c.remember(answer.rows);
        bump(0);
      },
      (caught: unknown) => {
        c.children.delete(runId);
        setError(caught);
      },
    );
  };

  const toggle = (runId: string): void => {
    const next = new Set(expanded);
    if (next.has(runId)) next.delete(runId);
    else {
      next.add(runId);
      if (!cache.current.children.has(runId)) loadChildren(runId);
    }
    setExpanded(next);
  };

  // Live: statuses of loaded runs change in place; new runs refresh the loaded pages.
  useEffect(() => {
    let refresh: ReturnType<typeof setTimeout> | undefined;
    const onStatus = (data: unknown): void => {
      const event = data as { run_id: string; status: string; start_time_utc?: string | null; end_time_utc?: string | null; error?: RunDocument["error"] };
      const row = cache.current.byId.get(event.run_id);
      if (!row) return;
      row.run = {
        ...row.run,
        status: event.status,
        startTimeUtc: event.start_time_utc ?? row.run.startTimeUtc,
        endTimeUtc: event.end_time_utc ?? row.run.endTimeUtc,
        error: event.error ?? row.run.error,
      };
      bump(0);
    };
    const onCreated = (): void => {
      clearTimeout(refresh);
      refresh = setTimeout(() => {
        for (const page of [...cache.current.pages.keys()]) loadPage(page, true);
        for (const runId of cache.current.children.keys()) loadChildren(runId);
      }, 500);
    };
    const stop = subscribe(experimentEventsUrl(experiment), { status: onStatus, created: onCreated });
    return () => {
      clearTimeout(refresh);
      stop();
    };
  }, [queryKey]);

  const c = cache.current;
  const total = Math.max(0, c.total);
  const items: Item[] = useMemo(() => {
    const out: Item[] = [];
    const addChildren = (runId: string, depth: number): void => {
      const kids = c.children.get(runId);
      if (kids === undefined) return;
      if (kids === "loading") {
        out.push({ loading: true, depth });
        return;
      }
      for (const row of kids) {
        out.push({ row, depth });
        if (expanded.has(row.run.runId)) addChildren(row.run.runId, depth + 1);
      }
    };
    for (let i = 0; i < total; i++) {
      out.push(i);
      if (expanded.size) {
        const row = c.pages.get(Math.floor(i / PAGE))?.[i % PAGE];
        if (row && expanded.has(row.run.runId)) addChildren(row.run.runId, 1);
      }
    }
    return out;
  }, [c, total, expanded, c.childVersion]);

  const { scrollRef, items: virtualItems, totalSize } = useVirtualRows(items.length, ROW_HEIGHT);

  // Fetch the pages of the rows in view.
  const first = virtualItems[0]?.index ?? 0;
  const last = virtualItems[virtualItems.length - 1]?.index ?? 0;
  useEffect(() => {
    for (let index = first; index <= last; index++) {
      const item = items[index];
      if (typeof item === "number") loadPage(Math.floor(item / PAGE));
    }
  }, [first, last, items]);

  const columns = useMemo(() => columnsFor(query.columns), [JSON.stringify(query.columns)]);
  const template = columns.map((col) => `${col.width}px`).join(" ");
  const rowWidth = columns.reduce((sum, col) => sum + col.width, 0);
  const anyActive = virtualItems.some((v) => {
    const item = items[v.index];
    const row = typeof item === "number" ? c.pages.get(Math.floor(item / PAGE))?.[item % PAGE] : item && "row" in item ? item.row : undefined;
    return row ? isActive(row.run.status) : false;
  });
  const now = useNow(anyActive);

  const rowOf = (item: Item | undefined): { row: RunRow | null; depth: number } => {
    if (item === undefined) return { row: null, depth: 0 };
    if (typeof item === "number") return { row: c.pages.get(Math.floor(item / PAGE))?.[item % PAGE] ?? null, depth: 0 };
    if ("row" in item) return { row: item.row, depth: item.depth };
    return { row: null, depth: item.depth };
  };

  return (
    <div class="runs-table-wrap">
      {error ? <ErrorNote error={error} what="runs" /> : null}
      <div class="table-meta" aria-live="polite">
        {c.total < 0 ? "Loading runs…" : `${c.total.toLocaleString()} ${parent ? "child " : "top-level "}run${c.total === 1 ? "" : "s"}`}
      </div>
      <div
        class="vtable"
        ref={scrollRef}
        role="table"
        aria-label={props.label}
        aria-rowcount={items.length + 1}
        data-testid="runs-table"
      >
        <div class="vrow vhead" role="row" aria-rowindex={1} style={{ gridTemplateColumns: template, width: `${rowWidth}px` }}>
          {columns.map((col) => {
            const active = col.sort !== null && sameSortKey(col.sort, query.sort.by);
            const ariaSort = active ? (query.sort.descending ? "descending" : "ascending") : "none";
            return (
              <div role="columnheader" class="vcell" key={col.id} aria-sort={col.sort ? ariaSort : undefined}>
                {col.sort && props.onSort ? (
                  <button
                    type="button"
                    class="sort-button"
                    onClick={() => {
                      const by = col.sort as SortKey;
                      props.onSort?.({ by, descending: active ? !query.sort.descending : by.kind !== "field" || by.key !== "name" });
                    }}
                  >
                    {col.label}
                    <span class="sort-arrow" aria-hidden="true">
                      {active ? (query.sort.descending ? "▾" : "▴") : ""}
                    </span>
                  </button>
                ) : (
                  col.label
                )}
              </div>
            );
          })}
        </div>
        <div class="vbody" role="rowgroup" style={{ height: `${totalSize}px`, width: `${rowWidth}px` }}>
          {virtualItems.map((virtual) => {
            const item = items[virtual.index];
            const { row, depth } = rowOf(item);
            const style = { transform: `translateY(${virtual.start}px)`, height: `${ROW_HEIGHT}px`, gridTemplateColumns: template, width: `${rowWidth}px` };
            if (!row) {
              return (
                <div class="vrow vrow-placeholder" role="row" aria-rowindex={virtual.index + 2} key={`p${virtual.index}`} style={style}>
                  <div role="cell" class="vcell muted" style={{ paddingLeft: `${12 + depth * 18}px` }}>
                    Loading…
                  </div>
                </div>
              );
            }
            const ctx: CellContext = { now, depth, expanded: expanded.has(row.run.runId), toggle: () => toggle(row.run.runId) };
            return (
              <div
                class={depth ? "vrow vrow-child" : "vrow"}
                role="row"
                aria-rowindex={virtual.index + 2}
                aria-level={depth + 1}
                key={row.run.runId}
                style={style}
                data-testid="run-row"
                data-run-id={row.run.runId}
              >
                {columns.map((col) => (
                  <div role="cell" class="vcell" key={col.id}>
                    {col.render(row, ctx)}
                  </div>
                ))}
              </div>
            );
          })}
        </div>
        {c.total === 0 ? <div class="empty-rows">No runs match.</div> : null}
      </div>
    </div>
  );
}
