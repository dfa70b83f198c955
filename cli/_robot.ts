// Every `vc robot <view>` command, generated from the view registry: the view's arguments become
// flags (checked before anything opens), the answer an envelope on stdout as JSON or TOON, any
// failure an error envelope and a non-zero exit.
import { defineCommand, type ArgsDef } from "citty";
import { parseArgs, type AnyView, type ArgSpec } from "../lib/index.ts";
import { escapeJsonControls, stripControl } from "../lib/text.ts";
import { guard, openApiFromArgs, storeArgs } from "./_common.ts";

export const formatArg = {
  format: { type: "enum", options: ["json", "toon"], default: "json", description: "json, or toon (token-optimised for agents)" },
  json: { type: "boolean", description: "same as --format json" },
} as const;

/** Writes an envelope in the chosen format; controls a terminal would act on are escaped (JSON) or dropped (TOON). */
export async function printRobot(value: unknown, format: string | undefined): Promise<void> {
  if (format === "toon") {
    const { encode } = await import("@toon-format/toon");
    process.stdout.write(`${stripControl(encode(value))}\n`);
  } else {
    const text = JSON.stringify(value, (_k, x) => (typeof x === "bigint" ? x.toString() : x), 2);
    process.stdout.write(`${escapeJsonControls(text)}\n`);
  }
}

/** A view's argument as a citty flag (or positional). */
function cliArg(spec: ArgSpec): ArgsDef[string] {
  switch (spec.kind) {
    case "flag":
      return { type: "boolean", description: spec.description };
    case "int":
      return {
        type: "string",
        valueHint: spec.hint ?? "N",
        description: `${spec.description} (${spec.min}–${spec.max}${spec.default === undefined ? "" : `, default ${spec.default}`})`,
      };
    case "time":
      return { type: "string", valueHint: spec.hint ?? "TIME", description: `${spec.description} (ISO 8601)` };
    case "duration":
      return {
        type: "string",
        valueHint: spec.hint ?? "DURATION",
        description: `${spec.description} (90s, 30m, 6h, 7d${spec.default === undefined ? "" : `; default ${spec.default}s`})`,
      };
    case "list":
      return { type: "string", valueHint: spec.hint ?? "A,B", description: spec.description };
    case "string":
      return spec.positional
        ? { type: "positional", required: Boolean(spec.required), description: spec.description }
        : { type: "string", valueHint: spec.hint, description: spec.description };
  }
}

/** The `vc robot <name>` command of a view. */
export function viewCommand(view: AnyView) {
  const args = { ...storeArgs, ...formatArg, ...Object.fromEntries(Object.entries(view.args).map(([k, s]) => [k, cliArg(s as ArgSpec)])) } as unknown as ArgsDef;
  return defineCommand({
    meta: { name: view.name, description: `${view.summary} (vc.robot.${view.name}.v1)` },
    args,
    run: ({ args: parsed }) =>
      guard(
        async () => {
          const raw = Object.fromEntries(Object.keys(view.args).map((k) => [k, parsed[k]]));
          parseArgs(view, raw, "flag"); // bad values are named as flags, before the store opens
          const p = parsed as { config?: string; db?: string; json?: boolean; format?: string };
          await using vc = await openApiFromArgs(p, { readOnly: true });
          await printRobot(await vc.view(view.name, raw), p.json ? "json" : p.format);
        },
        { robot: true },
      ),
  });
}
