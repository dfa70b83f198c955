import { defineCommand } from "citty";
import { formatArgs, green, guard, openApiFromArgs, outputFormat, printJson, printRows, red, storeArgs } from "../_common.ts";
import { fixLine, oneLine, renderTable } from "../_format.ts";

const json = { type: "boolean", description: "print JSON" } as const;

const list = defineCommand({
  meta: { name: "list", description: "The inventory: each machine's target, tags, last seen and last successful poll (no network)" },
  args: { ...storeArgs, ...formatArgs(["table", "json", "csv", "jsonl"]) },
  run: ({ args }) =>
    guard(async () => {
      await using vc = await openApiFromArgs(args, { readOnly: true });
      const rows = await vc.machines();
      const format = outputFormat(args);
      if (format === "json" || format === "jsonl") return void printRows(format, [], rows as unknown as Record<string, unknown>[]);
      const columns = ["id", "ssh", "mode", "tags", "last_seen_at", "last_ok_at", "tools_found", "tools_missing"];
      const table = rows.map((r) => ({ ...r, tags: r.tags.join(",") }));
      if (!printRows(format, columns, table)) process.stdout.write(`${renderTable(columns, table)}\n`);
    }),
});

const probe = defineCommand({
  meta: { name: "probe", description: "Connect to each machine (or one): reachable, auth method, host key, tools found. Exits 1 if one is unreachable." },
  args: { ...storeArgs, id: { type: "positional", description: "machine id (default: all)", required: false }, json },
  run: ({ args }) =>
    guard(async () => {
      await using vc = await openApiFromArgs(args);
      const probes = await vc.probeMachines(args.id ? [args.id] : undefined);
      if (args.json) printJson(probes);
      else {
        for (const p of probes) {
          const tools = Object.entries(p.tools);
          const found = tools.filter(([, t]) => t.available).map(([n]) => n);
          const missing = tools.filter(([, t]) => !t.available).map(([n]) => n);
          process.stdout.write(
            p.reachable
              ? `${green("✓")} ${p.id} (${p.ssh}): ${p.auth_method}, host key ${p.host_key.status}${p.host_key.fingerprint ? ` ${p.host_key.fingerprint}` : ""}, ${p.latency_ms} ms; tools: ${found.join(", ") || "none needed"}${missing.length ? `; missing: ${missing.join(", ")}` : ""}\n`
              : `${red("✗")} ${p.id} (${p.ssh}): ${oneLine(p.error ?? "unreachable")}\n${fixLine(p.host_key)}`,
          );
        }
      }
      return probes.every((p) => p.reachable) ? 0 : 1;
    }),
});

const show = defineCommand({
  meta: { name: "show", description: "One machine: its config, a live probe, its tools and the last run of each collector" },
  args: { ...storeArgs, id: { type: "positional", description: "machine id", required: true }, json },
  run: ({ args }) =>
    guard(async () => {
      await using vc = await openApiFromArgs(args);
      const [probe] = await vc.probeMachines([args.id]);
      const listing = (await vc.machines()).find((m) => m.id === args.id);
      const view = await vc.robotMachine(args.id);
      const out = { ...listing, probe, collectors: view.data.collectors };
      if (args.json) return printJson(out);
      process.stdout.write(`${args.id}  ${listing?.ssh}  tags: ${listing?.tags.join(", ") || "-"}\n`);
      process.stdout.write(
        probe!.reachable
          ? `reachable: ${probe!.auth_method}, host key ${probe!.host_key.status} ${probe!.host_key.fingerprint ?? ""}, ${probe!.latency_ms} ms\n`
          : `unreachable: ${oneLine(probe!.error ?? "")}\n${fixLine(probe!.host_key)}`,
      );
      process.stdout.write(`last successful poll: ${listing?.last_ok_at ?? "never"}\n\ntools:\n`);
      process.stdout.write(
        `${renderTable(
          ["tool", "found", "version"],
          Object.entries(probe!.tools).map(([tool, t]) => ({ tool, found: t.available ? "yes" : "no", version: t.version })),
        )}\n\ncollectors:\n`,
      );
      process.stdout.write(`${renderTable(["collector", "last_run_at", "last_result", "last_ok_at", "last_error"], (view.data.collectors ?? []) as Record<string, unknown>[])}\n`);
    }),
});

export default defineCommand({
  meta: { name: "machines", description: "The machine inventory: list, probe (connect and check), show one" },
  subCommands: { list, probe, show },
});
