import { defineCommand } from "citty";
import { inlineSql, loadConfig, planVacuum, runVacuum, type Cockpit, type RetentionReader, type VacuumReport } from "../../lib/index.ts";
import { configArgs, dim, formatArgs, guard, openApiFromArgs, outputFormat, printJson, red, storeArgs, yellow } from "../_common.ts";
import { renderTable } from "../_format.ts";
import { progressPrinter, refuseDaemon } from "./export.ts";

const count = (n: number) => n.toLocaleString("en");
const bytes = (n: number) => {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  let v = n;
  while (v >= 1000 && i < units.length - 1) [v, i] = [v / 1000, i + 1];
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
};
const day = (iso: string) => iso.slice(0, 10);

function printReport(r: VacuumReport): void {
  const out: string[] = [];
  const busy = r.tables.filter((t) => t.past_span > 0 || t.resume || t.export_rows > 0);
  out.push(
    r.dry_run
      ? `vc vacuum --dry-run at ${r.at}: nothing was changed. Deletion is ${r.delete ? "on" : "off (retention.delete)"}; export ${r.export_dir ? `to ${r.export_dir}` : "off (retention.export_before_delete)"}.`
      : `vc vacuum at ${r.at}: deletion ${r.delete ? "on" : "off"}; export ${r.export_dir ? `to ${r.export_dir}` : "off"}.`,
  );
  const rolled = r.dry_run ? r.rollups : r.rolled_up;
  if (rolled.length) {
    out.push("", r.dry_run ? "Would roll up:" : "Rolled up:");
    out.push(
      renderTable(
        ["table", "tier", "from", "to", "raw_rows"],
        rolled.map((x) => ({ table: x.table, tier: x.tier, from: x.from, to: x.to, raw_rows: count(x.rows) })),
      ),
    );
  }
  if (busy.length) {
    out.push("", r.dry_run ? "Past their span:" : "Tables:");
    out.push(
      renderTable(
        ["table", "span", "cutoff", "rows", "past_span", "export", "delete", "rewrite", "frees"],
        busy.map((t) => ({
          table: t.table,
          span: `${t.span} = ${t.days}d`,
          cutoff: day(t.cutoff),
          rows: count(t.rows),
          past_span: count(t.past_span),
          export: count(t.export_rows),
          delete: count(t.delete_rows),
          rewrite: t.compact ? "yes" : "",
          frees: `~${bytes(t.bytes_freed)}`,
        })),
      ),
    );
    for (const t of busy) for (const k of t.kept_by) out.push(dim(`  ${t.table}: kept: ${k}`));
  }
  const within = r.tables.length - busy.length;
  if (within > 0) out.push("", dim(`${within} table(s) with a span have nothing past it.`));
  if (r.unretained.length) out.push(dim(`${r.unretained.length} table(s) with no span are kept for ever: ${r.unretained.join(", ")}`));
  if (!r.dry_run) {
    const done = r.outcomes;
    if (done.length) {
      out.push("", "Done:");
      out.push(
        renderTable(
          ["table", "run", "state", "exported", "deleted", "rewritten", "files", "error"],
          done.map((x) => ({
            table: x.table,
            run: x.run_id,
            state: x.error ? red(x.state) : x.state,
            exported: count(x.rows_exported),
            deleted: count(x.rows_deleted),
            rewritten: x.compacted ? "yes" : "",
            files: x.files.length,
            error: x.error ?? "",
          })),
          80,
        ),
      );
    }
    for (const x of done) if (x.note) out.push(dim(`  ${x.table}: ${x.note}`));
    if (r.store_bytes)
      out.push("", `store: ${bytes(r.store_bytes.before)} used before, ${bytes(r.store_bytes.after)} after (blocks in use; the file keeps its size, its free blocks are reused)`);
  } else {
    out.push("", `store: ${bytes(r.bytes.store_used)} used; would free ~${bytes(r.bytes.freed)}`);
  }
  out.push(dim(`bytes estimated ${r.bytes.method}`));
  if (!r.delete && busy.some((t) => t.past_span > 0)) out.push(yellow("Nothing is deleted until retention.delete is true in vc.config.ts."));
  process.stdout.write(`${out.join("\n")}\n`);
}

export default defineCommand({
  meta: {
    name: "vacuum",
    description:
      "Roll numeric samples up (1-minute and 1-hour tiers), then per the config's retention export what is past its span as Parquet and delete it (deletion only with retention.delete). --dry-run says per table what it would do and the bytes it would free. A vacuum killed midway is finished by the next one.",
  },
  args: {
    ...storeArgs,
    "dry-run": { type: "boolean", description: "only say what it would roll up, export and delete", default: false },
    ...formatArgs(["table", "json"]),
  },
  run: ({ args }) =>
    guard(async () => {
      const dryRun = Boolean(args["dry-run"]);
      const config = await loadConfig(configArgs(args));
      await using vc = await openApiFromArgs(args, { config, readOnly: dryRun });
      let report: VacuumReport;
      if ("remote" in vc) {
        if (!dryRun) {
          await refuseDaemon(
            vc,
            `it vacuums the store itself${config.retention?.quiet_hour == null ? " when retention.quiet_hour is set" : ` at ${config.retention.quiet_hour}:00`}`,
            "`vc vacuum --dry-run` says what it would do; stop it to vacuum now",
          );
        }
        // A plan only reads: through the daemon's read-only query.
        const read: RetentionReader = async (q) => (await vc.query(inlineSql(q))).rows as never;
        const plan = await planVacuum(read, { config, now: vc.clock.now() });
        report = { ...plan, dry_run: true, run_id: null, rolled_up: [], outcomes: [], store_bytes: null, ok: true };
      } else {
        const progress = progressPrinter();
        report = await runVacuum({
          store: (vc as Cockpit).store,
          config,
          now: vc.clock.now(),
          dryRun,
          actor: "user",
          onProgress: (p) => {
            if (p.step === "rollup") progress.update(`rollup ${p.table} ${p.tier}`, `rolling up ${p.table} into the ${p.tier} tier`, p.done / p.total);
            else if (p.step === "export") progress.update(`export ${p.table}`, `${p.table}: exporting ${count(p.rows)}/${count(p.total)} rows`, p.total ? p.rows / p.total : 1);
            else if (p.step === "published") progress.update(`published ${p.table}`, `${p.table}: ${p.files} file(s) written`);
            else if (p.step === "delete") progress.update(`delete ${p.table}`, `${p.table}: ${p.compact ? "rewriting without" : "deleting"} ${count(p.rows)} rows`);
          },
        });
        progress.end();
      }
      if (outputFormat(args) === "json") printJson(report);
      else printReport(report);
      return report.ok ? 0 : 1;
    }),
});
