/**
 * Every view of the studio as URL state, so a reload or a shared link restores it and
 * back/forward move between views. All state is in the query string of `/`, which the
 * server answers with index.html whatever the query is.
 */

export type Aggregate = "last" | "min" | "max";

/** A metric column of the runs table: a summary of one scalar metric. */
export interface MetricColumn {
  name: string;
  agg: Aggregate;
}

/** The fixed columns of the runs table that can be sorted on. */
export const FIXED_SORT_KEYS = [
  "status",
  "name",
  "created",
  "duration",
  "target",
  "submitter",
] as const;
export type FixedSortKey = (typeof FIXED_SORT_KEYS)[number];

/** A tag or property shown as a column of the runs table (its value per run). */
export interface KeyColumn {
  kind: "tag" | "property";
  key: string;
}

export type SortKey =
  | { kind: "field"; key: FixedSortKey }
  | { kind: "metric"; column: MetricColumn }
  | { kind: "key"; column: KeyColumn };

export interface Sort {
  by: SortKey;
  descending: boolean;
}

/** A filter on tags or properties: a key with a value, or with any value (null). */
export type KeyFilter = [key: string, value: string | null];

export interface RunsQuery {
  statuses: string[];
  tags: KeyFilter[];
  properties: KeyFilter[];
  submitter: string;
  text: string;
  sort: Sort;
  columns: MetricColumn[];
  keyColumns: KeyColumn[];
}

/**
 * A change to the runs table's query: the new query, or a function of the query as it is
 * when the change applies (for changes made later than they were decided, like a
 * debounced search, which must not undo what happened in between).
 */
export type QueryUpdate = RunsQuery | ((current: RunsQuery) => RunsQuery);

/** A delayed change of the search text, merged into whatever the query is by then. */
export function searchText(text: string): (current: RunsQuery) => RunsQuery {
  return (current) => (current.text === text ? current : { ...current, text });
}

export const RUN_TABS = ["overview", "metrics", "images", "children", "outputs", "snapshot"] as const;
export type RunTab = (typeof RUN_TABS)[number];

/** A zoomed x range of one chart, keyed by the chart's metric key. */
export type Zooms = Record<string, [number, number]>;

export type View =
  | { page: "experiments"; archived: boolean }
  | { page: "runs"; experiment: string; query: RunsQuery }
  | { page: "run"; runId: string; tab: RunTab; zoom: Zooms; file: string | null }
  | { page: "signin"; next: string };

export const DEFAULT_SORT: Sort = { by: { kind: "field", key: "created" }, descending: true };

export function emptyQuery(): RunsQuery {
  return {
    statuses: [],
    tags: [],
    properties: [],
    submitter: "",
    text: "",
    sort: DEFAULT_SORT,
    columns: [],
    keyColumns: [],
  };
}

const AGGREGATES: readonly string[] = ["last", "min", "max"];

function encodeColumn(column: MetricColumn): string {
  return `${column.agg}:${column.name}`;
}

function decodeColumn(text: string): MetricColumn | null {
  const colon = text.indexOf(":");
  if (colon < 0) return null;
  const agg = text.slice(0, colon);
  const name = text.slice(colon + 1);
  if (!AGGREGATES.includes(agg) || name === "") return null;
  return { agg: agg as Aggregate, name };
}

const KEY_PREFIX = { tag: "tag:", property: "prop:" } as const;

function encodeKeyColumn(column: KeyColumn): string {
  return KEY_PREFIX[column.kind] + column.key;
}

function decodeKeyColumn(text: string): KeyColumn | null {
  for (const kind of ["tag", "property"] as const) {
    const prefix = KEY_PREFIX[kind];
    if (text.startsWith(prefix) && text.length > prefix.length) return { kind, key: text.slice(prefix.length) };
  }
  return null;
}

function encodeSort(sort: Sort): string {
  const by = sort.by;
  const key = by.kind === "field" ? by.key : by.kind === "metric" ? `metric:${encodeColumn(by.column)}` : encodeKeyColumn(by.column);
  return (sort.descending ? "-" : "") + key;
}

function decodeSort(text: string | null): Sort {
  if (!text) return DEFAULT_SORT;
  const descending = text.startsWith("-");
  const key = descending ? text.slice(1) : text;
  if (key.startsWith("metric:")) {
    const column = decodeColumn(key.slice("metric:".length));
    return column ? { by: { kind: "metric", column }, descending } : DEFAULT_SORT;
  }
  const keyColumn = decodeKeyColumn(key);
  if (keyColumn) return { by: { kind: "key", column: keyColumn }, descending };
  if ((FIXED_SORT_KEYS as readonly string[]).includes(key)) {
    return { by: { kind: "field", key: key as FixedSortKey }, descending };
  }
  return DEFAULT_SORT;
}

function encodeKeyFilter([key, value]: KeyFilter): string {
  return value === null ? key : `${key}=${value}`;
}

function decodeKeyFilter(text: string): KeyFilter | null {
  const eq = text.indexOf("=");
  const key = eq < 0 ? text : text.slice(0, eq);
  if (key === "") return null;
  return [key, eq < 0 ? null : text.slice(eq + 1)];
}

function sameSort(a: Sort, b: Sort): boolean {
  return encodeSort(a) === encodeSort(b);
}

/** A zoom edge short enough for a URL (7 significant digits is finer than a pixel). */
function roundForUrl(x: number): number {
  return Number(x.toPrecision(7));
}

/** The query string (with its "?", or "" for the home page) that stands for a view. */
export function encodeView(view: View): string {
  const params = new URLSearchParams();
  switch (view.page) {
    case "experiments":
      if (view.archived) params.set("archived", "1");
      break;
    case "runs": {
      const q = view.query;
      params.set("experiment", view.experiment);
      for (const status of q.statuses) params.append("status", status);
      for (const tag of q.tags) params.append("tag", encodeKeyFilter(tag));
      for (const prop of q.properties) params.append("prop", encodeKeyFilter(prop));
      if (q.submitter) params.set("submitter", q.submitter);
      if (q.text) params.set("q", q.text);
      if (!sameSort(q.sort, DEFAULT_SORT)) params.set("sort", encodeSort(q.sort));
      for (const column of q.columns) params.append("col", encodeColumn(column));
      for (const column of q.keyColumns) params.append("kcol", encodeKeyColumn(column));
      break;
    }
    case "run":
      params.set("run", view.runId);
      if (view.tab !== "overview") params.set("tab", view.tab);
      for (const [key, [x0, x1]] of Object.entries(view.zoom)) {
        params.append("zoom", `${roundForUrl(x0)},${roundForUrl(x1)},${key}`);
      }
      if (view.file) params.set("file", view.file);
      break;
    case "signin":
      params.set("signin", "1");
      if (view.next) params.set("next", view.next);
      break;
  }
  const text = params.toString();
  return text ? `?${text}` : "";
}

/** The view a query string stands for; anything unknown falls back to a sensible default. */
export function decodeView(search: string): View {
  const params = new URLSearchParams(search);
  if (params.has("signin")) return { page: "signin", next: params.get("next") ?? "" };
  const runId = params.get("run");
  if (runId) {
    const tab = params.get("tab") ?? "overview";
    const zoom: Zooms = {};
    for (const text of params.getAll("zoom")) {
      const [a, b, ...rest] = text.split(",");
      const x0 = Number(a);
      const x1 = Number(b);
      const key = rest.join(",");
      if (key && Number.isFinite(x0) && Number.isFinite(x1) && x0 < x1) zoom[key] = [x0, x1];
    }
    return {
      page: "run",
      runId,
      tab: (RUN_TABS as readonly string[]).includes(tab) ? (tab as RunTab) : "overview",
      zoom,
      file: params.get("file"),
    };
  }
  const experiment = params.get("experiment");
  if (experiment) {
    const pick = <T,>(values: (T | null)[]): T[] => values.filter((v): v is T => v !== null);
    return {
      page: "runs",
      experiment,
      query: {
        statuses: params.getAll("status").filter((s) => s !== ""),
        tags: pick(params.getAll("tag").map(decodeKeyFilter)),
        properties: pick(params.getAll("prop").map(decodeKeyFilter)),
        submitter: params.get("submitter") ?? "",
        text: params.get("q") ?? "",
        sort: decodeSort(params.get("sort")),
        columns: pick(params.getAll("col").map(decodeColumn)),
        keyColumns: pick(params.getAll("kcol").map(decodeKeyColumn)),
      },
    };
  }
  return { page: "experiments", archived: params.get("archived") === "1" };
}

/**
 * The view after a change to an experiment's runs query, applied to the view as it is now;
 * null if that is no longer the runs page of that experiment (a late change is dropped).
 */
export function updateRunsView(current: View, experiment: string, update: QueryUpdate): View | null {
  if (typeof update !== "function") return { page: "runs", experiment, query: update };
  if (current.page !== "runs" || current.experiment !== experiment) return null;
  const query = update(current.query);
  return query === current.query ? null : { page: "runs", experiment, query };
}

/** The key a chart is known by in zoom state: the metric name, and column for tables. */
export function chartKey(name: string, column = ""): string {
  return column ? `${name}/${column}` : name;
}
