// `bun run bench reliability`: the fault sweep, repeated on every change, with each figure and its
// target. Parts: the kill -9 loop, the mutation sweep over every collector's real fixtures, the
// collector and SSH fault matrix with the escape corpus, the query guard and socket abuse.
// VC_RELIABILITY=crash,socket runs only those parts; VC_SWEEP_RUNS sets the mutations per collector.
import type { Figure } from "./reliability/_figure.ts";
import { printFigures } from "./reliability/_figure.ts";

const parts: Record<string, () => Promise<Figure[]>> = {
  crash: async () => (await import("./reliability/crash.ts")).run(),
  mutation: async () => (await import("./reliability/mutation.ts")).run({ runs: Number(process.env.VC_SWEEP_RUNS ?? 250) }),
  faults: async () => (await import("./reliability/faults.ts")).run(),
  socket: async () => (await import("./reliability/socket.ts")).run(),
};
const only = process.env.VC_RELIABILITY?.split(",").filter(Boolean);
let failed = 0;
let total = 0;
for (const [name, run] of Object.entries(parts)) {
  if (only && !only.includes(name)) continue;
  const t0 = performance.now();
  console.log(`\n-- ${name}`);
  const figures = await run();
  printFigures(figures);
  console.log(`   (${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  total += figures.length;
  failed += figures.filter((f) => !f.ok).length;
}
console.log(`\nreliability: ${total - failed} of ${total} figures on target`);
process.exit(failed ? 1 : 0);
