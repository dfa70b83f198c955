// The repo level: one repo's history on its machine — every plugin's events tied to it (the
// `events` view with `repo`), over the last week unless the filter says otherwise.
import type { VcEvent } from "../../events.ts";
import { H, L } from "../lines.ts";
import { defineScreen } from "../screen.ts";
import { ageOf, clean, num } from "../text.ts";
import { styles } from "../theme.ts";
import type { Line, RepoRef } from "../types.ts";
import { EVENT_COLUMNS, eventItem, eventLines } from "./common.ts";
import type { EventsData } from "./events.ts";

const hours = (h: number | undefined) => h ?? 168;

function repoHeader(r: RepoRef): Line[] {
  return [
    [
      [`${clean(r.name)} `, styles.title],
      [`on ${clean(r.machine_id)} `, styles.dim],
      [clean(r.status ?? ""), styles.text],
    ],
    L(`  ${clean(r.path ?? "")}`, styles.dim),
  ];
}

export default defineScreen<EventsData>({
  id: "repo",
  title: "Repo",
  level: true,
  columns: () => ({ "*": EVENT_COLUMNS.filter((c) => c.id !== "machine") }),
  dataKey: (s) => (s.repo ? `${s.repo.machine_id}:${s.repo.repo_id}:${hours(s.filter.windowHours)}` : ""),
  async load({ view, state }) {
    const r = state.repo!;
    const out = await view("events", { repo: r.repo_id, repo_machine: r.machine_id, ...(r.path ? { path: r.path } : {}), window: `${hours(state.filter.windowHours)}h` });
    return out.data as EventsData;
  },
  errors: (_s, d) => (d?.errors ?? []).map((e) => `${e.source}: ${e.error}`),
  items: (s, d) => (d?.events ?? []).map((e: VcEvent) => eventItem(e, s)),
  age: (s) => ageOf(s.repo?.collected_at ?? null, s.now),
  detail(s, d, item, w) {
    if (!s.repo) return [L("no repo selected", styles.dim)];
    if (item?.event) return [...repoHeader(s.repo), H(item.event.group), ...eventLines(item.event, s, w, false)];
    return [...repoHeader(s.repo), H("EVENTS"), L(d ? `nothing recorded for this repo in the last ${num(hours(s.filter.windowHours))} h` : "loading…", styles.dim)];
  },
});
