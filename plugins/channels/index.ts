// Alert channels: where alert state changes go. Declared in vc.config.ts under `channels`.
import { appendPrivateFile, defineChannel, safeJson, type AlertEvent } from "vibe-cockpit";

/** One JSON line per state change, appended to `<store>.alerts.jsonl` beside the store (or `path`). */
export function alertsJsonl(options: { path?: string } = {}) {
  return defineChannel({
    name: "alerts.jsonl",
    async deliver(event, ctx) {
      const file = options.path ?? ctx.storeFile("alerts.jsonl");
      // Owner-only, never through a planted symlink; controls escaped for whoever tails it.
      appendPrivateFile(file, `${safeJson(event)}\n`);
    },
  });
}

/** One JSON line per state change on stdout (for pipes and supervisors). */
export function stdoutChannel() {
  return defineChannel({
    name: "stdout",
    async deliver(event) {
      process.stdout.write(`${JSON.stringify(event)}\n`);
    },
  });
}

const ICON: Record<string, string> = { critical: ":red_circle:", high: ":large_orange_circle:", medium: ":large_yellow_circle:", low: ":white_circle:" };

/** The Slack-compatible body of an event: `text` plus a section block. */
export function slackPayload(e: AlertEvent) {
  const head = e.event === "resolved" ? `:white_check_mark: RESOLVED` : e.event === "flapping" ? ":repeat: FLAPPING" : `${ICON[e.severity] ?? ""} ${e.severity.toUpperCase()}`;
  const text = `${head} ${e.title}${e.machine_id ? ` on ${e.machine_id}` : ""}: ${e.message}`;
  const detail = [`expected ${e.expected}, received ${e.received}`, ...e.actions.map((a) => `• ${a.title}${a.command ? `: \`${a.command}\`` : ""}`)].join("\n");
  return { text, blocks: [{ type: "section", text: { type: "mrkdwn", text: `*${text}*\n${detail}` } }] };
}

/**
 * POSTs each state change to a webhook (Slack-compatible payload by default), retrying with
 * backoff; every attempt is recorded in alert_deliveries.
 */
export function webhook(options: { url: string; format?: "slack" | "raw"; attempts?: number; backoffMs?: number; timeoutMs?: number; headers?: Record<string, string> }) {
  return defineChannel({
    name: `webhook ${new URL(options.url).host}`,
    attempts: options.attempts ?? 4,
    backoffMs: options.backoffMs ?? 1000,
    async deliver(event, ctx) {
      const body = options.format === "raw" ? event : slackPayload(event);
      const res = await fetch(options.url, {
        method: "POST",
        headers: { "content-type": "application/json", ...options.headers },
        body: JSON.stringify(body),
        signal: ctx.signal ? AbortSignal.any([ctx.signal, AbortSignal.timeout(options.timeoutMs ?? 10_000)]) : AbortSignal.timeout(options.timeoutMs ?? 10_000),
      });
      if (!res.ok) throw new Error(`HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`);
    },
  });
}

export { agentMail, agentMailMessage, alertThreadId, AGENT_MAIL_DEFAULT_URL, DEFAULT_IMPORTANCE, type AgentMailOptions, type MailImportance } from "./agent-mail.ts";
export { desktop, desktopArgs, DEFAULT_URGENCY, type DesktopOptions, type DesktopUrgency } from "./desktop.ts";
