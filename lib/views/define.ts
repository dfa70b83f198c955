// The view registry: every answer vc gives is a view, declared once with its arguments. From a
// view come the `vc robot <name>` command (flags and validation), the daemon's socket route, the
// client's method and `cockpit.view(name, args)`; the robot envelope is added at those edges only.
import type { Cockpit } from "../cockpit.ts";
import { VcError } from "../errors.ts";
import { envelope, type RobotEnvelope } from "../robot/envelope.ts";
import { closest } from "../spell.ts";
import { checkAt, cockpitAt } from "./timemachine.ts";

/** One argument of a view: plain data, so the CLI, the socket and a JSON Schema read the same spec. */
export type ArgSpec =
  | { kind: "string"; description: string; positional?: boolean; required?: boolean; hint?: string; max?: number }
  | { kind: "int"; description: string; min: number; max: number; default?: number; hint?: string }
  | { kind: "flag"; description: string }
  | { kind: "time"; description: string; hint?: string }
  | { kind: "duration"; description: string; default?: number; min?: number; max?: number; hint?: string }
  | { kind: "list"; description: string; hint?: string };

export type ArgsSpec = Record<string, ArgSpec>;

/** The value an argument holds once parsed. */
type ArgValue<S extends ArgSpec> = S extends { kind: "int"; default: number }
  ? number
  : S extends { kind: "int" }
    ? number | undefined
    : S extends { kind: "flag" }
      ? boolean
      : S extends { kind: "time" }
        ? Date | undefined
        : S extends { kind: "duration"; default: number }
          ? number
          : S extends { kind: "duration" }
            ? number | undefined
            : S extends { kind: "list" }
              ? string[] | undefined
              : S extends { required: true }
                ? string
                : string | undefined;

export type ArgsOf<A extends ArgsSpec> = { [K in keyof A]: ArgValue<A[K]> };

/** What a view's run returns: the data, and how fresh it is. The envelope is added at the edges. */
export interface ViewResult<T> {
  data: T;
  staleness?: Record<string, number | null>;
  warnings?: string[];
}

export interface View<A extends ArgsSpec = ArgsSpec, T = unknown> {
  /** `vc robot <name>`, `vc.robot.<name>.v1`, the socket route `/v1/views/<name>`. */
  readonly name: string;
  /** One line: what it answers (the CLI's description, the API listing). */
  readonly summary: string;
  readonly args: A;
  /**
   * Set on a view that asks the machines live instead of reading the store (content search,
   * doctor's probes): why it has no past. `--at` is refused with this reason.
   */
  readonly live?: string;
  run(vc: Cockpit, args: ArgsOf<A>): Promise<ViewResult<T>>;
}

/** Any view, whatever its arguments (registries hold these). */
// biome-ignore lint: the registry erases each view's argument types
export type AnyView = View<any, unknown>;

/**
 * Declares a view. An identity function: it exists so TypeScript infers the arguments' types.
 * @example defineView({ name: "alerts", summary: "Active alerts", args: { all: arg.flag("include resolved") }, run: … })
 */
export function defineView<const A extends ArgsSpec, T>(view: View<A, T>): View<A, T> {
  return view;
}

/** Builders for argument specs. */
export const arg = {
  string: <const O extends { positional?: boolean; required?: boolean; hint?: string; max?: number }>(description: string, o: O = {} as O) => ({
    kind: "string" as const,
    description,
    ...o,
  }),
  int: <const O extends { min: number; max: number; default?: number; hint?: string }>(description: string, o: O) => ({ kind: "int" as const, description, ...o }),
  flag: (description: string) => ({ kind: "flag" as const, description }),
  time: (description: string, o: { hint?: string } = {}) => ({ kind: "time" as const, description, hint: "TIME", ...o }),
  /** A length of time — `90s`, `30m`, `6h`, `7d`, or seconds as a number — held in seconds. */
  duration: <const O extends { default?: number; min?: number; max?: number; hint?: string }>(description: string, o: O = {} as O) => ({
    kind: "duration" as const,
    description,
    hint: "DURATION",
    ...o,
  }),
  list: (description: string, o: { hint?: string } = {}) => ({ kind: "list" as const, description, ...o }),
};

const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };

/** `90s`, `30m`, `6h`, `1.5d`, `2w` or a bare number of seconds, in seconds; NaN when it is none of those. */
export function parseDuration(value: unknown): number {
  if (typeof value === "number") return Number.isFinite(value) ? value : Number.NaN;
  if (typeof value !== "string") return Number.NaN;
  const m = /^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)?\s*$/i.exec(value);
  return m ? Number(m[1]) * UNIT_SECONDS[(m[2] ?? "s").toLowerCase()]! : Number.NaN;
}

/** How a failed argument is named: `--limit` on the command line, `limit` elsewhere. */
export type ArgStyle = "flag" | "field";

const MAX_STRING = 10_000;

/**
 * Checks raw arguments (strings from a command line or a URL, or typed values from JSON or a
 * script) against a view's spec and returns them typed. Unknown names and bad values throw
 * `invalid_argument` naming the argument and the accepted form.
 */
export function parseArgs<A extends ArgsSpec>(view: View<A, unknown>, raw: Record<string, unknown>, style: ArgStyle = "field"): ArgsOf<A> {
  const name = (k: string) => (style === "flag" && !view.args[k]?.["positional" as never] ? `--${k}` : k);
  const bad = (k: string, value: unknown, expected: string) =>
    new VcError("invalid_argument", `${name(k)}: ${shown(value)} is not ${expected}`, { details: { view: view.name, field: k, expected } });
  for (const k of Object.keys(raw)) {
    if (!(k in view.args) && raw[k] !== undefined) {
      const known = Object.keys(view.args);
      throw new VcError("invalid_argument", `${view.name}: no argument "${k}"`, {
        hint: known.length ? `it takes ${known.join(", ")}` : "it takes no arguments",
        details: { view: view.name, field: k },
      });
    }
  }
  const out: Record<string, unknown> = {};
  for (const [k, spec] of Object.entries(view.args)) {
    const value = raw[k];
    const missing = value === undefined || value === null || value === "";
    switch (spec.kind) {
      case "flag": {
        if (missing) out[k] = false;
        else if (typeof value === "boolean") out[k] = value;
        else if (["1", "true", "yes"].includes(String(value))) out[k] = true;
        else if (["0", "false", "no"].includes(String(value))) out[k] = false;
        else throw bad(k, value, "true or false");
        break;
      }
      case "int": {
        if (missing) {
          out[k] = spec.default;
          break;
        }
        const n = typeof value === "number" ? value : typeof value === "string" && /^-?\d+$/.test(value.trim()) ? Number(value) : Number.NaN;
        if (!Number.isSafeInteger(n) || n < spec.min || n > spec.max) throw bad(k, value, `a whole number from ${spec.min} to ${spec.max}`);
        out[k] = n;
        break;
      }
      case "time": {
        if (missing) {
          out[k] = undefined;
          break;
        }
        const t = value instanceof Date ? value : typeof value === "string" && /^\d{4}-\d{2}-\d{2}/.test(value) ? new Date(value) : new Date(Number.NaN);
        if (Number.isNaN(t.getTime())) throw bad(k, value, "an ISO 8601 time (like 2026-01-25T03:00:00Z)");
        out[k] = t;
        break;
      }
      case "duration": {
        if (missing) {
          out[k] = spec.default;
          break;
        }
        const n = parseDuration(value);
        const min = spec.min ?? 1;
        const max = spec.max ?? 366 * 86_400;
        if (Number.isNaN(n) || n < min || n > max) throw bad(k, value, `a duration from ${min}s to ${max / 86_400}d (like 90s, 30m, 6h, 7d)`);
        out[k] = n;
        break;
      }
      case "list": {
        if (missing) {
          out[k] = undefined;
          break;
        }
        const items = Array.isArray(value) ? value : typeof value === "string" ? value.split(",") : null;
        if (!items || items.some((x) => typeof x !== "string")) throw bad(k, value, "a comma-separated list of names");
        const list = (items as string[]).map((x) => x.trim()).filter(Boolean);
        out[k] = list.length ? list : undefined;
        break;
      }
      case "string": {
        if (missing) {
          if (spec.required)
            throw new VcError(style === "flag" ? "usage" : "invalid_argument", `${view.name}: ${name(k)} is required (${spec.description})`, {
              details: { view: view.name, field: k },
            });
          out[k] = undefined;
          break;
        }
        if (typeof value !== "string") throw bad(k, value, "a string");
        if (value.length > (spec.max ?? MAX_STRING)) throw bad(k, `${value.slice(0, 20)}…`, `at most ${spec.max ?? MAX_STRING} characters`);
        out[k] = value;
        break;
      }
    }
  }
  return out as ArgsOf<A>;
}

function shown(value: unknown): string {
  const s = typeof value === "string" ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  return s.length > 60 ? `${s.slice(0, 57)}…` : s;
}

/** Runs a view with raw arguments and wraps its answer in the robot envelope (with `at` when it answered as of then). */
export async function runView(vc: Cockpit, view: AnyView, raw: Record<string, unknown>, style: ArgStyle = "field"): Promise<RobotEnvelope<unknown>> {
  const args = parseArgs(view, raw, style);
  const r = await view.run(vc, args);
  const at = args.at instanceof Date ? args.at : undefined;
  return envelope(view.name, r.data, { now: vc.clock.now(), staleness: r.staleness, warnings: r.warnings, at });
}

/** The argument every view takes: answer as of then. */
export const AT_ARG = {
  kind: "time",
  description: "answer as the store knew it then, from rows collected at or before it (the time machine)",
  hint: "TIME",
} as const satisfies ArgSpec;

/**
 * The view with the time machine's `at` argument: as of `at` it runs on the cockpit as it was then
 * (`cockpitAt`), after checking the store can answer for that moment. A view with its own `at`
 * (health, which prefers its snapshots) is left as it is.
 */
export function withTimeMachine(view: AnyView): AnyView {
  if ("at" in view.args) return view;
  return {
    ...view,
    args: { ...view.args, at: AT_ARG },
    async run(vc, args) {
      const { at, ...rest } = args as ArgsOf<ArgsSpec> & { at?: Date };
      if (!at) return view.run(vc, rest);
      if (view.live) throw new VcError("invalid_argument", `--at: ${view.name} ${view.live}, so it has no past; drop --at`, { details: { view: view.name, field: "at" } });
      await checkAt(vc, at, view.name);
      return view.run(cockpitAt(vc, at), rest);
    },
  };
}

/** Views by name; a second view with a taken name is refused (it names both). */
export interface ViewRegistry {
  readonly views: readonly AnyView[];
  get(name: string): AnyView | undefined;
  /** The view, or `not_found` naming the closest registered name. */
  require(name: string): AnyView;
}

export function createViewRegistry(views: readonly AnyView[]): ViewRegistry {
  const byName = new Map<string, AnyView>();
  for (const v of views) {
    if (!/^[a-z][a-z0-9_-]*$/.test(v.name)) throw new VcError("invalid_input", `view name "${v.name}" must be lowercase letters, digits, - or _`);
    if (byName.has(v.name)) throw new VcError("invalid_input", `two views are named "${v.name}"`, { hint: "a view's name is its command and route: rename one" });
    byName.set(v.name, withTimeMachine(v));
  }
  return {
    views: [...byName.values()],
    get: (name) => byName.get(name),
    require(name) {
      const v = byName.get(name);
      if (v) return v;
      const near = closest(name, [...byName.keys()]);
      throw new VcError("not_found", `no view "${name}"`, {
        hint: near ? `did you mean ${near}? Views: ${[...byName.keys()].join(", ")}` : `views: ${[...byName.keys()].join(", ")}`,
      });
    },
  };
}
