import { diffSources, loadDiff, type DiffData } from "../diff.ts";
import { VcError } from "../errors.ts";
import { arg, defineView, type ViewResult } from "./define.ts";
import { requireMachine } from "./read.ts";
import { checkAt } from "./timemachine.ts";

/** `vc robot diff --from T1 [--to T2] [--machine ID]`: what changed between two moments. */
export default defineView({
  name: "diff",
  summary:
    "What changed between --from and --to (default now): alerts opened and closed, health factors that moved, machines that appeared or went quiet, and what each plugin saw change in its tool's data",
  args: {
    from: arg.time("the earlier moment (ISO 8601)"),
    to: arg.time("the later moment (default: now)"),
    machine: arg.string("only this machine", { hint: "ID" }),
  },
  async run(vc, { from, to, machine }): Promise<ViewResult<DiffData>> {
    if (!from) throw new VcError("invalid_argument", "diff: --from is required (an ISO 8601 time, like 2026-01-25T03:00:00Z)", { details: { view: "diff", field: "from" } });
    const end = to ?? vc.clock.now();
    if (from.getTime() >= end.getTime())
      throw new VcError("invalid_argument", `--from ${from.toISOString()} is not before --to ${end.toISOString()}`, {
        hint: "--from is the earlier moment",
        details: { view: "diff", field: "from" },
      });
    await checkAt(vc, end, "diff");
    await checkAt(vc, from, "diff");
    if (machine) requireMachine(vc.config, machine);
    const data = await loadDiff(diffSources(vc.config.plugins ?? []), { store: vc.store, config: vc.config, from: from.toISOString(), to: end.toISOString(), machine });
    return { data, warnings: data.errors.map((e) => `diff source ${e.source} failed: ${e.error}`) };
  },
});
