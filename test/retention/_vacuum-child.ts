// A vacuum in a process of its own, for test/retention/crash.test.ts: `bun _vacuum-child.ts DB OUT [STEP]`
// runs one vacuum (delete, with export to OUT) and, when the vacuum reaches STEP (`export:sys_samples`,
// `published:filesystems`, `delete:sys_samples`, …), writes "STOPPED STEP" and stops dead until killed.
import { writeSync } from "node:fs";
import { openStore, runVacuum } from "../../lib/index.ts";
import { CRASH_NOW, crashRetention } from "./_crash.ts";

const [db, out, stopAt] = process.argv.slice(2) as [string, string, string | undefined];
const store = await openStore({ path: db });
await runVacuum({
  store,
  config: { source: "crash-child", retention: crashRetention(out) },
  now: CRASH_NOW,
  onProgress: (p) => {
    const step = `${p.step}:${p.table}`;
    if (step !== stopAt) return;
    writeSync(1, `STOPPED ${step}\n`);
    // Stopped mid-vacuum (in its transaction, when the step is inside one): the parent kills the process here.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 120_000);
  },
});
await store.close();
writeSync(1, "DONE\n");
