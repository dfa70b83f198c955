// The Beads pane: repos with a bv triage, how many beads are ready; the detail shows bv's next
// picks and the blockers worth clearing (the `beads` and `repos` views).
import type { ReposData } from "../ru/shapes.ts";
import type { BeadsData } from "./shapes.ts";
import { type Column, type Line, type ListItem, H, L, ageOf, clean, defineScreen, fit, has, since, styles } from "vibe-cockpit/tui";

const COLUMNS: Column[] = [
  { id: "dot", title: "", width: 1, priority: 1 },
  { id: "machine", title: "MACHINE", width: 10, priority: 3 },
  { id: "repo", title: "REPO", width: 12, priority: 1, flex: true },
  { id: "ready", title: "READY", width: 5, priority: 1, align: "right" },
  { id: "blockers", title: "BLOCKERS", width: 8, priority: 2, align: "right" },
  { id: "triaged", title: "TRIAGED", width: 10, priority: 4, align: "right" },
];

interface Data {
  beads: BeadsData;
  repos: ReposData | null;
  /** Why the repos view (the ready counts) could not be read: an ERR row, the triage still shown. */
  reposError?: string;
}

export const beadsScreen = defineScreen<Data>({
  id: "beads",
  title: "Beads",
  short: "Bead",
  key: "b",
  columns: () => ({ "*": COLUMNS }),
  async load({ view }) {
    const [beads, repos] = await Promise.all([
      view("beads"),
      view("repos").then(
        (r) => r.data as ReposData,
        () => null,
      ),
    ]);
    return { beads: beads.data as BeadsData, repos };
  },
  items(s, d): ListItem[] {
    const ready = new Map<string, number | null>();
    for (const m of d?.repos?.machines ?? []) for (const r of m.repos) ready.set(`${m.id}:${r.repo_id}`, r.beads_ready);
    return (d?.beads.repos ?? [])
      .filter((t) => has(t.machine_id, s.filter.machine) && has(t.repo_path ?? t.repo_id, s.filter.repo))
      .map((t) => {
        const name = t.repo_path?.split("/").filter(Boolean).at(-1) ?? t.repo_id;
        const n = ready.get(`${t.machine_id}:${t.repo_id}`) ?? null;
        return {
          key: `beads:${t.machine_id}:${t.repo_id}`,
          group: "REPOS WITH BEADS",
          machineId: t.machine_id,
          repo: { machine_id: t.machine_id, repo_id: t.repo_id, name, path: t.repo_path, collected_at: t.collected_at },
          value: t,
          cells: {
            dot: ["●", t.blockers.length ? styles.warning : styles.healthy],
            machine: [t.machine_id, styles.dim],
            repo: [name, styles.text],
            ready: [n === null ? "-" : String(n), n ? styles.healthy : styles.dim],
            blockers: [String(t.blockers.length), t.blockers.length ? styles.warning : styles.dim],
            triaged: [since(ageOf(t.collected_at, s.now)), styles.dim],
          },
        };
      });
  },
  detail(_s, d, item, w) {
    const t = item?.value as BeadsData["repos"][number] | undefined;
    if (!t) return [H("BEADS"), L(d ? "no bv triage for these repos yet: the beads collectors have not written any" : "loading…", styles.dim)];
    const lines: Line[] = [
      [
        [`${clean(item!.repo!.name)} `, styles.title],
        [`on ${clean(t.machine_id)}`, styles.dim],
      ],
      H("NEXT PICKS (bv)"),
    ];
    if (t.recommendations.length === 0) lines.push(L("  none", styles.dim));
    for (const x of t.recommendations.slice(0, 6))
      lines.push([
        [`  ${fit(clean(x.id), 14)} `, styles.title],
        [fit(clean(x.title), Math.max(10, w - 24)), styles.text],
      ]);
    lines.push(H("BLOCKERS TO CLEAR"));
    if (t.blockers.length === 0) lines.push(L("  none", styles.dim));
    for (const x of t.blockers.slice(0, 5))
      lines.push([
        [`  ${fit(clean(x.id), 14)} `, styles.warning],
        [fit(clean(x.title), Math.max(10, w - 36)), styles.text],
        [` unblocks ${x.unblocks_count ?? 0}`, styles.dim],
      ]);
    lines.push(L("Enter: this repo's history · br show <id> for one bead", styles.dim));
    return lines;
  },
});
