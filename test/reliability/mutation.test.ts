// The mutation sweep, kept (issue 13): every collector's real fixtures mutated with fast-check and
// run through runCollector into a freshly migrated DuckDB store. Each collector gets one mutation of
// every kind (byte flips, truncation, duplicated and deleted lines, huge numbers, lone surrogates,
// deep nesting, very long strings, escape sequences, values of another type, SQLite values and
// pages) and a few random ones; the larger sweep with figures is test/bench/reliability/mutation.ts.
// What counts as a defect (a throw out of runCollector, a parser's TypeError/RangeError, a whole
// batch lost although the collector returned well-formed rows, a hang) is defined in _sweep.ts.
// VC_SWEEP_RUNS (random mutations per collector besides the fixed ones, default 3) and VC_SWEEP_SEED change the draw.
import { afterAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import fc from "fast-check";
import { DEFECTS, OPS, createSweep, targets, type Mutation, type Op } from "./_sweep.ts";

setDefaultTimeout(180_000);

const RUNS = Number(process.env.VC_SWEEP_RUNS ?? 3);
const SEED = Number(process.env.VC_SWEEP_SEED ?? 20261207);
const mutation: fc.Arbitrary<Mutation> = fc.record({ input: fc.nat(), op: fc.constantFrom(...OPS), a: fc.nat(), b: fc.nat(), c: fc.nat() });
/** The values the sweep found whole batches lost to: tried on every input of every collector. */
const ON_EVERY_INPUT: readonly Op[] = ["surrogate", "hugeNumber", "deep"];
/**
 * Whatever the random draw: a lone surrogate, a huge number and deep nesting on every input, and
 * every other kind once (spread over the inputs; long strings of 70,000 characters here, up to
 * 3,000,000 in the bench).
 */
const fixedExamples = (inputs: number): [Mutation][] => [
  ...ON_EVERY_INPUT.flatMap((op, k) => Array.from({ length: inputs }, (_, input): [Mutation] => [{ input, op, a: 7919 * (k + 1) + input, b: k + input, c: 104729 * (k + 3) }])),
  ...OPS.filter((op) => !ON_EVERY_INPUT.includes(op)).map((op, k): [Mutation] => [{ input: k, op, a: 7919 * (k + 1), b: 3 * k, c: 104729 * (k + 3) }]),
];

describe("mutated real outputs never break a collector's run", () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const f of cleanup) await f();
  });

  for (const target of targets()) {
    it(`${target.name}: no throw, no parser exception, no whole-batch failure, no hang`, async () => {
      const sweep = await createSweep(target);
      cleanup.push(() => sweep.close());
      // The real fixtures themselves run clean.
      expect(await sweep.run(null)).toEqual({ outcome: "ok" });
      const examples = fixedExamples(target.inputs.length);
      await fc.assert(
        fc.asyncProperty(mutation, async (m) => {
          const r = await sweep.run(m);
          if (DEFECTS.includes(r.outcome)) throw new Error(`${r.outcome}: ${r.detail}`);
        }),
        { numRuns: RUNS + examples.length, examples, seed: SEED, endOnFailure: true },
      );
    });
  }
});
