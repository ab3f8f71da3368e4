/** The runs table's filters (status, tags, properties, submitter, free text) and metric columns. */
import { useEffect, useState } from "preact/hooks";
import { ALL_STATUSES, tableValues } from "../api/runs";
import {
  DEFAULT_SORT,
  searchText,
  type Aggregate,
  type KeyColumn,
  type KeyFilter,
  type MetricColumn,
  type QueryUpdate,
  type RunsQuery,
} from "../app/url";

function parseKeyFilter(text: string): KeyFilter | null {
  const trimmed = text.trim();
  if (!trimmed) return null;
  const eq = trimmed.indexOf("=");
  if (eq === 0) return null;
  return eq < 0 ? [trimmed, null] : [trimmed.slice(0, eq).trim(), trimmed.slice(eq + 1).trim()];
}

/**
 * Distinct values of a field for a picker, read once `wanted` (the picker was opened or
 * focused): the runs table's first rows do not wait behind reads nobody looked at yet.
 */
function useValues(experiment: string, field: string, wanted: boolean): string[] {
  const [values, setValues] = useState<string[]>([]);
  useEffect(() => {
    if (!wanted) return;
    let live = true;
    tableValues(experiment, field).then(
      (found) => live && setValues(found),
      () => live && setValues([]),
    );
    return () => {
      live = false;
    };
  }, [experiment, field, wanted]);
  return values;
}

function KeyFilterEditor(props: {
  label: string;
  filters: KeyFilter[];
  keys: string[];
  listId: string;
  onWant: () => void;
  onChange: (filters: KeyFilter[]) => void;
}) {
  const [text, setText] = useState("");
  const add = (event: Event): void => {
    event.preventDefault();
    const parsed = parseKeyFilter(text);
    if (!parsed) return;
    props.onChange([...props.filters.filter(([k]) => k !== parsed[0]), parsed]);
    setText("");
  };
  return (
    <form class="keyfilter" onSubmit={add}>
      <label class="field field-inline">
        <span class="field-label">{props.label}</span>
        <input
          type="text"
          list={props.listId}
          onFocus={props.onWant}
          placeholder="key or key=value"
          value={text}
          onInput={(e) => setText((e.target as HTMLInputElement).value)}
        />
      </label>
      <datalist id={props.listId}>
        {props.keys.map((k) => (
          <option value={k} key={k} />
        ))}
      </datalist>
      <button type="submit" class="btn btn-small" disabled={!parseKeyFilter(text)}>
        Add {props.label.toLowerCase()} filter
      </button>
      {props.filters.map(([key, value]) => {
        const text = value === null ? key : `${key}=${value}`;
        return (
          <span class="chip chip-filter" key={key}>
            {text}
            <button
              type="button"
              class="chip-remove"
              aria-label={`Remove ${props.label.toLowerCase()} filter ${text}`}
              onClick={() => props.onChange(props.filters.filter(([k]) => k !== key))}
            >
              ×
            </button>
          </span>
        );
      })}
    </form>
  );
}

export function RunFilters(props: { experiment: string; query: RunsQuery; onChange: (update: QueryUpdate, replace?: boolean) => void }) {
  const { experiment, query, onChange } = props;
  const [want, setWant] = useState({ submitters: false, keys: false, columns: false });
  const wantAll = (part: keyof typeof want): void => {
    if (!want[part]) setWant((current) => ({ ...current, [part]: true }));
  };
  const submitters = useValues(experiment, "submitted_by", want.submitters);
  const tagKeys = useValues(experiment, "tag_keys", want.keys || want.columns);
  const propertyKeys = useValues(experiment, "property_keys", want.keys || want.columns);
  const metricNames = useValues(experiment, "metric_names", want.columns);
  const [text, setText] = useState(query.text);

  useEffect(() => setText(query.text), [query.text]);
  useEffect(() => {
    if (text === query.text) return;
    // Applied to the query as it is when the timer fires, not as it was when typing:
    // a filter changed in between (a status ticked) must survive.
    const timer = setTimeout(() => onChange(searchText(text), true), 300);
    return () => clearTimeout(timer);
  }, [text]);

  const toggleStatus = (status: string, on: boolean): void => {
    const statuses = on ? [...query.statuses, status] : query.statuses.filter((s) => s !== status);
    onChange({ ...query, statuses });
  };

  const filtered =
    query.statuses.length + query.tags.length + query.properties.length + (query.submitter ? 1 : 0) + (query.text ? 1 : 0) > 0;

  return (
    <div class="filters" data-testid="run-filters">
      <div class="filter-row">
        <label class="field field-inline grow">
          <span class="visually-hidden">Search runs by name, id or description</span>
          <input
            type="search"
            placeholder="Search name, id, description"
            value={text}
            onInput={(e) => setText((e.target as HTMLInputElement).value)}
          />
        </label>
        <details class="dropdown">
          <summary class="btn">Status{query.statuses.length ? ` (${query.statuses.length})` : ""}</summary>
          <fieldset class="dropdown-menu">
            <legend class="visually-hidden">Status</legend>
            {ALL_STATUSES.map((status) => (
              <label class="check" key={status}>
                <input
                  type="checkbox"
                  checked={query.statuses.includes(status)}
                  onChange={(e) => toggleStatus(status, (e.target as HTMLInputElement).checked)}
                />
                {status}
              </label>
            ))}
          </fieldset>
        </details>
        <label class="field field-inline">
          <span class="field-label">Submitted by</span>
          <select
            value={query.submitter}
            onFocus={() => wantAll("submitters")}
            onPointerDown={() => wantAll("submitters")}
            onChange={(e) => onChange({ ...query, submitter: (e.target as HTMLSelectElement).value })}
          >
            <option value="">Anyone</option>
            {[...new Set([...submitters, ...(query.submitter ? [query.submitter] : [])])].map((s) => (
              <option value={s} key={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        {filtered ? (
          <button
            type="button"
            class="btn btn-quiet"
            onClick={() => onChange({ ...query, statuses: [], tags: [], properties: [], submitter: "", text: "" })}
          >
            Clear filters
          </button>
        ) : null}
      </div>
      <div class="filter-row">
        <KeyFilterEditor
          label="Tag"
          listId="tag-keys"
          keys={tagKeys}
          onWant={() => wantAll("keys")}
          filters={query.tags}
          onChange={(tags) => onChange({ ...query, tags })}
        />
        <KeyFilterEditor
          label="Property"
          listId="property-keys"
          keys={propertyKeys}
          onWant={() => wantAll("keys")}
          filters={query.properties}
          onChange={(properties) => onChange({ ...query, properties })}
        />
      </div>
      <ColumnPicker
        query={query}
        metricNames={metricNames}
        tagKeys={tagKeys}
        propertyKeys={propertyKeys}
        onOpen={() => wantAll("columns")}
        onChange={onChange}
      />
    </div>
  );
}

/** The columns shown beside the fixed ones: metric summaries, tags and properties, each
 * sortable from its header. Their choices are read when the picker first opens. */
function ColumnPicker(props: {
  query: RunsQuery;
  metricNames: string[];
  tagKeys: string[];
  propertyKeys: string[];
  onOpen: () => void;
  onChange: (update: QueryUpdate) => void;
}) {
  const { query, metricNames, onChange } = props;
  const [metric, setMetric] = useState("");
  const [agg, setAgg] = useState<Aggregate>("last");
  const [tag, setTag] = useState("");
  const [property, setProperty] = useState("");

  const addMetric = (event: Event): void => {
    event.preventDefault();
    const name = metric || metricNames[0];
    if (!name || query.columns.some((c) => c.name === name && c.agg === agg)) return;
    const column: MetricColumn = { name, agg };
    onChange({ ...query, columns: [...query.columns, column] });
  };
  const addKey = (kind: KeyColumn["kind"], key: string): void => {
    if (!key || query.keyColumns.some((c) => c.kind === kind && c.key === key)) return;
    onChange({ ...query, keyColumns: [...query.keyColumns, { kind, key }] });
  };
  const removeKey = (column: KeyColumn): void =>
    onChange({
      ...query,
      keyColumns: query.keyColumns.filter((c) => !(c.kind === column.kind && c.key === column.key)),
      // A sort by a column no longer shown goes back to the default.
      sort: query.sort.by.kind === "key" && query.sort.by.column.kind === column.kind && query.sort.by.column.key === column.key ? DEFAULT_SORT : query.sort,
    });

  return (
    <div class="filter-row">
      <details class="dropdown" onToggle={(e) => (e.currentTarget as HTMLDetailsElement).open && props.onOpen()}>
        <summary class="btn">Columns</summary>
        <div class="dropdown-menu column-picker" data-testid="column-picker">
          <form class="picker-row" onSubmit={addMetric}>
            <label class="field field-inline">
              <span class="field-label">Metric column</span>
              <select value={metric || metricNames[0] || ""} onChange={(e) => setMetric((e.target as HTMLSelectElement).value)} disabled={metricNames.length === 0}>
                {metricNames.length === 0 ? <option value="">No scalar metrics</option> : null}
                {metricNames.map((name) => (
                  <option value={name} key={name}>
                    {name}
                  </option>
                ))}
              </select>
            </label>
            <label class="field field-inline">
              <span class="visually-hidden">Summary</span>
              <select value={agg} onChange={(e) => setAgg((e.target as HTMLSelectElement).value as Aggregate)}>
                <option value="last">last</option>
                <option value="min">min</option>
                <option value="max">max</option>
              </select>
            </label>
            <button type="submit" class="btn btn-small" disabled={metricNames.length === 0}>
              Add column
            </button>
          </form>
          <KeyColumnAdder label="Tag column" kind="tag" keys={props.tagKeys} value={tag} onValue={setTag} onAdd={addKey} />
          <KeyColumnAdder label="Property column" kind="property" keys={props.propertyKeys} value={property} onValue={setProperty} onAdd={addKey} />
        </div>
      </details>
      {query.columns.map((column) => (
        <span class="chip chip-filter" key={`${column.agg}:${column.name}`}>
          {column.name} ({column.agg})
          <button
            type="button"
            class="chip-remove"
            aria-label={`Remove column ${column.name} (${column.agg})`}
            onClick={() => onChange({ ...query, columns: query.columns.filter((c) => !(c.name === column.name && c.agg === column.agg)) })}
          >
            ×
          </button>
        </span>
      ))}
      {query.keyColumns.map((column) => (
        <span class="chip chip-filter" key={`${column.kind}:${column.key}`}>
          {column.kind} {column.key}
          <button type="button" class="chip-remove" aria-label={`Remove column ${column.kind} ${column.key}`} onClick={() => removeKey(column)}>
            ×
          </button>
        </span>
      ))}
    </div>
  );
}

function KeyColumnAdder(props: {
  label: string;
  kind: KeyColumn["kind"];
  keys: string[];
  value: string;
  onValue: (value: string) => void;
  onAdd: (kind: KeyColumn["kind"], key: string) => void;
}) {
  const chosen = props.value || props.keys[0] || "";
  return (
    <form
      class="picker-row"
      onSubmit={(event) => {
        event.preventDefault();
        props.onAdd(props.kind, chosen);
      }}
    >
      <label class="field field-inline">
        <span class="field-label">{props.label}</span>
        <select
          aria-label={props.label}
          value={chosen}
          onChange={(e) => props.onValue((e.target as HTMLSelectElement).value)}
          disabled={props.keys.length === 0}
        >
          {props.keys.length === 0 ? <option value="">None in this experiment</option> : null}
          {props.keys.map((key) => (
            <option value={key} key={key}>
              {key}
            </option>
          ))}
        </select>
      </label>
      <button type="submit" class="btn btn-small" disabled={!chosen} aria-label={`Add ${props.label.toLowerCase()}`}>
        Add
      </button>
    </form>
  );
}
