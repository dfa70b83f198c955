import { join } from "node:path";
import { defineCommand } from "citty";
import { clockFromEnv, exportStore, loadConfig, VcError, type Cockpit, type RemoteCockpit } from "../../lib/index.ts";
import { parseDuration } from "../../lib/rules/define.ts";
import { configArgs, dim, formatArgs, guard, openApiFromArgs, outputFormat, printJson, storeArgs } from "../_common.ts";
import { renderTable } from "../_format.ts";

/** A --from/--to value: an ISO 8601 date or time (UTC unless it says), or a duration back from now (7d). */
export function instantArg(flag: string, value: string, now: Date): Date {
  const v = value.trim();
  if (/^\d+(\.\d+)?\s*(ms|s|m|h|d|w)$/i.test(v)) {
    try {
      return new Date(now.getTime() - parseDuration(v));
    } catch {
      // not a duration after all: read as a time below
    }
  }
  const t = Date.parse(v);
  if (!Number.isFinite(t))
    throw new VcError("invalid_argument", `--${flag}: expected an ISO 8601 time (2026-01-25, 2026-01-25T03:00:00Z) or a duration back from now (7d), got "${value}"`);
  return new Date(t);
}

/** Refuses a command that must hold the store itself while `vc up` holds it, naming the daemon. */
export async function refuseDaemon(vc: Cockpit | RemoteCockpit, what: string, hint: string): Promise<void> {
  if (!("remote" in vc)) return;
  const info = await vc.info().catch(() => null);
  throw new VcError("store_locked", `vc up${info ? ` (pid ${info.pid})` : ""} holds ${info?.db ?? "the store"} and serves it on ${vc.socketPath}; ${what}`, {
    hint: `${hint}${info ? `; \`kill ${info.pid}\` stops it cleanly` : ""}`,
    details: { pid: info?.pid ?? null, socket: vc.socketPath },
  });
}

/**
 * Progress on stderr: on a terminal one line redrawn in place with a bar; piped, a plain line
 * whenever the step changes (never one per chunk).
 */
export function progressPrinter(stream: NodeJS.WriteStream = process.stderr) {
  const tty = Boolean(stream.isTTY);
  let key = "";
  let drawn = 0;
  let open = false;
  return {
    /** `step` names what is being done (a new one gets its own line when piped); `share` in [0, 1] draws the bar. */
    update(step: string, text: string, share?: number) {
      if (!tty) {
        if (step !== key) stream.write(`${text}\n`);
        key = step;
        return;
      }
      const now = performance.now();
      if (step === key && now - drawn < 100 && share !== 1) return;
      key = step;
      drawn = now;
      const bar = share === undefined ? "" : `[${"#".repeat(Math.round(Math.min(1, share) * 20)).padEnd(20, "-")}] ${String(Math.floor(Math.min(1, share) * 100)).padStart(3)}% `;
      stream.write(`\r\x1b[K${bar}${text}`.slice(0, (stream.columns || 100) + 8));
      open = true;
    },
    /** Clears the line on a terminal (before the answer is printed). */
    end() {
      if (tty && open) stream.write("\r\x1b[K");
      open = false;
    },
  };
}

const count = (n: number) => n.toLocaleString("en");

export default defineCommand({
  meta: {
    name: "export",
    description:
      "Write a time range of the store's tables as hive-partitioned Parquet (DIR/table=<t>/date=<YYYY-MM-DD>/…parquet), counted back before any file appears. Refuses a folder that is not empty unless --append; never replaces a file.",
  },
  args: {
    ...storeArgs,
    from: { type: "string", description: "start of the range, inclusive: an ISO 8601 time or a duration back from now (30d)", required: true, valueHint: "TIME" },
    to: { type: "string", description: "end of the range, exclusive (default: now)", valueHint: "TIME" },
    tables: { type: "string", description: "only these tables, comma-separated (default: every table with a time column)", valueHint: "A,B" },
    out: { type: "string", description: "the folder to write", required: true, valueHint: "DIR" },
    append: { type: "boolean", description: "add files to a folder that has some (none is replaced)", default: false },
    ...formatArgs(["table", "json"]),
  },
  run: ({ args }) =>
    guard(async () => {
      const now = clockFromEnv().now();
      const from = instantArg("from", args.from, now);
      const to = args.to === undefined ? now : instantArg("to", args.to, now);
      if (from.getTime() >= to.getTime()) {
        throw new VcError("invalid_argument", `--from ${from.toISOString()} is not before --to ${to.toISOString()}`, { hint: "the range is [from, to): from comes first" });
      }
      const config = await loadConfig(configArgs(args));
      await using vc = await openApiFromArgs(args, { config, readOnly: true });
      await refuseDaemon(
        vc,
        "vc export reads the whole store, which cannot go through its socket",
        "stop it and export, or set retention.export_before_delete so it exports when it vacuums",
      );
      const tables = args.tables
        ?.split(",")
        .map((t) => t.trim())
        .filter(Boolean);
      const progress = progressPrinter();
      const result = await exportStore({
        store: (vc as Cockpit).store,
        out: args.out,
        from,
        to,
        tables,
        append: args.append,
        onProgress: (p) =>
          progress.update(
            `${p.table}`,
            `${p.index + 1}/${p.tables} ${p.table}: ${count(p.rows)}/${count(p.total)} rows`,
            p.total === 0 ? 1 : (p.index + p.rows / p.total) / p.tables,
          ),
      });
      progress.end();
      if (outputFormat(args) === "json") return printJson(result);
      const rows = result.tables.filter((t) => t.rows > 0).map((t) => ({ table: t.table, time_column: t.time_column, rows: count(t.rows), files: t.files.length }));
      if (rows.length) process.stdout.write(`${renderTable(["table", "time_column", "rows", "files"], rows)}\n`);
      process.stdout.write(`${count(result.rows)} rows of [${result.from}, ${result.to}) in ${result.files} file(s) under ${result.dir}\n`);
      process.stdout.write(`${dim(`read back: SELECT * FROM read_parquet('${join(result.dir, "table=<t>", "**", "*.parquet")}', hive_partitioning = true)`)}\n`);
    }),
});
