// The machine table's sparklines: a few SVG polylines, no library. Gaps where nothing was sampled.
import { svg } from "./dom.ts";

/** A small line of the last values (null leaves a gap), scaled to 0..max (or its own range). */
export function sparkline(values: readonly (number | null)[], o: { max?: number; label: string; width?: number; height?: number }): SVGSVGElement {
  const w = o.width ?? 96;
  const hgt = o.height ?? 22;
  const real = values.filter((v): v is number => v !== null && Number.isFinite(v));
  const top = o.max ?? Math.max(1e-9, ...real);
  const bottom = o.max === undefined ? Math.min(0, ...real) : 0;
  const x = (i: number) => (values.length <= 1 ? w : (i / (values.length - 1)) * (w - 2) + 1);
  const y = (v: number) => hgt - 2 - ((Math.min(v, top) - bottom) / (top - bottom || 1)) * (hgt - 4);
  const runs: string[] = [];
  let run: string[] = [];
  values.forEach((v, i) => {
    if (v === null || !Number.isFinite(v)) {
      if (run.length) runs.push(run.join(" ")), (run = []);
    } else run.push(`${x(i).toFixed(1)},${y(v).toFixed(1)}`);
  });
  if (run.length) runs.push(run.join(" "));
  const el = svg("svg", { class: "spark", viewBox: `0 0 ${w} ${hgt}`, width: w, height: hgt, role: "img" });
  el.setAttribute("aria-label", o.label);
  el.appendChild(svg("title")).textContent = o.label;
  for (const points of runs) el.appendChild(svg("polyline", { points, fill: "none", "stroke-width": 1.5, class: "line" }));
  return el;
}
