import { VcError } from "./errors.ts";

/** The one source of "now" for everything vc writes or compares. */
export interface Clock {
  now(): Date;
  /** True when time was pinned (by $VC_NOW or a test): nothing should wait on it. */
  readonly fixed: boolean;
}

/** The wall clock. */
export const systemClock: Clock = { now: () => new Date(), fixed: false };

/**
 * A clock pinned to one instant; `advance` moves it (tests and replays step time by hand).
 * @example const clock = createFixedClock("2026-01-25T03:00:00Z")
 */
export function createFixedClock(at: string | Date | number): Clock & { advance(ms: number): void; set(at: Date): void } {
  let t = parseInstant(at, "clock");
  return {
    fixed: true,
    now: () => new Date(t),
    advance(ms: number) {
      t += ms;
    },
    set(at: Date) {
      t = at.getTime();
    },
  };
}

/** The clock for a process: pinned to `$VC_NOW` (ISO 8601) when set, else the wall clock. */
export function clockFromEnv(env: Record<string, string | undefined> = process.env): Clock {
  const pinned = env.VC_NOW?.trim();
  return pinned ? createFixedClock(parseInstant(pinned, "$VC_NOW")) : systemClock;
}

function parseInstant(at: string | Date | number, what: string): number {
  const t = at instanceof Date ? at.getTime() : typeof at === "number" ? at : Date.parse(at);
  if (!Number.isFinite(t)) {
    throw new VcError("invalid_input", `${what}: "${String(at)}" is not an ISO 8601 time`, {
      hint: "use a form like 2026-01-25T03:00:00Z",
    });
  }
  return t;
}

/** Waits `ms` (Infinity: until aborted), or less when `signal` aborts; never rejects. */
export function sleepOrAbort(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = Number.isFinite(ms) ? setTimeout(done, ms) : undefined;
    function done() {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
