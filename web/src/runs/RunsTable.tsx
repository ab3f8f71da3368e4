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
import type { KeyColumn, MetricColumn, RunsQuery, Sort, SortKey } from "../app/url";
import { ErrorNote } from "../components/ErrorNote";
import { Link } from "../components/Link";
import { StatusBadge } from "../components/StatusBadge";
import { formatDuration, formatTime, formatValue, runDurationMs } from "../format/values";
import { childSummary, filterKey, PAGE, tableRequest } from "./request";
import { useVirtualRows } from "./useVirtualRows";

const ROW_HEIGHT = 38;

/** A row slot: a top-level row by index, a child of an expanded run by index, or a
 * child list still being counted. */
type Item = number | { parent: string; index: number; depth: number } | { loading: true; depth: number };

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

function keyValue(map: Record<string, string | null>, key: string) {
  if (!(key in map)) return "";
  const value = map[key];
  return value === null || value === undefined ? <span class="muted">(set, no value)</span> : value;
}

function columnsFor(metricColumns: readonly MetricColumn[], keyColumns: readonly KeyColumn[]): Column[] {
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
  const keyed: Column[] = keyColumns.map((column) => ({
    id: `${column.kind}:${column.key}`,
    label: `${column.kind === "tag" ? "tag" : "property"} ${column.key}`,
    width: 150,
    sort: { kind: "key", column },
    render: (row) => keyValue(column.kind === "tag" ? row.run.tags : row.run.properties, column.key),
  }));
  // Chosen columns come right after the name, where they are seen without scrolling.
  return [...fixed.slice(0, 2), ...metrics, ...keyed, ...fixed.slice(2)];
}

function sameSortKey(a: SortKey, b: SortKey): boolean {
  if (a.kind === "field" && b.kind === "field") return a.key === b.key;
  if (a.kind === "metric" && b.kind === "metric") return a.column.name === b.column.name && a.column.agg === b.column.agg;
  if (a.kind === "key" && b.kind === "key") return a.column.kind === b.column.kind && a.column.key === b.column.key;
  return false;
}

/** Pages of one list of rows (top-level runs, or one run's children), fetched by offset. */
class RowList {
  total = -1;
  pages = new Map<number, RunRow[]>();
  pending = new Set<number>();

  row(index: number): RunRow | null {
    return this.pages.get(Math.floor(index / PAGE))?.[index % PAGE] ?? null;
  }
}

class RowCache {
  roots = new RowList();
  /** The children of expanded runs, paged like the top-level list (a run may have 100,000). */
  children = new Map<string, RowList>();
  byId = new Map<string, RunRow>();
  /** Counts loaded pages, so the flattened tree is rebuilt when they arrive. */
  version = 0;

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
  const counted = useRef<{ key: string; total: number } | null>(null);

  /** Fetch page `page` of a list: the top-level runs (`of` null) or a run's children. */
  const loadPage = (of: string | null, page: number, replace = false): void => {
    const c = cache.current;
    const list = of === null ? c.roots : c.children.get(of);
    if (!list || list.pending.has(page) || (!replace && list.pages.has(page))) return;
    list.pending.add(page);
    const mine = generation.current;
    // Counting every match costs the server a query: only a list's first read (and
    // refreshes) ask, and a new sort of the same filter keeps the count it had.
    const withTotal = list.total < 0 || replace;
    // (The first page's request is the one the entry script may have sent already.)
    const body = { ...tableRequest(experiment, query, page * PAGE, PAGE, of ?? parent), with_total: withTotal };
    searchRunTable(body).then(
      (answer) => {
        if (mine !== generation.current) return;
        list.pending.delete(page);
        if (answer.total !== null) list.total = answer.total;
        if (of === null && answer.total !== null) counted.current = { key: filterKey(experiment, query, parent), total: answer.total };
        list.pages.set(page, answer.rows);
        c.remember(answer.rows);
        c.version += 1;
        setError(null);
        bump(0);
      },
      (caught: unknown) => {
        if (mine !== generation.current) return;
        list.pending.delete(page);
        setError(caught);
      },
    );
  };

  // A new query starts from an empty cache; the count carries over when only the sort or
  // the columns changed.
  useEffect(() => {
    generation.current += 1;
    const fresh = new RowCache();
    const known = counted.current;
    if (known && known.key === filterKey(experiment, query, parent)) fresh.roots.total = known.total;
    cache.current = fresh;
    setExpanded(new Set());
    setError(null);
    loadPage(null, 0);
    bump(0);
  }, [queryKey]);

  const toggle = (runId: string): void => {
    const next = new Set(expanded);
    if (next.has(runId)) next.delete(runId);
    else {
      next.add(runId);
      const c = cache.current;
      if (!c.children.has(runId)) {
        c.children.set(runId, new RowList());
        loadPage(runId, 0);
      }
    }
    setExpanded(next);
  };

  // Live: statuses of loaded runs change in place; new runs refresh the loaded pages. One
  // stream per experiment (a new sort or filter keeps it), reading the current table.
  const live = useRef({ loadPage, cache });
  live.current = { loadPage, cache };
  useEffect(() => {
    let refresh: ReturnType<typeof setTimeout> | undefined;
    const onStatus = (data: unknown): void => {
      const event = data as { run_id: string; status: string; start_time_utc?: string | null; end_time_utc?: string | null; error?: RunDocument["error"] };
      const row = live.current.cache.current.byId.get(event.run_id);
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
    const reread = (delay: number): void => {
      clearTimeout(refresh);
      refresh = setTimeout(() => {
        const { loadPage: load, cache: current } = live.current;
        for (const page of [...current.current.roots.pages.keys()]) load(null, page, true);
        for (const [runId, list] of current.current.children) {
          for (const page of [...list.pages.keys()]) load(runId, page, true);
        }
      }, delay);
    };
    // The stream keeps no cursor: after a drop, what it would have said is read again.
    const stop = subscribe(
      experimentEventsUrl(experiment),
      { status: onStatus, created: () => reread(500) },
      { reopened: () => reread(0) },
    );
    return () => {
      clearTimeout(refresh);
      stop();
    };
  }, [experiment]);

  const c = cache.current;
  const total = Math.max(0, c.roots.total);
  const items: Item[] = useMemo(() => {
    const out: Item[] = [];
    const addChildren = (runId: string, depth: number): void => {
      const kids = c.children.get(runId);
      if (kids === undefined) return;
      if (kids.total < 0) {
        out.push({ loading: true, depth });
        return;
      }
      for (let index = 0; index < kids.total; index++) {
        out.push({ parent: runId, index, depth });
        const row = kids.row(index);
        if (row && expanded.has(row.run.runId)) addChildren(row.run.runId, depth + 1);
      }
    };
    for (let i = 0; i < total; i++) {
      out.push(i);
      if (expanded.size) {
        const row = c.roots.row(i);
        if (row && expanded.has(row.run.runId)) addChildren(row.run.runId, 1);
      }
    }
    return out;
  }, [c, total, expanded, expanded.size ? c.version : 0]);

  const { scrollRef, items: virtualItems, totalSize } = useVirtualRows(items.length, ROW_HEIGHT);

  // Fetch the pages of the rows in view (top-level or children alike).
  const first = virtualItems[0]?.index ?? 0;
  const last = virtualItems[virtualItems.length - 1]?.index ?? 0;
  useEffect(() => {
    for (let index = first; index <= last; index++) {
      const item = items[index];
      if (typeof item === "number") loadPage(null, Math.floor(item / PAGE));
      else if (item && "parent" in item) loadPage(item.parent, Math.floor(item.index / PAGE));
    }
  }, [first, last, items]);

  const columns = useMemo(() => columnsFor(query.columns, query.keyColumns), [JSON.stringify([query.columns, query.keyColumns])]);
  const template = columns.map((col) => `${col.width}px`).join(" ");
  const rowWidth = columns.reduce((sum, col) => sum + col.width, 0);
  const rowOf = (item: Item | undefined): { row: RunRow | null; depth: number } => {
    if (item === undefined) return { row: null, depth: 0 };
    if (typeof item === "number") return { row: c.roots.row(item), depth: 0 };
    if ("parent" in item) return { row: c.children.get(item.parent)?.row(item.index) ?? null, depth: item.depth };
    return { row: null, depth: item.depth };
  };
  const anyActive = virtualItems.some((v) => {
    const { row } = rowOf(items[v.index]);
    return row ? isActive(row.run.status) : false;
  });
  const now = useNow(anyActive);

  return (
    <div class="runs-table-wrap">
      {error ? <ErrorNote error={error} what="runs" /> : null}
      <div class="table-meta" aria-live="polite">
        {c.roots.total < 0 ? "Loading runs…" : `${c.roots.total.toLocaleString()} ${parent ? "child " : "top-level "}run${c.roots.total === 1 ? "" : "s"}`}
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
        {c.roots.total === 0 ? <div class="empty-rows">No runs match.</div> : null}
      </div>
    </div>
  );
}
