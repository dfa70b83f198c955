// A view's arguments as a JSON Schema (for `GET /api`, MCP tools): each ArgSpec as a valibot
// schema, converted by @valibot/to-json-schema, so what a client is told matches what parseArgs takes.
import { toJsonSchema } from "@valibot/to-json-schema";
import * as v from "valibot";
import type { ArgSpec, ArgsSpec } from "./define.ts";

function valibotOf(spec: ArgSpec): v.GenericSchema {
  switch (spec.kind) {
    case "flag":
      return v.pipe(v.boolean(), v.description(spec.description));
    case "int":
      return v.pipe(v.number(), v.integer(), v.minValue(spec.min), v.maxValue(spec.max), v.description(spec.description));
    case "time":
      return v.pipe(v.string(), v.isoTimestamp(), v.description(`${spec.description} (ISO 8601, like 2026-01-25T03:00:00Z)`));
    case "duration":
      return v.pipe(v.string(), v.regex(/^\d+(\.\d+)?[smhdw]?$/), v.description(`${spec.description} (like 90s, 30m, 6h, 7d)`));
    case "list":
      return v.pipe(v.array(v.string()), v.description(spec.description));
    case "string":
      return v.pipe(v.string(), v.maxLength(spec.max ?? 10_000), v.description(spec.description));
  }
}

/** The JSON Schema (draft-07) of a view's arguments: an object with one property per argument. */
export function argsJsonSchema(args: ArgsSpec): Record<string, unknown> {
  const entries = Object.entries(args).map(([k, spec]) => {
    const s = valibotOf(spec);
    const required = spec.kind === "string" && spec.required;
    return [k, required ? s : v.optional(s)] as const;
  });
  const schema = toJsonSchema(v.strictObject(Object.fromEntries(entries)), { errorMode: "ignore" }) as Record<string, unknown>;
  delete schema.$schema;
  return schema;
}
