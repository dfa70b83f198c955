// The one shape of every `vc robot …` command: read-only store, an envelope on stdout as JSON
// or TOON, an error envelope and a non-zero exit on failure.
import { defineCommand, type ArgsDef, type ParsedArgs } from "citty";
import type { CockpitApi } from "../lib/index.ts";
import { guard, openApiFromArgs, storeArgs } from "./_common.ts";

export const formatArg = {
  format: { type: "enum", options: ["json", "toon"], default: "json", description: "json, or toon (token-optimised for agents)" },
  json: { type: "boolean", description: "same as --format json (accepted for compatibility)" },
} as const;

/** Writes an envelope in the chosen format. */
export async function printRobot(value: unknown, format: string | undefined): Promise<void> {
  if (format === "toon") {
    const { encode } = await import("@toon-format/toon");
    process.stdout.write(`${encode(value)}\n`);
  } else process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** A robot command from a description and the cockpit call that answers it. */
export function robotCommand<const A extends ArgsDef>(o: {
  name: string;
  description: string;
  args?: A;
  answer: (vc: CockpitApi, args: ParsedArgs<A & typeof storeArgs & typeof formatArg>) => Promise<unknown>;
}) {
  return defineCommand({
    meta: { name: o.name, description: o.description },
    args: { ...storeArgs, ...formatArg, ...(o.args ?? ({} as A)) },
    run: ({ args }) =>
      guard(
        async () => {
          await using vc = await openApiFromArgs(args, { readOnly: true });
          await printRobot(await o.answer(vc, args as never), args.json ? "json" : (args.format as string));
        },
        { robot: true },
      ),
  });
}
