// `vc ask` about accounts, answered from the oracle view: which account to use next, when an
// account hits its limit (with the interval, the action and the swap command), and the oracle's
// part of "why is <machine> unhealthy" (its accounts near their limits, its disks filling).
import { capture, defineCatalog, defineIntent, mentions, minutesText, whenText, type AskContext, type Fact, type Mention, type Question } from "vibe-cockpit";
import type { AccountsData } from "./shapes.ts";
import type { OracleAccount, OracleData } from "../oracle/view.ts";

/** The accounts caut and caam know, by account (and its caam profile, `provider/account`, the part before the @). */
export const accountCatalog = defineCatalog({
  kind: "account",
  words: ["account", "acct", "profile", "subscription", "login", "plan"],
  async load(vc) {
    const d = (await vc.view("accounts")).data as AccountsData;
    const names = new Map<string, Set<string>>();
    const add = (name: string | null, ...aliases: (string | null)[]) => {
      if (!name) return;
      const set = names.get(name) ?? new Set<string>();
      for (const a of aliases) if (a && a !== name) set.add(a);
      names.set(name, set);
    };
    const local = (s: string) => (s.includes("@") ? s.slice(0, s.indexOf("@")) : null);
    for (const a of d.accounts) add(a.account, a.account && `${a.provider}/${a.account}`, a.account && local(a.account));
    for (const p of d.profiles) add(p.profile, `${p.provider}/${p.profile}`, local(p.profile));
    return [...names].map(([name, aliases]) => ({ name, aliases: [...aliases] }));
  },
});

const PROVIDERS = /\b(claude|codex|gemini)\b/;

/** The provider a question names ("my claude account"), as an entity that needs no resolving. */
function provider(q: Question): Record<string, Mention> {
  const p = PROVIDERS.exec(q.norm)?.[1];
  return p ? { provider: { kind: "provider", typed: p, value: p } } : {};
}

/**
 * The oracle's forecasts, only the provider's when the question names one, with the oracle's
 * warnings about accounts (not those about disks, cass's index or the cost).
 */
async function forecasts(
  vc: AskContext,
  args: Record<string, unknown>,
  prov: string | undefined,
): Promise<{ data: OracleData; accounts: OracleAccount[]; warnings: string[] } | null> {
  const r = await vc.optionalView("oracle", args, { quiet: true });
  if (!r) return null;
  const data = r.data as OracleData;
  const warnings = r.warnings.filter((w) => /\b(?:caut|caam|accounts?|fleet signal)\b/i.test(w) && !/\bcost\b|caut_cost/i.test(w));
  return { data, accounts: data.accounts.filter((a) => !prov || a.provider === prov), warnings };
}

const URGENCY = ["emergency_pause", "swap_now", "prepare_swap", "slow_down", "continue"];
const byUrgency = (a: OracleAccount, b: OracleAccount) =>
  URGENCY.indexOf(a.action.kind) - URGENCY.indexOf(b.action.kind) || (a.time_to_limit_min ?? Infinity) - (b.time_to_limit_min ?? Infinity);

/** "42–86 min", "50 min–2.5 h": an interval of minutes. */
const rangeText = (low: number, high: number) => (high < 90 ? `${Math.round(low)}–${Math.round(high)} min` : `${minutesText(low)}–${minutesText(high)}`);

/** "in ~56 min (42–86 min)": the time to the limit with its interval. */
const ttlText = (a: Pick<OracleAccount, "time_to_limit_min" | "low_min" | "high_min">) =>
  a.time_to_limit_min === null
    ? "not before its reset"
    : `in ~${minutesText(a.time_to_limit_min)}${a.low_min !== null && a.high_min !== null ? ` (${rangeText(a.low_min, a.high_min)})` : ""}`;

/** The oracle's actions, as the headline says them. */
const SAYS: Record<string, string> = {
  slow_down: "slow down",
  prepare_swap: "prepare a swap",
  swap_now: "swap now",
  emergency_pause: "pause its agents: no account of the provider has headroom",
  continue: "carry on",
};

/** One account window's forecast as a fact: usage, time to the limit with its interval, the action and its command. */
function forecastFact(a: OracleAccount, label = `${a.provider}/${a.account} ${a.window}`): Fact {
  const reset = a.resets_at ? `; resets ${whenText(a.resets_at)}` : "";
  const limit = a.time_to_limit_min === null ? "lasts until its reset" : `limit ${ttlText(a)}, at ${whenText(a.limit_at!)}`;
  return {
    label,
    value: `${Math.round(a.used_percent)} % used; ${limit}${reset}; burn ${Math.round(a.burn_per_min * 600) / 10} points/h (confidence ${a.confidence_level})`,
    ...(a.action.kind === "continue" ? {} : { recommendation: a.action.text }),
    ...(a.action.to?.command ? { command: a.action.to.command } : {}),
  };
}

const ACCOUNT = /\b(?:accounts?|profiles?|logins?|subscriptions?)\b/;
const NEXT = /\b(?:use|using|next|switch|swap|move|pick|choose|best|headroom|room|capacity|free|available|rotate|change to)\b/;

/** which account should I use next: per provider the account with the most headroom, and the swaps the oracle advises. */
export const accountNext = defineIntent({
  name: "account_next",
  summary: "Which account to use next: per provider the one with the most headroom, the accounts near their limit and the swap command",
  examples: ["which account should I use next?", "which claude account has the most headroom?", "should I swap accounts?"],
  match(q) {
    if (mentions(q, /\b(?:which|what) (?:\w+ )?(?:accounts?|profiles?|logins?)\b/) && mentions(q, NEXT)) return { score: 0.95, entities: provider(q) };
    if (
      mentions(q, /\bshould (?:i|we) (?:swap|switch|change|rotate|move)\b/, /\bbest account\b/) ||
      (mentions(q, ACCOUNT) && mentions(q, /\b(?:use next|next|switch to|swap to|most headroom)\b/))
    )
      return { score: 0.9, entities: provider(q) };
    return null;
  },
  async answer(vc, e) {
    const f = await forecasts(vc, {}, e.provider?.value);
    if (!f || f.accounts.length === 0) return { text: "The oracle has no account forecasts: vc has no caut or caam data (see the warnings).", facts: [], warnings: f?.warnings };
    // Per provider and account: its fullest window (headroom) and its most urgent forecast.
    const per = new Map<string, OracleAccount[]>();
    for (const a of f.accounts) per.set(`${a.provider}/${a.account}`, [...(per.get(`${a.provider}/${a.account}`) ?? []), a]);
    const accounts = [...per.values()].map((ws) => {
      const fullest = [...ws].sort((a, b) => b.used_percent - a.used_percent)[0]!;
      return { provider: fullest.provider, account: fullest.account, profile: fullest.profile, fullest, urgent: [...ws].sort(byUrgency)[0]!, active_on: fullest.active_on };
    });
    // The command that switches to an account: the oracle names it among the other accounts' alternatives.
    const commandFor = (provider: string, account: string) =>
      f.accounts.flatMap((a) => a.alternatives).find((x) => x.provider === provider && x.account === account && x.command)?.command;
    const facts: Fact[] = [];
    const picks: string[] = [];
    for (const prov of [...new Set(accounts.map((a) => a.provider))].sort()) {
      // Those that need no action first, then the most headroom.
      const calm = (a: (typeof accounts)[number]) => Number(a.urgent.action.kind !== "continue");
      const best = accounts.filter((a) => a.provider === prov).sort((a, b) => calm(a) - calm(b) || a.fullest.used_percent - b.fullest.used_percent)[0]!;
      const command = commandFor(prov, best.account);
      picks.push(`${best.account} for ${prov} (${Math.round(100 - best.fullest.used_percent)} % headroom)`);
      facts.push({
        label: `${prov}: use ${best.account}`,
        value: `${Math.round(100 - best.fullest.used_percent)} % headroom in its fullest window (${best.fullest.window}, ${Math.round(best.fullest.used_percent)} % used${best.fullest.resets_at ? `, resets ${whenText(best.fullest.resets_at)}` : ""}); limit ${ttlText(best.urgent)}`,
        recommendation: best.active_on.length
          ? `already active on ${best.active_on.join(", ")}: keep it`
          : `switch to it${best.profile ? ` (caam profile ${best.profile})` : ""} on the machines that use ${prov}`,
        ...(command && !best.active_on.length ? { command } : {}),
      });
    }
    for (const a of f.accounts.filter((x) => x.action.kind !== "continue").sort(byUrgency)) facts.push(forecastFact(a));
    const next = f.data.next;
    const text = next
      ? `${next.text}${next.command ? ` (${next.command})` : ""}. Per provider, the account with the most headroom: ${picks.join("; ")}.`
      : `Use ${picks.join("; ")}: no account needs a swap now.`;
    return { text, facts, warnings: f.warnings };
  },
});

const WHEN =
  /\bwhen (?:does|will|do|is|would|should) (.+?) (?:hit|hits|reach|reaches|run out|runs out|max out|cap out|get rate limited|be rate limited|get limited|be limited|run dry|exhaust|go over|be out|reset|resets)\b/;
const HOW_LONG =
  /\bhow (?:long|much time|much longer|many minutes|many hours) (?:until|before|till|does|do|has|have|is left for|left on|left for|for) (.+?) (?:hits?|reach(?:es)?|runs? out|has|have|is rate limited|gets? limited|left|lasts?)\b/;
const HOW_CLOSE = /\bhow (?:close|near) (?:is|are) (.+?) to (?:its |their |the |her |his |my )?(?:limits?|rate limits?|quotas?|caps?)\b/;
const LIMIT = /\b(?:limits?|rate limits?|rate limited|quotas?|run out|running out|runs out|headroom|usage cap)\b/;

/** The account a question names, without the provider word in it ("my claude account alice" → "alice"). */
function accountMention(typed: string | null): Record<string, Mention> {
  const rest = typed === null ? null : typed.replace(PROVIDERS, " ").replace(/\s+/g, " ").trim();
  return { account: { kind: "account", typed: rest === "" ? null : rest } };
}

/** when does <account> hit its limit: each of its windows with the time to the limit, its interval, the action and the command. */
export const accountLimit = defineIntent({
  name: "account_limit",
  summary: "When an account hits its limit: the time with its interval, the action (slow down, swap) and the swap command; without a name, the accounts nearest their limits",
  examples: ["when does <account> hit its limit?", "how long until my claude account runs out?", "which accounts are close to their limit?"],
  catalogs: [accountCatalog],
  match(q) {
    const typed = capture(q, WHEN, HOW_LONG, HOW_CLOSE);
    if (typed !== null) return { score: 0.95, entities: { ...accountMention(typed), ...provider(q) } };
    if (mentions(q, ACCOUNT) && mentions(q, LIMIT)) return { score: 0.85, entities: { account: { kind: "account", typed: null }, ...provider(q) } };
    if (mentions(q, LIMIT)) return { score: 0.6, entities: { account: { kind: "account", typed: null }, ...provider(q) } };
    return null;
  },
  async answer(vc, e) {
    const name = e.account?.value;
    const f = await forecasts(vc, name ? { account: name } : {}, e.provider?.value);
    const warnings = f?.warnings;
    if (!f || f.accounts.length === 0)
      return {
        text: name ? `The oracle has no forecast for ${name} (no recent usage of it).` : "The oracle has no account forecasts: vc has no caut or caam data (see the warnings).",
        facts: [],
        warnings,
      };
    const sorted = [...f.accounts].sort(byUrgency);
    const which = e.provider ? `${e.provider.value} ` : "";
    if (name) {
      const first = sorted[0]!;
      const who = first.account === name ? `${first.provider}/${name}` : `${name} (${first.provider}/${first.account})`;
      const resets = sorted.filter((a) => a.resets_at).sort((a, b) => Date.parse(a.resets_at!) - Date.parse(b.resets_at!))[0];
      const text =
        first.time_to_limit_min === null
          ? `${who} does not hit a limit before its windows reset (${sorted.map((a) => `${a.window} ${Math.round(a.used_percent)} % used`).join(", ")})${resets ? `; the first resets ${whenText(resets.resets_at!)}` : ""}.`
          : `${who} reaches its ${first.window} limit ${ttlText(first)}, at ${whenText(first.limit_at!)}${first.resets_at ? `, before the window resets at ${whenText(first.resets_at)}` : ""}. The oracle says ${SAYS[first.action.kind] ?? first.action.kind}${first.action.to ? `, or move to ${first.action.to.account} (${first.action.to.headroom_percent} % headroom)` : ""}.`;
      return { text, facts: sorted.map((a) => forecastFact(a)), warnings };
    }
    const near = sorted.filter((a) => a.time_to_limit_min !== null || a.action.kind !== "continue");
    if (near.length === 0) {
      const busiest = [...f.accounts].sort((a, b) => b.used_percent - a.used_percent).slice(0, 5);
      return { text: `No ${which}account is on course to hit its limit before its window resets. The fullest windows:`, facts: busiest.map((a) => forecastFact(a)), warnings };
    }
    return {
      text: `${near.length} ${which}account window${near.length === 1 ? " is" : "s are"} on course to hit the limit before the reset, soonest first:`,
      facts: near.map((a) => forecastFact(a)),
      warnings,
    };
  },
});

/** The oracle's part of "why is <machine> unhealthy": its accounts near their limits and its disks filling. */
export const machineForecasts = defineIntent({
  name: "machine_health",
  summary: "The oracle on a machine: accounts it uses near their limits, disks filling",
  examples: [],
  match: () => null,
  async answer(vc, e) {
    const id = e.machine?.value;
    if (!id) return null;
    const f = await forecasts(vc, { machine: id }, undefined);
    if (!f) return null;
    const facts: Fact[] = f.accounts
      .filter((a) => a.action.kind !== "continue")
      .sort(byUrgency)
      .map((a) => forecastFact(a, `account ${a.provider}/${a.account} (${a.window})`));
    // A disk that fills within the day, or is nearly full and still filling.
    for (const d of f.data.disks.filter((x) => x.machine_id === id && x.to_full_min !== null && (x.to_full_min < 1440 || x.used_percent >= 90)))
      facts.push({
        label: `disk ${d.mount} filling`,
        value: `${Math.round(d.used_percent)} % used; ${d.reason}`,
        recommendation: `free space on ${d.mount} or move data off it before it fills (${minutesText(d.to_full_min!)})`,
        command: `vc robot oracle --machine ${id}`,
      });
    return facts.length ? { text: `The oracle's forecasts for ${id}:`, facts } : null;
  },
});

export const accountIntents = [accountNext, accountLimit, machineForecasts];
