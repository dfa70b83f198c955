// The Mail pane: one machine's agent mail needing attention (urgent unread, awaiting ack) and
// its file reservations, from the machine view's `mail` and `file_reservations` sections.
import { type Line, H, L, ageOf, clean, fit, machineScreen, num, since, styles, textWidth, until } from "vibe-cockpit/tui";

type Obj = Record<string, unknown>;
const obj = (x: unknown): Obj | null => (x && typeof x === "object" && !Array.isArray(x) ? (x as Obj) : null);
const list = (x: unknown): Obj[] => (Array.isArray(x) ? x.filter((r): r is Obj => !!obj(r)) : []);

function mailLines(v: Obj, now: Date, w: number): Line[] {
  const lines: Line[] = [];
  const mail = obj(v.mail);
  const urgent = obj(mail?.urgent_unread);
  const ack = obj(mail?.ack_required_unacked);
  lines.push(H(mail ? `MAIL: ${num(urgent?.count ?? 0, 0)} urgent unread, ${num(ack?.count ?? 0, 0)} awaiting ack` : "MAIL"));
  if (!mail) lines.push(L("  not collected: mcp_agent_mail is not configured or has not run", styles.dim));
  // One line per message (a message to three agents is one line naming all three).
  const msgs = new Map<string, { m: Obj; to: string[] }>();
  for (const m of [...list(urgent?.items), ...list(ack?.items)]) {
    const key = `${m.project_id}:${m.message_id}`;
    const e = msgs.get(key) ?? { m, to: [] };
    if (m.recipient && !e.to.includes(String(m.recipient))) e.to.push(String(m.recipient));
    msgs.set(key, e);
  }
  for (const { m, to } of [...msgs.values()].slice(0, 8)) {
    const age = typeof m.age_s === "number" ? m.age_s : ageOf(m.created_ts as string, now);
    // The subject takes what the sender, recipients and age leave.
    const tail = ` ${clean(m.sender)}→${to.length > 1 ? `${to.length} agents` : clean(to[0] ?? "?")} ${since(age)}`;
    const mark: [string, typeof styles.text] = [m.importance === "urgent" ? "  ! " : "  · ", m.importance === "urgent" ? styles.critical : styles.warning];
    // Narrow: who and when on a line of their own, so the subject keeps its words.
    if (w - 4 - textWidth(tail) < 30) lines.push([mark, [clean(m.subject), styles.text]], L(`   ${tail}`, styles.dim));
    else lines.push([mark, [fit(clean(m.subject), w - 4 - textWidth(tail)), styles.text], [tail, styles.dim]]);
  }
  const res = obj(v.file_reservations);
  const active = list(res?.active);
  lines.push(
    H(
      res
        ? `FILE RESERVATIONS: ${num(res.active_count ?? active.length, 0)} active${res.expired_unreleased_count ? `, ${num(res.expired_unreleased_count, 0)} expired` : ""}`
        : "FILE RESERVATIONS",
    ),
  );
  if (!res) lines.push(L("  not collected", styles.dim));
  for (const r of active.slice(0, 6)) {
    const left = typeof r.expires_in_s === "number" ? (r.expires_in_s <= 0 ? "expired" : `expires ${until(r.expires_in_s)}`) : "";
    lines.push([
      [`  ${fit(clean(r.holder), 12)} `, styles.text],
      [`${fit(clean(r.path_pattern), Math.max(10, w - 38))} `, styles.text],
      [`${r.exclusive ? "excl " : ""}${clean(r.reason ?? "")} ${left}`, styles.dim],
    ]);
  }
  return lines;
}

export const mailScreen = machineScreen({ id: "mail", title: "Mail", short: "Mail", key: "l", lines: (v, s, w) => mailLines(v, s.now, w) });
