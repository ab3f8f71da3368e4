/** Charts of the structured metrics: ROC and precision–recall curves, residuals, predictions. */
import { useMemo } from "preact/hooks";
import uPlot from "uplot";
import { LineChart, type ChartSeries } from "./LineChart";
import { colorAt } from "./palette";
import type { ClassCurves, Curve, Histogram, PredictionsChart } from "./shape";

function joinCurves(curves: Curve[]): uPlot.AlignedData {
  if (curves.length === 0) return [[]];
  return uPlot.join(curves.map((c) => [c.x, c.y] as uPlot.AlignedData));
}

export function AccuracyCurves({ curves, name }: { curves: ClassCurves[]; name: string }) {
  const series: ChartSeries[] = curves.map((c, i) => ({ label: c.label, color: colorAt(i), spanGaps: true, points: true }));
  const diagonal: ChartSeries = { label: "chance", color: "#8a8886", dash: [4, 4], spanGaps: true };
  const roc = useMemo(() => joinCurves([...curves.map((c) => c.roc), { x: [0, 1], y: [0, 1] }]), [curves]);
  const pr = useMemo(() => joinCurves(curves.map((c) => c.pr)), [curves]);
  return (
    <div class="chart-pair">
      <figure>
        <figcaption>ROC</figcaption>
        <LineChart
          data={roc}
          series={[...series, diagonal]}
          xLabel="false positive rate"
          yLabel="true positive rate"
          xRange={[0, 1]}
          yRange={[0, 1]}
          label={`ROC curves of ${name} per class`}
          height={240}
        />
      </figure>
      <figure>
        <figcaption>Precision–recall</figcaption>
        <LineChart
          data={pr}
          series={series}
          xLabel="recall"
          yLabel="precision"
          xRange={[0, 1]}
          yRange={[0, 1]}
          label={`Precision-recall curves of ${name} per class`}
          height={240}
        />
      </figure>
    </div>
  );
}

export function ResidualsChart({ histogram, name }: { histogram: Histogram; name: string }) {
  const centers = histogram.counts.map((_, i) => ((histogram.edges[i] ?? 0) + (histogram.edges[i + 1] ?? 0)) / 2);
  const first = histogram.edges[0] ?? 0;
  const last = histogram.edges[histogram.edges.length - 1] ?? 1;
  const top = Math.max(1, ...histogram.counts.filter(Number.isFinite));
  return (
    <LineChart
      xRange={[first, last > first ? last : first + 1]}
      yRange={[0, top * 1.05]}
      data={[centers, histogram.counts]}
      series={[{ label: "count", color: colorAt(0), bars: true }]}
      xLabel="residual"
      yLabel="count"
      label={`Histogram of the residuals ${name}`}
    />
  );
}

export function PredictionsView({ chart, name }: { chart: PredictionsChart; name: string }) {
  return (
    <LineChart
      data={[chart.x, chart.predicted, chart.lower, chart.upper, chart.x]}
      series={[
        { label: "mean predicted", color: colorAt(0), points: true },
        { label: "− error", color: colorAt(0), faint: true },
        { label: "+ error", color: colorAt(0), faint: true },
        { label: "ideal (predicted = true)", color: "#8a8886", dash: [4, 4] },
      ]}
      bands={[[3, 2]]}
      xLabel="true value"
      yLabel="predicted value"
      label={`Predicted versus true values of ${name}`}
    />
  );
}
