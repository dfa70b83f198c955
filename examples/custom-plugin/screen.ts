// The uptime plugin's pane in `vc tui`: each machine's latest load averages, read through the
// plugin's own view (never SQL), with the reading's age and its raw numbers in the detail.
import { type Column, H, L, ageOf, clean, defineScreen, fieldLines, has, since, styles } from "vibe-cockpit/tui";

interface Reading {
  machine_id: string;
  load1: number;
  load5: number;
  load15: number;
  collected_at: string;
}

const COLUMNS: Column[] = [
  { id: "dot", title: "", width: 1, priority: 1 },
  { id: "machine", title: "MACHINE", width: 10, priority: 1, flex: true },
  { id: "load", title: "LOAD 1/5/15", width: 16, priority: 1, align: "right" },
  { id: "age", title: "READ", width: 10, priority: 2, align: "right" },
];

export const uptimeScreen = defineScreen<{ machines: Reading[] }>({
  id: "uptime",
  title: "Uptime",
  short: "Upt",
  key: "u",
  columns: () => ({ "*": COLUMNS }),
  load: async ({ view }) => (await view("uptime")).data as { machines: Reading[] },
  items: (s, d) =>
    (d?.machines ?? [])
      .filter((m) => has(m.machine_id, s.filter.machine))
      .map((m) => ({
        key: `uptime:${m.machine_id}`,
        group: "LOAD (uptime)",
        machineId: m.machine_id,
        value: m,
        cells: {
          dot: ["●", m.load5 > 8 ? styles.warning : styles.healthy],
          machine: [m.machine_id, styles.text],
          load: [`${m.load1} ${m.load5} ${m.load15}`, styles.text],
          age: [since(ageOf(String(m.collected_at), s.now)), styles.dim],
        },
      })),
  detail(_s, d, item, w) {
    const m = item?.value as Reading | undefined;
    if (!m) return [H("UPTIME"), L(d ? "no uptime readings yet: run vc collect --once" : "loading…", styles.dim)];
    return [
      [[`${clean(m.machine_id)} `, styles.title]],
      H("LOAD AVERAGES"),
      ...fieldLines(
        [
          ["1 min", m.load1],
          ["5 min", m.load5],
          ["15 min", m.load15],
          ["read at", String(m.collected_at)],
        ],
        w,
      ),
    ];
  },
});
