/** A confusion matrix as a heat map table: counts in every cell, darker for more. */
import type { ConfusionMatrix as Matrix } from "./shape";
import { formatNumber } from "../format/values";

export function ConfusionMatrix({ matrix, name }: { matrix: Matrix; name: string }) {
  const shade = (value: number): string => {
    if (!Number.isFinite(value) || matrix.max <= 0) return "transparent";
    return `rgba(15, 108, 189, ${(0.08 + 0.85 * (value / matrix.max)).toFixed(3)})`;
  };
  return (
    <div class="heatmap-wrap">
      <table class="heatmap" aria-label={`Confusion matrix ${name}: rows are true classes, columns predicted`}>
        <thead>
          <tr>
            <th scope="col" class="corner">
              true ╲ predicted
            </th>
            {matrix.labels.map((label, j) => (
              <th scope="col" key={j}>
                {label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {matrix.matrix.map((row, i) => (
            <tr key={i}>
              <th scope="row">{matrix.labels[i]}</th>
              {row.map((value, j) => (
                <td
                  key={j}
                  style={{ background: shade(value), color: Number.isFinite(value) && value / matrix.max > 0.55 ? "#fff" : undefined }}
                  class={i === j ? "diag" : undefined}
                >
                  {formatNumber(value)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
