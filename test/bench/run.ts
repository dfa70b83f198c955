// `bun run bench`: every benchmark in test/bench/, one after another, each in its own process.
import { readdirSync } from "node:fs";
import { join } from "node:path";

const only = process.argv[2];
const benches = readdirSync(import.meta.dir)
  .filter((f) => f.endsWith(".bench.ts") && (!only || f.includes(only)))
  .sort();
let failed = 0;
for (const file of benches) {
  console.log(`\n== ${file}`);
  const p = Bun.spawn(["bun", join(import.meta.dir, file)], { stdout: "inherit", stderr: "inherit" });
  if ((await p.exited) !== 0) failed++;
}
process.exit(failed ? 1 : 0);
