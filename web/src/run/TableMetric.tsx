/** A row/table metric: a two-variable line chart of the chosen columns, and the table. */
import { useMemo, useState } from "preact/hooks";
import { LineChart } from "../charts/LineChart";
import { colorAt } from "../charts/palette";
import { defaultAxes, describeNonFinite, numericColumns, tableLines, type TableData } from "../charts/shape";
import { formatValue } from "../format/values";

const SHOWN_ROWS = 500;

export function TableMetric({ table, name }: { table: TableData; name: string }) {
  const initial = useMemo(() => defaultAxes(table), [table.columns.join("\u0000")]);
  const [x, setX] = useState<string | null>(initial.x);
  const [ys, setYs] = useState<string[]>(initial.y);
  const numeric = numericColumns(table);
  const lines = useMemo(() => tableLines(table, x, ys), [table, x, ys.join("\u0000")]);
  const nonFinite = describeNonFinite(lines.nonFinite, x ?? "row");
  return (
    <div>
      <div class="axis-pickers">
        <label class="field field-inline">
          <span class="field-label">X axis</span>
          <select value={x ?? ""} onChange={(e) => setX((e.target as HTMLSelectElement).value || null)}>
            <option value="">row number</option>
            {numeric.map((c) => (
              <option value={c} key={c}>
                {c}
              </option>
            ))}
          </select>
        </label>
        <fieldset class="inline-checks">
          <legend class="field-label">Y axis</legend>
          {numeric
            .filter((c) => c !== x)
            .map((c) => (
              <label class="check" key={c}>
                <input
                  type="checkbox"
                  checked={ys.includes(c)}
                  onChange={(e) => setYs((e.target as HTMLInputElement).checked ? [...ys, c] : ys.filter((y) => y !== c))}
                />
                {c}
              </label>
            ))}
        </fieldset>
      </div>
      {ys.length ? (
        <LineChart
          data={[lines.x, ...lines.ys]}
          series={ys.map((c, i) => ({ label: c, color: colorAt(i), points: lines.x.length < 60 }))}
          xLabel={x ?? "row"}
          markers={lines.nonFinite}
          label={`Line chart of ${ys.join(", ")} over ${x ?? "row"} from table ${name}`}
        />
      ) : (
        <p class="muted">Pick a column to plot.</p>
      )}
      {nonFinite ? <p class="nonfinite">{nonFinite}</p> : null}
      <details class="table-details">
        <summary>
          Table ({table.rows.toLocaleString()} row{table.rows === 1 ? "" : "s"})
        </summary>
        <div class="scroll-x">
          <table class="grid-table compact">
            <thead>
              <tr>
                <th scope="col">#</th>
                {table.columns.map((c) => (
                  <th scope="col" key={c}>
                    {c}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {Array.from({ length: Math.min(table.rows, SHOWN_ROWS) }, (_, i) => (
                <tr key={i}>
                  <td class="num muted">{i}</td>
                  {table.columns.map((c) => (
                    <td key={c} class="num">
                      {formatValue((table.values[c] ?? [])[i])}
                    </td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
          {table.rows > SHOWN_ROWS ? <p class="muted">First {SHOWN_ROWS} rows shown.</p> : null}
        </div>
      </details>
    </div>
  );
}
