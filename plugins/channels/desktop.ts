// Desktop notifications through libnotify's notify-send, where it is installed.
import { createLocalExecutor, defineChannel, oneLine, stripControl, VcError, type AlertEvent } from "vibe-cockpit";

/** notify-send's `--urgency` levels. */
export type DesktopUrgency = "low" | "normal" | "critical";

/** Severity → urgency, unless `urgency` says otherwise (a critical notification stays until dismissed). */
export const DEFAULT_URGENCY: Readonly<Record<string, DesktopUrgency>> = { critical: "critical", high: "normal", medium: "normal", low: "low" };

export interface DesktopOptions {
  /** Severity → urgency, over {@link DEFAULT_URGENCY}; an unknown severity is "normal". */
  urgency?: Readonly<Record<string, DesktopUrgency>>;
  /** `--expire-time` in milliseconds (default: the notification server's). */
  expireMs?: number;
  /** The environment notify-send runs in and is looked up with (PATH, DBUS_SESSION_BUS_ADDRESS …; default this process's). */
  env?: Record<string, string | undefined>;
  /** notify-send is stopped after this long (default 10 s). */
  timeoutMs?: number;
}

/**
 * notify-send's arguments after the program for one state change: app name vc, the urgency, then
 * `--` and the title and body (so neither is ever read as an option). Controls are stripped; the
 * body's `&`, `<`, `>` are escaped (notification servers read body markup) and so are its
 * backslashes (notify-send expands `\n`, `\033` … in the body).
 */
export function desktopArgs(e: AlertEvent, o: Pick<DesktopOptions, "urgency" | "expireMs"> = {}): string[] {
  const head = e.event === "resolved" ? "RESOLVED" : `${e.event.toUpperCase()} ${e.severity}`;
  const title = oneLine(`${head}: ${e.title}${e.machine_id ? ` on ${e.machine_id}` : ""}`);
  const body = stripControl(`${e.message}\nexpected ${e.expected}, received ${e.received}`)
    .replace(/\\/g, "\\\\")
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;");
  const urgency = { ...DEFAULT_URGENCY, ...o.urgency }[e.severity] ?? "normal";
  return ["--app-name=vc", `--urgency=${urgency}`, ...(o.expireMs === undefined ? [] : [`--expire-time=${Math.round(o.expireMs)}`]), "--", title, body];
}

/**
 * Shows each alert state change as a desktop notification with `notify-send` (an argv, never a
 * shell line). Where notify-send is not on PATH the delivery is skipped with that reason, not failed.
 * @example channels: [alertsJsonl(), desktop()]
 */
export function desktop(options: DesktopOptions = {}) {
  const env = options.env ?? process.env;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const exec = createLocalExecutor({ machineId: "local", env });
  return defineChannel({
    name: "desktop",
    async deliver(event, ctx) {
      const program = Bun.which("notify-send", { PATH: env.PATH ?? "" });
      if (!program) return { skipped: "notify-send not found on PATH" };
      const r = await exec.run([program, ...desktopArgs(event, options)], { timeoutMs, maxBytes: 64 * 1024, ...(ctx.signal ? { signal: ctx.signal } : {}) });
      if (r.timedOut) throw new VcError("exec_timeout", `notify-send did not finish within ${timeoutMs} ms`);
      if (r.exitCode !== 0) throw new VcError("exec_failed", `notify-send exited ${r.exitCode ?? "on a signal"}: ${oneLine(r.stderr).trim().slice(0, 300) || "no message"}`);
    },
  });
}
