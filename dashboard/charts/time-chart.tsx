/**
 * A uPlot time series in a Preact component: created once, resized with its container, fed new data
 * by `read()` whenever `version` changes (at most once a second: the charts are minutes wide).
 */
import type { ReadonlySignal } from "@preact/signals";
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";

export interface ChartSeries {
  readonly label: string;
  /** A CSS custom property holding the line colour, e.g. "--accent". */
  readonly colorVar: string;
  readonly scale?: string;
  readonly decimals?: number;
  /** Points only, no line: for a phase, whose wrap from 2π to 0 a line would draw as a jump. */
  readonly pointsOnly?: boolean;
}

export interface TimeChartProps {
  readonly title: string;
  readonly series: readonly ChartSeries[];
  readonly scales?: uPlot.Scales;
  readonly axes?: readonly { readonly scale: string; readonly side: 1 | 3; readonly label: string }[];
  readonly version: ReadonlySignal<number>;
  readonly read: () => uPlot.AlignedData;
  readonly height?: number;
  readonly points?: boolean;
}

const REDRAW_EVERY_MS = 1000;

export function TimeChart(props: TimeChartProps) {
  const host = useRef<HTMLDivElement>(null);
  const readRef = useRef(props.read);
  readRef.current = props.read;

  useEffect(() => {
    const el = host.current;
    if (el === null) return;
    const style = getComputedStyle(el);
    const color = (name: string): string => style.getPropertyValue(name).trim() || "#3355ff";
    const axisColor = color("--text-muted");
    const gridColor = color("--circle-grid");
    const height = props.height ?? 200;
    const axes: uPlot.Axis[] = [{ stroke: axisColor, grid: { stroke: gridColor, width: 1 }, ticks: { stroke: gridColor, width: 1 } }];
    for (const a of props.axes ?? [{ scale: "y", side: 3, label: "" }]) {
      axes.push({ scale: a.scale, side: a.side, label: a.label, stroke: axisColor, grid: { stroke: gridColor, width: 1, show: a.side === 3 }, ticks: { stroke: gridColor, width: 1 } });
    }
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height,
      scales: props.scales ?? {},
      axes,
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
      series: [
        {},
        ...props.series.map((s) => ({
          label: s.label,
          scale: s.scale ?? "y",
          stroke: color(s.colorVar),
          width: 2,
          points: { show: (props.points ?? false) || s.pointsOnly === true, size: 4 },
          ...(s.pointsOnly === true ? { paths: () => null } : {}),
          value: (_u: uPlot, v: number | null) => (v === null ? "–" : v.toFixed(s.decimals ?? 3)),
        })),
      ],
    };
    const chart = new uPlot(opts, readRef.current(), el);
    const resize = new ResizeObserver(() => chart.setSize({ width: Math.max(200, el.clientWidth), height }));
    resize.observe(el);
    let last = 0;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const redraw = (): void => {
      timer = null;
      last = Date.now();
      chart.setData(readRef.current());
    };
    const unsubscribe = props.version.subscribe(() => {
      if (timer !== null) return;
      const wait = Math.max(0, REDRAW_EVERY_MS - (Date.now() - last));
      timer = setTimeout(redraw, wait);
    });
    return () => {
      unsubscribe();
      if (timer !== null) clearTimeout(timer);
      resize.disconnect();
      chart.destroy();
    };
    // The chart is configured once; data flows through `read` and `version`.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, []);

  return <div class="chart" ref={host} role="img" aria-label={props.title} />;
}
