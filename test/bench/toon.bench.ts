// TOON vs JSON: bytes of `vc robot health` and `vc robot triage` on the generated 20-machine store
// (after one end-of-cycle with the default rules, so triage has alerts). Target ≤ 0.5×.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { encode } from "@toon-format/toon";
import { createFixedClock, finishCycle, openCockpit, resolveConfig } from "../../lib/index.ts";
import { defaultRules } from "../../plugins/rules/index.ts";
import { createDemoFleet } from "../../examples/demo-fleet.ts";

const dir = mkdtempSync(join(tmpdir(), "vc-bench-toon-"));
try {
  const end = new Date("2026-01-25T03:00:00Z");
  const fleet = await createDemoFleet({ out: join(dir, "fleet"), machines: 20, days: 2, end });
  const config = await resolveConfig(
    { db: fleet.db, data_dir: join(dir, "fleet"), machines: fleet.machines.map((id) => ({ id, ssh: `demo@${id}.invalid` })), rules: defaultRules() },
    { source: "bench", env: {} },
  );
  const clock = createFixedClock(end);
  const vc = await openCockpit({ config, clock });
  await finishCycle({ store: vc.store, config, clock, rules: config.rules, channels: [] });
  const views = { health: await vc.robotHealth(), triage: await vc.robotTriage() };
  await vc.close();
  console.log("TOON vs JSON bytes (20-machine demo fleet)");
  for (const [name, env] of Object.entries(views)) {
    const compact = Buffer.byteLength(JSON.stringify(env));
    const pretty = Buffer.byteLength(JSON.stringify(env, null, 2));
    const toon = Buffer.byteLength(encode(env));
    console.log(
      `  ${name.padEnd(7)} json ${compact} B (pretty, as printed: ${pretty} B), toon ${toon} B: ${(toon / compact).toFixed(2)}x compact, ${(toon / pretty).toFixed(2)}x pretty (target <= 0.5x)`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
