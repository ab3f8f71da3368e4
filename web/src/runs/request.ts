/** What the runs table asks the server for, from the URL's query. */
import type { RunTableRequest } from "../api/runs";
import type { KeyFilter, MetricColumn, RunsQuery, Sort } from "../app/url";

const FIELD_SORTS: Record<string, string> = {
  status: "status",
  name: "name",
  created: "created",
  duration: "duration",
  target: "target",
  submitter: "submitted_by",
};

/** The server's sort key for a sort of the table. */
export function serverSort(sort: Sort): string {
  if (sort.by.kind === "metric") return `metric:${sort.by.column.name}:${sort.by.column.agg}`;
  if (sort.by.kind === "key") return `${sort.by.column.kind}:${sort.by.column.key}`;
  return FIELD_SORTS[sort.by.key] ?? "created";
}

function keyFilters(filters: readonly KeyFilter[]): Record<string, string | null> {
  const result: Record<string, string | null> = {};
  for (const [key, value] of filters) result[key] = value;
  return result;
}

/** The metric names whose summaries the table needs (columns and a metric sort), once each. */
export function neededMetrics(columns: readonly MetricColumn[], sort: Sort): string[] {
  const names = columns.map((c) => c.name);
  if (sort.by.kind === "metric") names.push(sort.by.column.name);
  return [...new Set(names)].slice(0, 20);
}

/** Rows the table asks for at a time. */
export const PAGE = 100;

/** The table's first request for a query: with the count of matches, unless the count is
 * already known from a query that differs only in sort or columns. */
export function firstPageRequest(experiment: string, query: RunsQuery, parent: string | null = null, withTotal = true): RunTableRequest {
  return { ...tableRequest(experiment, query, 0, PAGE, parent), with_total: withTotal };
}

/** What decides the number of matches (not the sort, not the columns shown). */
export function filterKey(experiment: string, query: RunsQuery, parent: string | null): string {
  return JSON.stringify([experiment, parent, query.statuses, query.tags, query.properties, query.submitter, query.text.trim()]);
}

/** One page of root runs (or of a parent's children) as the table shows them. */
export function tableRequest(
  experiment: string,
  query: RunsQuery,
  offset: number,
  limit: number,
  parent: string | null = null,
): RunTableRequest {
  const request: RunTableRequest = {
    experiment,
    metrics: neededMetrics(query.columns, query.sort),
    sort: serverSort(query.sort),
    descending: query.sort.descending,
    offset,
    limit,
  };
  if (parent !== null) {
    request.parent = parent;
    return request;
  }
  request.roots_only = true;
  if (query.statuses.length) request.status = [...query.statuses];
  if (query.tags.length) request.tags = keyFilters(query.tags);
  if (query.properties.length) request.properties = keyFilters(query.properties);
  if (query.submitter) request.submitted_by = [query.submitter];
  if (query.text.trim()) request.text = query.text.trim();
  return request;
}

/** "2 running · 1 failed" for a parent's children (active statuses count as running). */
export function childSummary(byStatus: Record<string, number>): string {
  let running = 0;
  let failed = 0;
  for (const [status, count] of Object.entries(byStatus)) {
    if (status === "Failed") failed += count;
    else if (!["Completed", "Canceled", "NotStarted"].includes(status)) running += count;
  }
  const parts: string[] = [];
  if (running) parts.push(`${running} running`);
  if (failed) parts.push(`${failed} failed`);
  return parts.join(" · ");
}
