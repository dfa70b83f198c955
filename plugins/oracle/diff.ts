// `vc robot diff`: each account window's usage at the two moments (the newest caut reading at or
// before each, any machine), where it moved by a point or more or the window reset between them.
import { defineDiffSource, diffOnMachine, sql } from "vibe-cockpit";

type Usage = { provider: string; account: string; window_name: string; used: number; resets_at: string | null };

const usageAt = (q: { machine?: string }, at: string) => sql`
  SELECT provider, account, window_name, arg_max(used_percent, collected_at) AS used, arg_max(resets_at, collected_at) AS resets_at
  FROM account_usage_snapshots
  WHERE collected_at <= ${at}::TIMESTAMP AND collected_at > ${at}::TIMESTAMP - INTERVAL 1 DAY AND used_percent IS NOT NULL AND account <> ''${diffOnMachine(q)}
  GROUP BY ALL`;

export const accountsDiff = defineDiffSource({
  name: "accounts",
  title: "ACCOUNTS",
  async load(q) {
    const [before, after] = await Promise.all([q.store.query<Usage>(usageAt(q, q.from)), q.store.query<Usage>(usageAt(q, q.to))]);
    const key = (u: Usage) => `${u.provider}/${u.account}/${u.window_name}`;
    const was = new Map(before.map((u) => [key(u), u]));
    const out = [];
    for (const u of after) {
      const b = was.get(key(u));
      const reset = b && b.resets_at !== u.resets_at && u.used < b.used;
      if (b && !reset && Math.abs(u.used - b.used) < 1) continue;
      out.push({
        change: !b ? "appeared" : reset ? "reset" : "usage",
        machine_id: null,
        subject: key(u),
        from: b ? b.used : null,
        to: u.used,
        at: null,
        text: `${key(u)}: ${b ? `${Math.round(b.used)} % → ` : ""}${Math.round(u.used)} %${reset ? " (the window reset between)" : ""}`,
      });
    }
    return out.sort((a, b) => Number(b.to) - Number(a.to));
  },
});
