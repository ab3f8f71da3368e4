/** Every metric of a run, each drawn as its kind is meant to be seen (spec §2). */
import type { ComponentChildren } from "preact";
import { useEffect, useMemo, useRef } from "preact/hooks";
import { getSeries, isScalarChart, listMetrics, type MetricInfo, type MetricSeries } from "../api/metrics";
import type { RunDocument } from "../api/runs";
import { useAsync } from "../app/useAsync";
import { chartKey, type Zooms } from "../app/url";
import { ConfusionMatrix } from "../charts/ConfusionMatrix";
import { LineChart } from "../charts/LineChart";
import { colorAt } from "../charts/palette";
import { ScalarChart } from "../charts/ScalarChart";
import {
  accuracyCurves,
  confusionMatrix,
  describeNonFinite,
  isTextSeries,
  lastValue,
  listLine,
  predictionsChart,
  residualsHistogram,
  tableFromSeries,
} from "../charts/shape";
import { AccuracyCurves, PredictionsView, ResidualsChart } from "../charts/StructuredCharts";
import { ErrorNote, Loading } from "../components/ErrorNote";
import { formatValue } from "../format/values";
import { useRunEvent } from "./stream";
import { TableMetric } from "./TableMetric";

const KIND_LABEL: Record<string, string> = {
  scalar: "series",
  list: "list",
  table: "table",
  confusion_matrix: "confusion matrix",
  accuracy_table: "accuracy table",
  residuals: "residuals",
  predictions: "predictions",
  text: "text",
};

interface MetricGroup {
  name: string;
  kind: string;
  description: string;
  infos: MetricInfo[];
  /** A scalar metric whose values are text: shown as text, not charted. */
  text: boolean;
}

function groupMetrics(infos: MetricInfo[]): MetricGroup[] {
  const groups = new Map<string, MetricGroup>();
  for (const info of infos) {
    if (info.kind === "image") continue;
    const group = groups.get(info.name);
    if (group) group.infos.push(info);
    else {
      const text = info.kind === "scalar" && !isScalarChart(info);
      groups.set(info.name, { name: info.name, kind: text ? "text" : info.kind, description: info.description, infos: [info], text });
    }
  }
  return [...groups.values()];
}

function Card(props: { group: MetricGroup; wide?: boolean; children: ComponentChildren }) {
  const { group } = props;
  return (
    <section
      class={props.wide ? "card metric-card wide" : "card metric-card"}
      aria-label={`Metric ${group.name}`}
      data-testid="metric-chart"
      data-metric={group.name}
      data-kind={group.kind}
    >
      <div class="card-head">
        <h3>{group.name}</h3>
        <span class="pill pill-muted">{KIND_LABEL[group.kind] ?? group.kind}</span>
      </div>
      {group.description ? <p class="muted small">{group.description}</p> : null}
      {props.children}
    </section>
  );
}

function TextValues({ series }: { series: MetricSeries }) {
  const shown = series.values.slice(-200);
  const offset = series.values.length - shown.length;
  return (
    <ol class="text-values">
      {shown.map((value, i) => (
        <li key={i}>
          <span class="muted mono">step {series.steps[offset + i] ?? offset + i}</span> {formatValue(value)}
        </li>
      ))}
    </ol>
  );
}

function StructuredOrSeries({ group, series }: { group: MetricGroup; series: MetricSeries[] }) {
  const mine = series.filter((s) => s.name === group.name);
  const first = mine[0];
  if (!first) return <p class="muted">No values yet.</p>;
  try {
    switch (group.kind) {
      case "text":
        return isTextSeries(first.values) ? <TextValues series={first} /> : <TextValues series={first} />;
      case "list": {
        const line = listLine(first.values);
        const notes = describeNonFinite(line.nonFinite, "index");
        return (
          <>
            <LineChart
              data={[line.x, line.y]}
              series={[{ label: group.name, color: colorAt(0), points: line.x.length < 60 }]}
              xLabel="index"
              markers={line.nonFinite}
              label={`Line chart of the list ${group.name} over index`}
            />
            {notes ? <p class="nonfinite">{notes}</p> : null}
          </>
        );
      }
      case "table":
        return <TableMetric table={tableFromSeries(mine)} name={group.name} />;
      case "confusion_matrix":
        return <ConfusionMatrix matrix={confusionMatrix(lastValue(first))} name={group.name} />;
      case "accuracy_table":
        return <AccuracyCurves curves={accuracyCurves(lastValue(first))} name={group.name} />;
      case "residuals":
        return <ResidualsChart histogram={residualsHistogram(lastValue(first))} name={group.name} />;
      case "predictions":
        return <PredictionsView chart={predictionsChart(lastValue(first))} name={group.name} />;
      default:
        return <pre class="code-block">{formatValue(lastValue(first))}</pre>;
    }
  } catch (caught) {
    return <ErrorNote error={caught} what={`${group.name} (malformed ${group.kind})`} />;
  }
}

export function MetricsTab(props: { run: RunDocument; zoom: Zooms; onZoom: (zoom: Zooms) => void }) {
  const runId = props.run.runId;
  const [metrics, , reloadMetrics] = useAsync((signal) => listMetrics(runId, signal), [runId]);
  const groups = useMemo(() => (metrics.state === "done" ? groupMetrics(metrics.value) : []), [metrics]);
  const fetched = groups.filter((g) => g.kind !== "scalar").map((g) => g.name);
  const [series, , reloadSeries] = useAsync(
    (signal) => (fetched.length ? getSeries(runId, fetched, signal) : Promise.resolve([])),
    [runId, fetched.join("\u0000")],
  );

  // Live: a new metric name lists the metrics again; new points of non-scalar kinds
  // fetch their series again (scalar charts append on their own).
  const known = useRef(new Set<string>());
  known.current = new Set(metrics.state === "done" ? metrics.value.map((m) => chartKey(m.name, m.column)) : []);
  const pending = useRef<{ list?: ReturnType<typeof setTimeout>; series?: ReturnType<typeof setTimeout> }>({});
  useRunEvent(
    "metric",
    (event) => {
      if (!known.current.has(chartKey(event.name, event.column))) {
        clearTimeout(pending.current.list);
        pending.current.list = setTimeout(reloadMetrics, 500);
      } else if (event.kind !== "scalar" && event.kind !== "image") {
        clearTimeout(pending.current.series);
        pending.current.series = setTimeout(reloadSeries, 500);
      }
    },
    [runId],
  );
  useEffect(() => () => {
    clearTimeout(pending.current.list);
    clearTimeout(pending.current.series);
  }, []);

  if (metrics.state === "loading") return <Loading what="metrics" />;
  if (metrics.state === "error") return <ErrorNote error={metrics.error} what="metrics" />;
  if (groups.length === 0) return <p class="empty">This run has no metrics yet.</p>;

  const setZoom = (key: string, range: [number, number] | null): void => {
    const next = Object.fromEntries(Object.entries(props.zoom).filter(([k]) => k !== key));
    if (range) next[key] = range;
    props.onZoom(next);
  };

  return (
    <div class="metric-grid" data-testid="metrics">
      {groups.map((group) => {
        if (group.kind === "scalar") {
          const info = group.infos[0] as MetricInfo;
          const key = chartKey(group.name, info.column);
          return (
            <Card group={group} key={group.name}>
              <ScalarChart
                runId={runId}
                name={group.name}
                column={info.column}
                zoom={props.zoom[key] ?? null}
                onZoom={(range) => setZoom(key, range)}
              />
            </Card>
          );
        }
        return (
          <Card group={group} key={group.name} wide={group.kind === "accuracy_table" || group.kind === "table"}>
            {series.state === "loading" ? (
              <Loading what={group.name} />
            ) : series.state === "error" ? (
              <ErrorNote error={series.error} what={group.name} />
            ) : (
              <StructuredOrSeries group={group} series={series.value} />
            )}
          </Card>
        );
      })}
    </div>
  );
}
