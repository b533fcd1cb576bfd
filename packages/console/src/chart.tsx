/**
 * A time-series line chart on uPlot (canvas, ~50 KB): the dashboard's volume and latency charts.
 * Canvas cannot read CSS, so the colours are read from the theme's variables and the chart is
 * redrawn when the system switches between light and dark. The canvas is opaque to screen
 * readers: the figure carries a label and a text summary of what it shows.
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartSeries {
  label: string;
  /** A CSS variable of styles.css (--ok, --bad, --warn, --info, --accent…). */
  colorVar: string;
  values: (number | null)[];
}

export interface ChartProps {
  /** What the chart shows (its accessible name). */
  label: string;
  /** The same information in words, shown under the chart and read by screen readers. */
  summary: string;
  /** Times of the points, in milliseconds. */
  times: number[];
  series: ChartSeries[];
  /** Counts: y ticks only at whole numbers. */
  wholeNumbers?: boolean;
  /** Formats a y value (axis ticks and the hover legend). */
  format?: (v: number) => string;
  height?: number;
}

const DARK = '(prefers-color-scheme: dark)';
/** Tick steps for counts: 1, 2, 5, 10, 20, 50… */
const WHOLE_STEPS = Array.from({ length: 24 }, (_, i) => [1, 2, 5][i % 3] * 10 ** Math.floor(i / 3));

function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888888';
}

/** "#rrggbb" with an alpha, for the area under a line; other colour syntaxes get no fill. */
function translucent(color: string, alpha: number): string | undefined {
  const m = /^#([0-9a-f]{6})$/i.exec(color);
  if (!m) return undefined;
  const n = parseInt(m[1], 16);
  return `rgba(${n >> 16}, ${(n >> 8) & 255}, ${n & 255}, ${alpha})`;
}

/** The points with no neighbour (a line needs two): drawn as dots, or a lone value would not show. */
function isolatedPoints(u: uPlot, seriesIdx: number): number[] {
  const v = u.data[seriesIdx];
  const out: number[] = [];
  for (let i = 0; i < v.length; i++) if (v[i] !== null && v[i] !== undefined && (v[i - 1] ?? null) === null && (v[i + 1] ?? null) === null) out.push(i);
  return out;
}

function options(props: ChartProps, width: number): uPlot.Options {
  const muted = cssVar('--muted');
  const border = cssVar('--border');
  const format = props.format ?? ((v: number) => String(v));
  const axis: uPlot.Axis = { stroke: muted, grid: { stroke: border, width: 1 }, ticks: { stroke: border, width: 1 }, font: '12px system-ui, sans-serif' };
  return {
    width,
    height: props.height ?? 220,
    // The charts start at zero: a volume or latency read against a cut axis misleads.
    scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
    axes: [axis, { ...axis, size: 56, values: (_u, splits) => splits.map((v) => format(v)), ...(props.wholeNumbers ? { incrs: WHOLE_STEPS } : {}) }],
    series: [
      {},
      ...props.series.map((s) => {
        const color = cssVar(s.colorVar);
        return {
          label: s.label,
          stroke: color,
          fill: translucent(color, 0.12),
          width: 2,
          points: { show: true, size: 6, fill: color, filter: isolatedPoints },
          value: (_u: uPlot, v: number | null) => (v === null || v === undefined ? '—' : format(v)),
        };
      }),
    ],
    cursor: { drag: { x: false, y: false } },
  };
}

function chartData(props: ChartProps): uPlot.AlignedData {
  return [props.times.map((t) => t / 1000), ...props.series.map((s) => s.values)];
}

export function Chart(props: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | null>(null);
  // The chart is rebuilt only when its series change; new data (a poll) is set into it.
  const shape = props.series.map((s) => `${s.label}|${s.colorVar}`).join(',');
  const latest = useRef(props);
  latest.current = props;

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const build = () => {
      chart.current?.destroy();
      chart.current = new uPlot(options(latest.current, el.clientWidth || 300), chartData(latest.current), el);
    };
    build();
    const resize = new ResizeObserver(() => {
      const u = chart.current;
      if (u && el.clientWidth > 0 && el.clientWidth !== u.width) u.setSize({ width: el.clientWidth, height: u.height });
    });
    resize.observe(el);
    const scheme = matchMedia(DARK);
    scheme.addEventListener('change', build);
    return () => {
      resize.disconnect();
      scheme.removeEventListener('change', build);
      chart.current?.destroy();
      chart.current = null;
    };
  }, [shape, props.height]);

  useEffect(() => {
    chart.current?.setData(chartData(props));
  }, [props.times, props.series]);

  return (
    <figure class="chart-figure">
      <div class="chart" ref={box} role="img" aria-label={props.label} />
      <figcaption class="chart-summary">{props.summary}</figcaption>
    </figure>
  );
}
