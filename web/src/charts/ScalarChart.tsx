/**
 * A scalar metric over its steps, from the server's chart history: up to HISTORY_POINTS
 * buckets that keep each bucket's min and max (drawn as a band). Zooming into a
 * downsampled series asks the server again for that step range at full detail. Live
 * points are appended to the open chart.
 */
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { getHistory, HISTORY_POINTS, ZOOM_POINTS } from "../api/metrics";
import { ErrorNote, Loading } from "../components/ErrorNote";
import { useRunEvent } from "../run/stream";
import { LineChart, type ChartSeries } from "./LineChart";
import { colorAt } from "./palette";
import { appendPoints, describeNonFinite, historyLine, type LineData } from "./shape";


function aligned(line: LineData): [number[], ...(number | null)[][]] {
  return line.min && line.max ? [line.x, line.y, line.min, line.max] : [line.x, line.y];
}

export function ScalarChart(props: {
  runId: string;
  name: string;
  column: string;
  zoom: [number, number] | null;
  onZoom: (range: [number, number] | null) => void;
}) {
  const { runId, name, column, zoom } = props;
  const [full, setFull] = useState<{ line: LineData; count: number; downsampled: boolean } | null>(null);
  const [detail, setDetail] = useState<{ line: LineData; count: number; range: [number, number] } | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [revision, setRevision] = useState(0);
  const fullRef = useRef(full);
  fullRef.current = full;

  useEffect(() => {
    const controller = new AbortController();
    setFull(null);
    getHistory(runId, name, column, HISTORY_POINTS, undefined, controller.signal).then(
      (history) => setFull({ line: historyLine(history), count: history.count, downsampled: history.downsampled }),
      (caught: unknown) => controller.signal.aborted || setError(caught),
    );
    return () => controller.abort();
  }, [runId, name, column]);

  // A zoom into a downsampled series: the range again, at full detail (or finer buckets).
  useEffect(() => {
    if (!zoom || !full?.downsampled) {
      setDetail(null);
      return;
    }
    const controller = new AbortController();
    const range: [number, number] = [zoom[0], zoom[1]];
    getHistory(runId, name, column, ZOOM_POINTS, range, controller.signal).then(
      (history) => setDetail({ line: historyLine(history), count: history.count, range }),
      (caught: unknown) => controller.signal.aborted || setError(caught),
    );
    return () => controller.abort();
  }, [zoom?.[0], zoom?.[1], full?.downsampled]);

  useRunEvent(
    "metric",
    (event) => {
      const current = fullRef.current;
      if (!current || event.name !== name || event.column !== column) return;
      const added = appendPoints(current.line, event.steps, event.values);
      if (added) {
        current.count += added;
        setRevision((r) => r + 1);
      }
    },
    [name, column],
  );

  const shown = detail ?? full;
  const series: ChartSeries[] = useMemo(() => {
    const color = colorAt(0);
    const main: ChartSeries = { label: column ? `${name} · ${column}` : name, color, points: (shown?.line.x.length ?? 0) < 60 };
    return shown?.line.min ? [main, { label: "bucket min", color, faint: true }, { label: "bucket max", color, faint: true }] : [main];
  }, [shown?.line.min ? 1 : 0, (shown?.line.x.length ?? 0) < 60]);

  if (error) return <ErrorNote error={error} what={`the history of ${name}`} />;
  if (!full || !shown) return <Loading what={name} />;
  const line = shown.line;
  const nonFinite = describeNonFinite(full.line.nonFinite);
  return (
    <div>
      <LineChart
        data={aligned(line)}
        revision={revision}
        series={series}
        bands={line.min ? [[3, 2]] : undefined}
        xLabel="step"
        zoom={zoom}
        onZoom={props.onZoom}
        markers={line.nonFinite}
        label={`Line chart of ${name} over step`}
      />
      <div class="chart-notes">
        <span>
          {full.count.toLocaleString()} point{full.count === 1 ? "" : "s"}
          {detail ? ` · zoomed: ${detail.count.toLocaleString()} in range${detail.line.min ? " (bucketed)" : ", full detail"}` : ""}
          {!detail && full.downsampled ? ` · drawn as ${line.x.length.toLocaleString()} buckets with min/max` : ""}
        </span>
        {zoom ? (
          <button type="button" class="btn btn-small btn-quiet" onClick={() => props.onZoom(null)}>
            Reset zoom
          </button>
        ) : null}
      </div>
      {nonFinite ? (
        <p class="nonfinite" data-testid="non-finite">
          {nonFinite}
        </p>
      ) : null}
    </div>
  );
}
