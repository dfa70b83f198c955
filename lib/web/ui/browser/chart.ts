// The machine page's time-series charts: uPlot, bundled (nothing fetched from elsewhere) and loaded
// only by the page that draws them. Colours come from the page's CSS variables, so they follow the
// light or dark scheme.
import uPlot from "uplot";
import { h } from "./dom.ts";
import { num } from "./format.ts";

/** One bucket: epoch seconds and a value (null: nothing sampled). */
export type Point = [t: number, v: number | null];
const cssVar = (name: string, fallback: string) => getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;

export interface ChartSeries {
  label: string;
  points: readonly Point[];
  /** Which palette colour (1–4). */
  colour?: number;
  unit?: string;
}

export interface ChartOptions {
  title: string;
  series: readonly ChartSeries[];
  /** A fixed top of the scale (percentages: 100); otherwise the data's. */
  max?: number;
  height?: number;
}

/**
 * A time-series chart in a figure that resizes with its container. Returns the figure and a
 * function that frees the chart (call it when the page goes).
 */
export function timeChart(o: ChartOptions): { el: HTMLElement; destroy(): void } {
  const box = h("div", { class: "chart-box" });
  const latest = o.series.map((s) => {
    const last = [...s.points].reverse().find((p) => p[1] !== null);
    return `${s.label} ${last ? `${num(last[1])}${s.unit ?? ""}` : "–"}`;
  });
  const fig = h("figure", { class: "chart", "aria-label": `${o.title}: ${latest.join(", ")}` }, h("figcaption", null, o.title), box);
  const xs = (o.series[0]?.points ?? []).map((p) => p[0]);
  const data: uPlot.AlignedData = [xs, ...o.series.map((s) => s.points.map((p) => p[1]))];
  const fg = cssVar("--muted", "#666");
  const grid = cssVar("--grid", "rgba(128,128,128,0.2)");
  const axis = { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
  let plot: uPlot | null = null;
  const make = (width: number) => {
    plot = new uPlot(
      {
        width,
        height: o.height ?? 160,
        scales: { x: { time: true }, y: o.max === undefined ? { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } : { range: [0, o.max] } },
        axes: [axis, { ...axis, size: 44 }],
        legend: { show: true },
        series: [
          {},
          ...o.series.map((s) => {
            const colour = cssVar(`--chart-${s.colour ?? 1}`, "#3a7");
            return { label: s.label, stroke: colour, width: 1.5, fill: `${colour}22`, value: (_u: uPlot, v: number | null) => (v === null ? "–" : `${num(v)}${s.unit ?? ""}`) };
          }),
        ],
      },
      data,
      box,
    );
  };
  // Drawn once the figure is in the page and has a width; redrawn to the new width when it changes.
  const ro = new ResizeObserver(() => {
    const width = Math.floor(box.clientWidth);
    if (width <= 0) return;
    if (!plot) make(width);
    else if (Math.abs(plot.width - width) > 2) plot.setSize({ width, height: o.height ?? 160 });
  });
  ro.observe(box);
  return {
    el: fig,
    destroy() {
      ro.disconnect();
      plot?.destroy();
      plot = null;
    },
  };
}
