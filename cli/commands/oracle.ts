import { readFileSync } from "node:fs";
import { defineCommand } from "citty";
import { VcError } from "../../lib/index.ts";
import { backtest, type UsageSnapshot } from "../../plugins/oracle/model.ts";
import { guard, yellow } from "../_common.ts";

/**
 * Reads a usage file, one snapshot a line: lines that are not JSON or lack account, ts or
 * used_percent are skipped with a warning naming their line number.
 */
export function readUsageFile(path: string): { snapshots: UsageSnapshot[]; warnings: string[] } {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new VcError(code === "ENOENT" ? "not_found" : "invalid_input", `--usage: cannot read ${path}: ${code === "ENOENT" ? "no such file" : String(err)}`, {
      hint: "give a JSON-lines file of {account, ts, used_percent, window_minutes, resets_at, working_agents}",
    });
  }
  const snapshots: UsageSnapshot[] = [];
  const warnings: string[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (!line) continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      warnings.push(`${path}:${i + 1}: not JSON, skipped`);
      continue;
    }
    const s = value as Partial<UsageSnapshot> | null;
    const missing = !s || typeof s !== "object" ? ["account", "ts", "used_percent"] : [];
    if (s && typeof s === "object") {
      if (typeof s.account !== "string" || !s.account) missing.push("account");
      if (typeof s.ts !== "string" || !Number.isFinite(Date.parse(s.ts))) missing.push("ts");
      if (typeof s.used_percent !== "number" || !Number.isFinite(s.used_percent)) missing.push("used_percent");
    }
    if (missing.length) {
      warnings.push(`${path}:${i + 1}: no usable ${missing.join(", ")}, skipped`);
      continue;
    }
    snapshots.push(s as UsageSnapshot);
  }
  return { snapshots, warnings };
}

const backtestCommand = defineCommand({
  meta: {
    name: "backtest",
    description:
      "Replay a usage file: for every snapshot in time order, one JSON line {account, ts, time_to_limit_min, low_min, high_min, action} forecast only from the snapshots at or before it, by the oracle's own function",
  },
  args: {
    usage: { type: "string", description: "JSON lines of {account, ts, used_percent, window_minutes, resets_at, working_agents}", required: true },
    fleet: { type: "boolean", default: true, description: "use working_agents, the fleet signal (--no-fleet: the burn over time only)" },
  },
  run: ({ args }) =>
    guard(async () => {
      const { snapshots, warnings } = readUsageFile(args.usage);
      for (const w of warnings) process.stderr.write(`${yellow("warning:")} ${w}\n`);
      const seen = new Map<string, Set<string>>();
      let out = "";
      for (const f of backtest(snapshots, { fleet: args.fleet !== false })) {
        out += `${JSON.stringify({ account: f.account, ts: f.ts, time_to_limit_min: f.time_to_limit_min, low_min: f.low_min, high_min: f.high_min, action: f.action })}\n`;
        if (out.length > 1 << 16) {
          process.stdout.write(out);
          out = "";
        }
        // Each of the oracle's warnings once per account, as it first comes up.
        let said = seen.get(f.account);
        if (!said) seen.set(f.account, (said = new Set()));
        for (const w of f.warnings) {
          const kind = w.replace(/ \(\d+ times\)$/, "");
          if (!said.has(kind)) {
            said.add(kind);
            process.stderr.write(`${yellow("warning:")} ${kind}\n`);
          }
        }
      }
      process.stdout.write(out);
    }),
});

export default defineCommand({
  meta: { name: "oracle", description: "The rate-limit oracle: when each account reaches its limit, and what to do about it" },
  subCommands: { backtest: backtestCommand },
});
