// The Agents pane: one machine's ntm agents and sessions (from the machine view's `agents`
// section), beside the machine table.
import { type Line, H, L, clean, fit, machineScreen, num, styles, textWidth } from "vibe-cockpit/tui";

type Obj = Record<string, unknown>;
const obj = (x: unknown): Obj | null => (x && typeof x === "object" && !Array.isArray(x) ? (x as Obj) : null);
const list = (x: unknown): Obj[] => (Array.isArray(x) ? x.filter((r): r is Obj => !!obj(r)) : []);
const counts = (x: unknown) =>
  Object.entries(obj(x) ?? {})
    .filter(([k, n]) => k !== "total" && typeof n === "number" && n > 0)
    .map(([k, n]) => `${clean(k)} ${n}`)
    .join(" ");

function agentsLines(v: Obj): Line[] {
  const lines: Line[] = [];
  const agents = obj(v.agents);
  const act = obj(agents?.activity);
  lines.push(H("AGENTS (ntm)"));
  if (!agents || !act) return [...lines, L("  not collected: ntm is not configured or has not run", styles.dim)];
  const status = String(act.overall_status ?? "");
  lines.push([
    [`  ${num(act.total_agents, 0)} agents in ${num(act.total_sessions, 0)} sessions, ${num(act.attached_count, 0)} attached `, styles.text],
    [status, status === "healthy" ? styles.healthy : status ? styles.warning : styles.dim],
  ]);
  const mix = [counts(act.by_type_json), counts(act.by_state_json)].filter(Boolean).join(" · ");
  if (mix) lines.push(L(`  ${mix}`, styles.dim));
  const sessions = list(agents?.sessions);
  if (sessions.length) {
    lines.push(H(`SESSIONS (${sessions.length})`));
    const nw = Math.min(18, Math.max(...sessions.map((x) => textWidth(clean(x.session_name)))) + 1);
    for (const x of sessions.slice(0, 8)) {
      const ok = !x.health_status || x.health_status === "healthy";
      lines.push([
        ["  ● ", ok ? styles.healthy : styles.warning],
        [fit(clean(x.session_name), nw), styles.text],
        [`${num(x.agent_count, 0)} agents `, styles.dim],
        [clean(x.health_status ?? ""), ok ? styles.healthy : styles.warning],
        [x.health_reason ? `: ${clean(x.health_reason)}` : x.attached ? " (attached)" : "", styles.dim],
      ]);
    }
  }
  return lines;
}

export const agentsScreen = machineScreen({ id: "agents", title: "Agents", short: "Agnt", key: "m", lines: (v) => agentsLines(v) });
