/** The runs table's filters (status, tags, properties, submitter, free text) and metric columns. */
import { useEffect, useState } from "preact/hooks";
import { ALL_STATUSES, tableValues } from "../api/runs";
import { searchText, type Aggregate, type KeyFilter, type MetricColumn, type QueryUpdate, type RunsQuery } from "../app/url";

function parseKeyFilter(text: string): KeyFilter | null {
  const trimmed = text.trim();
  if (!trimmed) return null;
  const eq = trimmed.indexOf("=");
  if (eq === 0) return null;
  return eq < 0 ? [trimmed, null] : [trimmed.slice(0, eq).trim(), trimmed.slice(eq + 1).trim()];
}

function useValues(experiment: string, field: string): string[] {
  const [values, setValues] = useState<string[]>([]);
  useEffect(() => {
    let live = true;
    tableValues(experiment, field).then(
      (found) => live && setValues(found),
      () => live && setValues([]),
    );
    return () => {
      live = false;
    };
  }, [experiment, field]);
  return values;
}

function KeyFilterEditor(props: {
  label: string;
  filters: KeyFilter[];
  keys: string[];
  listId: string;
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
  const submitters = useValues(experiment, "submitted_by");
  const tagKeys = useValues(experiment, "tag_keys");
  const propertyKeys = useValues(experiment, "property_keys");
  const metricNames = useValues(experiment, "metric_names");
  const [text, setText] = useState(query.text);
  const [metric, setMetric] = useState("");
  const [agg, setAgg] = useState<Aggregate>("last");

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

  const addColumn = (event: Event): void => {
    event.preventDefault();
    const name = metric || metricNames[0];
    if (!name) return;
    const column: MetricColumn = { name, agg };
    if (query.columns.some((c) => c.name === name && c.agg === agg)) return;
    onChange({ ...query, columns: [...query.columns, column] });
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
          filters={query.tags}
          onChange={(tags) => onChange({ ...query, tags })}
        />
        <KeyFilterEditor
          label="Property"
          listId="property-keys"
          keys={propertyKeys}
          filters={query.properties}
          onChange={(properties) => onChange({ ...query, properties })}
        />
      </div>
      <form class="filter-row" onSubmit={addColumn}>
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
        {query.columns.map((column) => (
          <span class="chip chip-filter" key={`${column.agg}:${column.name}`}>
            {column.name} ({column.agg})
            <button
              type="button"
              class="chip-remove"
              aria-label={`Remove column ${column.name} (${column.agg})`}
              onClick={() =>
                onChange({ ...query, columns: query.columns.filter((c) => !(c.name === column.name && c.agg === column.agg)) })
              }
            >
              ×
            </button>
          </span>
        ))}
      </form>
    </div>
  );
}
