// The mutation sweep at full size (issue 13, "the suite, kept"): `runs` fast-check mutations
// (default 250) of every collector's real fixtures, each run through runCollector into a freshly
// migrated DuckDB store (test/reliability/_sweep.ts says what is mutated and what counts as a
// defect). Figures: runs, clean failures (readable, expected for junk), uncaught exceptions
// (a parser's TypeError/RangeError/… or an exception no one caught; target 0), runCollector throws
// (target 0), whole-batch failures (target 0), hangs (target 0).
//
// `run({ runs })` returns the figures; `bun test/bench/reliability/mutation.ts [runs] [seed]` prints
// them and the first defects. VC_SWEEP_SEED fixes the draw (printed either way, to replay it).
import fc from "fast-check";
import { OPS, count, createSweep, emptyTally, targets, type Mutation, type SweepTally } from "../../reliability/_sweep.ts";
import type { Figure } from "./_figure.ts";

export type { Figure };

const mutation: fc.Arbitrary<Mutation> = fc.record({ input: fc.nat(), op: fc.constantFrom(...OPS), a: fc.nat(), b: fc.nat(), c: fc.nat() });

/** The sweep's counts, and the defects seen, over every collector. */
export async function sweep(opts: { runs?: number; seed?: number; log?: (line: string) => void } = {}): Promise<SweepTally & { uncaught: number; seed: number }> {
  const runs = opts.runs ?? 250;
  const seed = opts.seed ?? Number(process.env.VC_SWEEP_SEED ?? Date.now() % 2 ** 31);
  const tally = emptyTally();
  // Exceptions no one caught, anywhere in the process, while the sweep runs.
  let uncaught = 0;
  const onUncaught = (err: unknown) => {
    uncaught++;
    opts.log?.(`uncaught: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  };
  process.on("uncaughtException", onUncaught);
  process.on("unhandledRejection", onUncaught);
  try {
    for (const target of targets()) {
      const s = await createSweep(target);
      try {
        const t0 = performance.now();
        const before = { ...tally.byOutcome };
        count(tally, target.name, null, await s.run(null));
        for (const m of fc.sample(mutation, { numRuns: runs, seed: seed + target.name.length })) count(tally, target.name, m, await s.run(m));
        const delta = Object.entries(tally.byOutcome)
          .map(([k, v]) => [k, v - before[k as keyof typeof before]] as const)
          .filter(([, v]) => v > 0);
        opts.log?.(`${target.name}: ${delta.map(([k, v]) => `${v} ${k}`).join(", ")} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
      } finally {
        await s.close();
      }
    }
  } finally {
    process.off("uncaughtException", onUncaught);
    process.off("unhandledRejection", onUncaught);
  }
  return { ...tally, uncaught, seed };
}

/**
 * The larger sweep as figures, each with its target.
 * @example const figures = await run({ runs: 250 })
 */
export async function run(opts: { runs?: number } = {}): Promise<Figure[]> {
  const t = await sweep({ runs: opts.runs, log: (l) => console.error(`  ${l}`) });
  console.error(`  mutation sweep seed ${t.seed} (VC_SWEEP_SEED=${t.seed} replays it)`);
  for (const d of t.defects.slice(0, 10)) console.error(`  DEFECT ${d.target} ${d.outcome} ${JSON.stringify(d.mutation)}: ${d.detail?.slice(0, 400)}`);
  const b = t.byOutcome;
  const zero = (name: string, value: number): Figure => ({ name, value, target: "0", ok: value === 0 });
  const collectors = targets().length;
  return [
    { name: "mutation: runs", value: t.runs, target: `${collectors} collectors × (${opts.runs ?? 250} + 1)`, ok: t.runs === collectors * ((opts.runs ?? 250) + 1) },
    { name: "mutation: ok or skipped", value: b.ok + b.skipped, target: "any", ok: true },
    { name: "mutation: clean failures", value: b.clean_failure, target: "any (readable)", ok: true },
    zero("mutation: uncaught exceptions", b.parser_exception + t.uncaught),
    zero("mutation: runCollector throws", b.runcollector_throw),
    zero("mutation: whole-batch failures", b.whole_batch_failure),
    zero("mutation: hangs", b.hang),
  ];
}

if (import.meta.main) {
  if (process.argv[3]) process.env.VC_SWEEP_SEED = process.argv[3];
  const figures = await run({ runs: process.argv[2] ? Number(process.argv[2]) : undefined });
  for (const f of figures) console.log(`${f.ok ? "ok  " : "FAIL"} ${f.name}: ${f.value} (target ${f.target})`);
  process.exit(figures.every((f) => f.ok) ? 0 : 1);
}
