// Machine: the machine table on the left; on the right the selected machine — its numbers, its
// sparklines over a chosen window (the `series` view), disks, collectors, then every other
// section of the `machine` view (plugins' included). `machineScreen` builds the plugins'
// machine screens (agents, mail) on the same list and the same read.
import { H, L, pct, since, valueLines, words } from "../lines.ts";
import { defineScreen, type LoadContext, type Screen } from "../screen.ts";
import { ageOf, bytes, clean, fit, num, sparkline, timeBuckets } from "../text.ts";
import { styles } from "../theme.ts";
import type { Line, ViewState } from "../types.ts";
import { focusMachine } from "../list.ts";
import { machineColumns, machineHeader, machineItems } from "./common.ts";

type Point = readonly [number, number | null];

/** The `series` view's answer. */
export interface Series {
  from: number;
  to: number;
  bucket_s: number;
  cpu: Point[];
  load: Point[];
  mem: Point[];
  swap?: Point[];
  disk: Point[];
  latest?: { cpu: number | null; load5: number | null; cpu_cores: number | null; mem_pct: number | null; disk_pct: number | null };
}

export interface MachineData {
  view: Record<string, unknown>;
  series: Series | null;
  /** Why the series could not be read (the rest of the pane is still drawn). */
  seriesError?: string;
  at: string;
}

/** The sparklines' windows, in hours, that `w` steps through. */
export const WINDOWS = [1, 6, 24, 168] as const;
export const windowLabel = (h: number) => (h >= 24 && h % 24 === 0 ? `${h / 24} d` : `${num(h)} h`);
const hoursOf = (s: ViewState) => s.filter.windowHours ?? 6;

/** The machine a machine screen shows: the selected row, else the one drilled into. */
export function shownMachine(s: ViewState, item?: { machineId: string | null }): string | null {
  return item?.machineId ?? s.machineId;
}

async function loadMachine({ view, state }: LoadContext, id: string | null, withSeries: boolean): Promise<MachineData | undefined> {
  if (!id) return undefined;
  const [m, series] = await Promise.all([
    view("machine", { id }),
    withSeries
      ? view("series", { machine: id, window: `${hoursOf(state)}h`, points: 240 }).then(
          (r) => ({ ok: r.data as Series }),
          (e: unknown) => ({ err: String(e instanceof Error ? e.message : e) }),
        )
      : null,
  ]);
  return {
    view: m.data as Record<string, unknown>,
    series: series && "ok" in series ? series.ok : null,
    ...(series && "err" in series ? { seriesError: series.err } : {}),
    at: m.generated_at,
  };
}

/** One sparkline and the value now: `cpu  ▁▂▃▅▆ now 42 %` (the scales are in the heading above). */
function spark(label: string, xs: readonly Point[], d: Series, w: number, now: string, nowW: number, max?: number): Line {
  const sw = Math.max(4, w - 6 - nowW);
  return [
    [label.padEnd(5), styles.dim],
    [sparkline(timeBuckets(xs, d.from, d.to, sw), sw, max), styles.healthy],
    [` ${now}`, styles.text],
  ];
}

/** A series' range as a person reads it: `0.7–8.4`. */
function range(xs: readonly Point[]): string {
  const nums = xs.map((x) => x[1]).filter((v): v is number => typeof v === "number");
  return nums.length ? `${num(Math.min(...nums))}–${num(Math.max(...nums))}` : "no data";
}

const last = (xs: readonly Point[]) => [...xs].reverse().find((x) => typeof x[1] === "number")?.[1] ?? null;

/** The sections the Machine screen draws itself; every other section is shown as it comes. */
const OWN = new Set(["machine", "health", "system", "filesystems", "collectors", "tools", "section_errors"]);

function machineLines(s: ViewState, id: string | null, d: MachineData | undefined, w: number, skip: ReadonlySet<string>): Line[] {
  const lines = machineHeader(s, id);
  if (!id) return lines;
  if (!d || (d.view.machine as Record<string, unknown> | undefined)?.id !== id) return [...lines, L("loading…", styles.dim)];
  const v = d.view;
  const sys = (v.system ?? {}) as Record<string, unknown>;
  const hours = hoursOf(s);
  lines.push(H(`LAST ${windowLabel(hours)}  (w: ${WINDOWS.map(windowLabel).join(" · ")})`));
  if (d.series) {
    const x = d.series;
    // The scales: percentages from 0 to 100, load from its least to its most in the window.
    lines.push(L(`  cpu, mem, disk on 0–100 %; load ${range(x.load)}`, styles.dim));
    const rows = [
      ["cpu", x.cpu, `now ${pct(last(x.cpu))}`, 100],
      ["load", x.load, `now ${num(last(x.load))} / ${num(sys.cpu_cores ?? x.latest?.cpu_cores, 0)} cores`, undefined],
      ["mem", x.mem, `now ${pct(last(x.mem))}`, 100],
      ["disk", x.disk, `now ${pct(last(x.disk))}`, 100],
    ] as const;
    // One width for the values, so the four sparklines line up.
    const nowW = Math.max(...rows.map((r) => r[2].length));
    for (const [label, xs, now, max] of rows) lines.push(spark(label, xs, x, w, now, nowW, max));
  } else lines.push(L(`  ERR series: ${clean(d.seriesError ?? "not read")}`, styles.critical));
  const fs = (v.filesystems ?? []) as Record<string, unknown>[];
  lines.push(H("DISKS"));
  if (fs.length === 0) lines.push(L("  not collected", styles.dim));
  for (const f of [...fs].sort((a, b) => Number(b.used_pct) - Number(a.used_pct)).slice(0, 5)) {
    const p = Number(f.used_pct);
    lines.push([
      [`  ${fit(clean(f.mount), 14)} `, styles.text],
      [`${pct(p)} full`.padStart(9), p >= 90 ? styles.critical : p >= 80 ? styles.warning : styles.healthy],
      [` of ${bytes(f.size_bytes)}, ${bytes(f.avail_bytes)} free`, styles.dim],
    ]);
  }
  const cols = (v.collectors ?? []) as Record<string, unknown>[];
  lines.push(H("COLLECTORS"));
  for (const c of cols.slice(0, 8))
    lines.push([
      [`  ${fit(clean(c.collector), 16)} `, styles.text],
      [fit(clean(c.last_result ?? "never"), 8), c.last_result === "ok" ? styles.healthy : styles.warning],
      [` ${since(ageOf((c.last_run_at ?? null) as string | null, s.now))} ${clean(c.last_error ?? "")}`, styles.dim],
    ]);
  for (const e of (v.section_errors ?? []) as { section: string; error: string }[]) lines.push(L(`ERR ${clean(e.section)}: ${clean(e.error)}`, styles.critical));
  // Every other section (the plugins'), as it comes; those with nothing here are named on one line.
  const empty: string[] = [];
  for (const [k, value] of Object.entries(v)) {
    if (OWN.has(k) || skip.has(k)) continue;
    if (value === null || value === undefined || (Array.isArray(value) && value.length === 0)) empty.push(words(k));
    else lines.push(...valueLines(words(k).toUpperCase(), value, 5));
  }
  if (empty.length) lines.push(H("NOTHING COLLECTED HERE"), L(`  ${empty.join(", ")}`, styles.dim));
  return lines;
}

export default defineScreen<MachineData | undefined>({
  id: "machine",
  title: "Machine",
  short: "Mach",
  columns: (s) => ({ "*": machineColumns(s) }),
  items: (s) => machineItems(s),
  dataKey: (s) => `${focusMachine(s) ?? ""}:${hoursOf(s)}`,
  load: (ctx) => loadMachine(ctx, focusMachine(ctx.state), true),
  detail: (s, d, item, w) => machineLines(s, shownMachine(s, item), d, w, new Set()),
  age: (s, d) => (d ? ageOf(String((d.view.machine as Record<string, unknown> | undefined)?.last_seen_at ?? "") || null, s.now) : null),
});

/**
 * A plugin's machine screen: the machine table on the left, its own lines from the `machine`
 * view's sections on the right (the Agents and Mail screens are built this way).
 */
export function machineScreen(o: {
  id: string;
  title: string;
  short?: string;
  key?: string;
  /** The machine view's data for the shown machine in, the pane's lines out. */
  lines(view: Record<string, unknown>, s: ViewState, w: number): Line[];
}): Screen<MachineData | undefined> {
  return defineScreen<MachineData | undefined>({
    id: o.id,
    title: o.title,
    short: o.short,
    key: o.key,
    columns: (s) => ({ "*": machineColumns(s) }),
    items: (s) => machineItems(s),
    detail(s, d, item, w) {
      const id = shownMachine(s, item);
      const head = machineHeader(s, id);
      if (!id) return head;
      if (!d || (d.view.machine as Record<string, unknown> | undefined)?.id !== id) return [...head, L("loading…", styles.dim)];
      return [...head, ...o.lines(d.view, s, w)];
    },
    load: (ctx) => loadMachine(ctx, focusMachine(ctx.state), false),
    dataKey: (s) => focusMachine(s) ?? "",
  });
}
