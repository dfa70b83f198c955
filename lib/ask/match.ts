// Reading a question: normalising it, telling a command from a question, finding a time in it
// ("since 2h", "since yesterday 14:00", "since 2026-08-20"). The intents' own patterns run on the
// normalised text.
import type { Question } from "./define.ts";

// "what's" → "what is"; other "'s" (node-07's disk) is a possessive and goes.
const IS = /\b(what|who|how|where|when|why|that|it|there|here|which)'s\b/g;
const NOT: [RegExp, string][] = [
  [/\bcan't\b/g, "cannot"],
  [/\bwon't\b/g, "will not"],
  [/\b(\w+)n't\b/g, "$1 not"],
  [/\b(\w+)'re\b/g, "$1 are"],
  [/\b(\w+)'ve\b/g, "$1 have"],
  [/\bi'm\b/g, "i am"],
  [/\b(\w+)'ll\b/g, "$1 will"],
  [/\b(\w+)'d\b/g, "$1 would"],
];

/**
 * The question as the matcher reads it: lower case, contractions spelled out, punctuation around
 * words dropped (a name's own `-`, `_`, `.`, `@`, `/` and `:` stay), one space between words.
 * @example normaliseQuestion("What's blocking vibe_cockpit?").norm // "what is blocking vibe_cockpit"
 */
export function normaliseQuestion(text: string): Question {
  let s = text
    .trim()
    .toLowerCase()
    .replace(/[\u2018\u2019\u02bc`]/g, "'");
  s = s.replace(IS, "$1 is");
  for (const [re, to] of NOT) s = s.replace(re, to);
  s = s.replace(/'s\b/g, "");
  const words = s
    .replace(/[^\p{L}\p{N}\s_.@/:+-]/gu, " ")
    .split(/\s+/)
    .map((w) => w.replace(/^[.:/+-]+|[.:/-]+$/g, ""))
    .filter(Boolean);
  return { text: text.trim(), norm: words.join(" "), words };
}

// Said before a question without changing it.
const POLITE = /^(?:(?:please|pls|hey|hi|ok|okay|so|vc|cockpit|can you|could you|would you|will you|tell me|show me|let me know)\s+)+/;
// A sentence that starts with one of these asks vc to do something.
const ACTIONS = new Set(
  (
    "delete remove rm drop truncate kill stop restart reboot shutdown shut start run execute exec swap activate switch install uninstall " +
    "update upgrade downgrade push pull commit merge rebase reset clear wipe purge erase create insert alter set write deploy move rename " +
    "ack acknowledge silence mute unmute close open send spawn launch pause resume fix apply revert destroy terminate disable enable " +
    "select pragma copy attach detach export import load vacuum checkpoint grant revoke call"
  ).split(" "),
);

/**
 * Why the question is a command rather than a question (`vc ask` reads and never acts), or null.
 * @example declined(normaliseQuestion("delete all repos")) // "“delete …” asks vc to do something …"
 */
export function declined(q: Question): string | null {
  const rest = q.norm.replace(POLITE, "");
  const first = rest.split(" ")[0] ?? "";
  if (!ACTIONS.has(first)) return null;
  return `"${first} …" asks vc to do something: vc ask only answers questions from vc's views, and runs nothing, changes nothing and writes no SQL`;
}

/** The first group of the first pattern that matches the normalised question, trimmed (null: none matched). */
export function capture(q: Question, ...patterns: RegExp[]): string | null {
  for (const re of patterns) {
    const m = re.exec(q.norm);
    if (m) return (m[1] ?? "").trim() || null;
  }
  return null;
}

/** Whether any of the patterns matches the normalised question. */
export const mentions = (q: Question, ...patterns: RegExp[]): boolean => patterns.some((re) => re.test(q.norm));

/** The words a time phrase starts with, as a regex alternation: a name captured before one ends there. */
export const TIME_WORDS = "since|from|after|in the|over the|during|within|for the|today|yesterday|this|last|past|before|recently|lately|now|right now";

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const UNIT = "(seconds?|secs?|s|minutes?|mins?|m|hours?|hrs?|h|days?|d|weeks?|wks?|w)";
const unitMs = (u: string) => UNIT_MS[u === "mins" || u.startsWith("min") ? "m" : u.startsWith("h") ? "h" : u.startsWith("d") ? "d" : u.startsWith("w") ? "w" : u[0]!]!;
const count = (n: string) => (n === "a" || n === "an" || n === "one" ? 1 : Number(n));
const CLOCK = "(\\d{1,2})(?::(\\d{2}))?\\s*(am|pm)?";

/** Local midnight of the day `days` after `now`'s. */
function midnight(now: Date, days = 0): Date {
  return new Date(now.getFullYear(), now.getMonth(), now.getDate() + days);
}

function atClock(day: Date, h: string | undefined, mi: string | undefined, ampm: string | undefined): Date | null {
  if (h === undefined) return day;
  let hour = Number(h);
  if (ampm === "pm" && hour < 12) hour += 12;
  if (ampm === "am" && hour === 12) hour = 0;
  const minute = mi === undefined ? 0 : Number(mi);
  if (hour > 23 || minute > 59) return null;
  return new Date(day.getFullYear(), day.getMonth(), day.getDate(), hour, minute);
}

/** An ISO-like date or time as typed: with a zone (`z`, `+02:00`) as that instant, else in local time. */
function isoLike(s: string): Date | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[t ](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?(z|[+-]\d{2}:?\d{2})?$/.exec(s);
  if (!m) return null;
  if (m[7]) {
    const t = Date.parse(s.toUpperCase().replace(" ", "T"));
    return Number.isFinite(t) ? new Date(t) : null;
  }
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0));
  return Number.isNaN(d.getTime()) || d.getMonth() !== Number(m[2]) - 1 ? null : d;
}

/**
 * The moment a question asks from, and the words that said it: "since 2h", "in the last 3 hours",
 * "2 hours ago", "since yesterday 14:00", "since 9am", "since 2026-08-20 14:00", "today", "this
 * week". Times without a zone are local time; a clock time later than now today means yesterday.
 * @example sinceIn(normaliseQuestion("what changed since 2h"), now)?.from // now − 2 h
 */
export function sinceIn(q: Question, now: Date): { from: Date; typed: string } | null {
  const s = q.norm;
  const hit = (re: RegExp) => re.exec(s);
  let m = hit(/\b(?:since|from|after)\s+(\d{4}-\d{2}-\d{2}(?:[t ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?(?:z|[+-]\d{2}:?\d{2})?)(?=\s|$)/);
  if (m) {
    const d = isoLike(m[1]!);
    if (d) return { from: d, typed: m[1]! };
  }
  m = hit(new RegExp(`\\b(?:since|from|after)\\s+(yesterday|today|midnight|noon|this morning)(?:\\s+(?:at\\s+)?${CLOCK})?(?=\\s|$)`));
  if (m) {
    const day = midnight(now, m[1] === "yesterday" ? -1 : 0);
    const d = m[2] === undefined ? (m[1] === "noon" ? atClock(day, "12", "0", undefined) : day) : atClock(day, m[2], m[3], m[4]);
    if (d) return { from: d, typed: m[0].replace(/^(?:since|from|after)\s+/, "") };
  }
  m = hit(/\b(?:since|from|after)\s+(?:at\s+)?(\d{1,2})(?::(\d{2})\s*(am|pm)?|\s*(am|pm))(?=\s|$)/);
  if (m) {
    let d = atClock(midnight(now), m[1], m[2], m[3] ?? m[4]);
    if (d && d.getTime() > now.getTime()) d = atClock(midnight(now, -1), m[1], m[2], m[3] ?? m[4]);
    if (d) return { from: d, typed: m[0].replace(/^(?:since|from|after)\s+/, "") };
  }
  m =
    hit(
      new RegExp(
        `\\b(?:since|(?:in|over|during|for|within) the (?:last|past)|(?:in|over|during|for|within) (?:last|past)|last|past)\\s+(an?|one|\\d+(?:\\.\\d+)?)\\s*${UNIT}(?=\\s|$)`,
      ),
    ) ?? hit(new RegExp(`\\b(an?|one|\\d+(?:\\.\\d+)?)\\s*${UNIT}\\s+ago\\b`));
  if (m) {
    const ms = count(m[1]!) * unitMs(m[2]!);
    if (ms > 0) return { from: new Date(now.getTime() - ms), typed: m[0].replace(/^(?:since|in|over|during|for|within)\s+/, "") };
  }
  m = hit(/\b(?:(?:in|over|during|for|within) )?(?:the )?(?:last|past) (minute|hour|day|week)\b/);
  if (m) return { from: new Date(now.getTime() - unitMs(m[1]!)), typed: m[0] };
  if (/\b(?:today|this morning)\b/.test(s)) return { from: midnight(now), typed: "today" };
  if (/\byesterday\b/.test(s)) return { from: midnight(now, -1), typed: "yesterday" };
  if (/\bthis week\b/.test(s)) return { from: new Date(now.getTime() - UNIT_MS.w!), typed: "this week" };
  return null;
}

/** "2 h", "35 min", "3 d": a length of time in minutes, as a person reads it. */
export function minutesText(min: number): string {
  const m = Math.max(0, min);
  if (m < 1) return `${Math.round(m * 60)} s`;
  if (m < 90) return `${Math.round(m)} min`;
  if (m < 48 * 60) return `${Math.round(m / 6) / 10} h`;
  return `${Math.round(m / 144) / 10} d`;
}
