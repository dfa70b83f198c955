import { defineCommand } from "citty";
import { ask, loadConfig, VcError, type AskResult } from "../../lib/index.ts";
import { configArgs, formatArgs, guard, openApiFromArgs, outputFormat, printJson, storeArgs, yellow } from "../_common.ts";

/** What `vc ask --format json` prints: the intent, the names it resolved, the views it read, the answer. */
export function askJson(r: AskResult) {
  return {
    question: r.question,
    intent: r.intent,
    entities: r.entities,
    views: r.views,
    answer: { text: r.text, facts: r.facts },
    warnings: r.warnings,
    ...(r.can_answer ? { can_answer: r.can_answer } : {}),
    ...(r.declined ? { declined: r.declined } : {}),
  };
}

/**
 * `vc ask "why is orko slow?"`: a question in plain words, answered from registered views only
 * (never SQL). Through the daemon when one serves the store.
 */
export default defineCommand({
  meta: {
    name: "ask",
    description:
      'Ask about the fleet in plain words ("why is orko slow?", "what changed on orko since 2h?", "what needs me now?", "when does alice hit her limit?", "what is blocking smartedgar?"): the answer is read from vc\'s views, never SQL, and changes nothing. Exit 0: answered; 1: no question vc can answer (it lists those it can; JSON: intent null) or a name it does not know; 2: an empty question',
  },
  args: {
    ...storeArgs,
    question: { type: "positional", description: 'the question, quoted ("why is orko slow?")', required: false },
    ...formatArgs(["text", "json"]),
  },
  run: ({ args }) => {
    const format = outputFormat(args);
    return guard(
      async () => {
        const question = (args.question ?? "").trim();
        if (question === "") throw new VcError("usage", "the question is empty", { hint: 'ask one, quoted, like: vc ask "what needs me now?"' });
        const config = await loadConfig(configArgs(args));
        await using vc = await openApiFromArgs(args, { readOnly: true, config });
        const r = await ask(vc, question, { config });
        if (format === "json") printJson(askJson(r));
        else {
          process.stdout.write(`${r.text}\n`);
          for (const w of r.warnings) process.stderr.write(`${yellow("warning:")} ${w}\n`);
        }
        return r.intent === null ? 1 : 0;
      },
      { robot: format === "json" },
    );
  },
});
