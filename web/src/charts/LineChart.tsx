/**
 * A uPlot chart owned by a Preact component. It is created once; new data goes in with
 * `setData` (a live append mutates the arrays and bumps `revision`, so the chart is not
 * rebuilt). Drag selects an x range, reported through `onZoom`; the zoom itself is a prop
 * (it lives in the URL). Double-click resets. Non-finite points are marked on the plot.
 */
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { formatNumber } from "../format/values";
import type { NonFinitePoint } from "./shape";

export interface ChartSeries {
  label: string;
  color: string;
  /** Draw as bars (histograms) instead of a line. */
  bars?: boolean;
  dash?: number[];
  /** A band's edge: drawn faintly, not in the legend's main line. */
  faint?: boolean;
  points?: boolean;
  /** Join across missing x values (curves of several classes on one x axis). */
  spanGaps?: boolean;
}

export interface LineChartProps {
  data: uPlot.AlignedData;
  series: ChartSeries[];
  /** Filled areas between two series (indexes into data, 1-based as uPlot counts). */
  bands?: [number, number][];
  revision?: number;
  xLabel: string;
  yLabel?: string;
  height?: number;
  zoom?: [number, number] | null;
  onZoom?: (range: [number, number] | null) => void;
  markers?: NonFinitePoint[];
  xRange?: [number, number];
  yRange?: [number, number];
  /** Plain-language description for screen readers. */
  label: string;
}

function markerPlugin(getMarkers: () => NonFinitePoint[]): uPlot.Plugin {
  return {
    hooks: {
      draw: (u: uPlot) => {
        const markers = getMarkers();
        if (!markers.length) return;
        const ctx = u.ctx;
        const { top, height } = u.bbox;
        const size = 5 * uPlot.pxRatio;
        ctx.save();
        for (const marker of markers) {
          const x = u.valToPos(marker.x, "x", true);
          if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
          if (marker.kind === "NaN") {
            ctx.strokeStyle = "rgba(197, 15, 31, 0.55)";
            ctx.setLineDash([3 * uPlot.pxRatio, 3 * uPlot.pxRatio]);
            ctx.beginPath();
            ctx.moveTo(x, top);
            ctx.lineTo(x, top + height);
            ctx.stroke();
          } else {
            const y = marker.kind === "+Inf" ? top + size : top + height - size;
            const dir = marker.kind === "+Inf" ? -1 : 1;
            ctx.fillStyle = "#c50f1f";
            ctx.setLineDash([]);
            ctx.beginPath();
            ctx.moveTo(x - size, y - dir * size);
            ctx.lineTo(x + size, y - dir * size);
            ctx.lineTo(x, y + dir * size);
            ctx.closePath();
            ctx.fill();
          }
        }
        ctx.restore();
      },
    },
  };
}

export function LineChart(props: LineChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | null>(null);
  const latest = useRef(props);
  latest.current = props;

  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const height = props.height ?? 260;
    const bars = uPlot.paths.bars ? uPlot.paths.bars({ size: [0.9, 80] }) : undefined;
    const options: uPlot.Options = {
      width: Math.max(200, element.clientWidth),
      height,
      series: [
        { label: props.xLabel, value: (_u, v) => (v === null ? "—" : formatNumber(v)) },
        ...props.series.map(
          (s): uPlot.Series => ({
            label: s.label,
            stroke: s.faint ? `${s.color}55` : s.color,
            width: s.faint ? 1 : 1.6,
            fill: s.bars ? `${s.color}88` : undefined,
            paths: s.bars ? bars : undefined,
            dash: s.dash,
            points: { show: s.points ?? false, size: 5 },
            spanGaps: s.spanGaps ?? false,
            value: (_u, v) => (v === null ? "—" : formatNumber(v)),
          }),
        ),
      ],
      bands: props.bands?.map(([a, b]) => ({ series: [a, b], fill: `${props.series[a - 1]?.color ?? "#0f6cbd"}22` })),
      axes: [
        { label: props.xLabel, stroke: "#616161", grid: { stroke: "#eeeeee" }, ticks: { stroke: "#e0e0e0" } },
        { label: props.yLabel, stroke: "#616161", grid: { stroke: "#eeeeee" }, ticks: { stroke: "#e0e0e0" }, size: 60 },
      ],
      scales: {
        x: { time: false, ...(props.xRange ? { range: props.xRange } : {}) },
        y: props.yRange ? { range: props.yRange } : {},
      },
      cursor: { drag: { x: true, y: false, setScale: false } },
      legend: { live: true },
      plugins: [markerPlugin(() => latest.current.markers ?? [])],
      hooks: {
        setSelect: [
          (u: uPlot) => {
            const { left, width } = u.select;
            if (width < 4) return;
            const x0 = u.posToVal(left, "x");
            const x1 = u.posToVal(left + width, "x");
            u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
            if (x1 > x0) latest.current.onZoom?.([x0, x1]);
          },
        ],
      },
    };
    const u = new uPlot(options, props.data, element);
    chart.current = u;
    const onDoubleClick = (): void => latest.current.onZoom?.(null);
    u.over.addEventListener("dblclick", onDoubleClick);
    const observer = new ResizeObserver(() => {
      const width = Math.max(200, element.clientWidth);
      if (width !== u.width) u.setSize({ width, height });
    });
    observer.observe(element);
    if (props.zoom) u.setScale("x", { min: props.zoom[0], max: props.zoom[1] });
    return () => {
      observer.disconnect();
      u.destroy();
      chart.current = null;
    };
  }, [props.series.length, props.series.map((s) => s.label).join("\u0000")]);

  // New or appended data: keep the zoomed range while zoomed.
  useEffect(() => {
    const u = chart.current;
    if (!u) return;
    u.setData(props.data, !props.zoom);
    if (props.zoom) u.setScale("x", { min: props.zoom[0], max: props.zoom[1] });
  }, [props.data, props.revision]);

  useEffect(() => {
    const u = chart.current;
    if (!u) return;
    if (props.zoom) u.setScale("x", { min: props.zoom[0], max: props.zoom[1] });
    else u.setData(props.data, true);
  }, [props.zoom?.[0], props.zoom?.[1]]);

  // Band edges (series 2 and 3 where used) are drawn but kept out of the legend.
  const banded = props.series.some((s) => s.faint);
  return <div class={banded ? "chart chart-band" : "chart"} ref={box} role="img" aria-label={props.label} />;
}
