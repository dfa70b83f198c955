import { envelope, VcError } from "../../../lib/index.ts";
import { robotCommand } from "../../_robot.ts";

export default robotCommand({
  name: "search",
  description: "Content search through the tools that index it (cass: agent sessions), on every machine or --machine; a machine that cannot answer is a warning (vc.robot.search.v1)",
  args: {
    query: { type: "positional", description: "the words to search for", required: true },
    machine: { type: "string", description: "only this machine (comma-separated for several)" },
    limit: { type: "string", description: "hits per machine (1-200, default 20)" },
  },
  async answer(vc, args) {
    if (args.limit !== undefined && !/^\d+$/.test(args.limit)) throw new VcError("invalid_input", `--limit: "${args.limit}" is not a whole number from 1 to 200`);
    const limit = args.limit === undefined ? undefined : Number(args.limit);
    const machines = args.machine ? args.machine.split(",").map((m) => m.trim()).filter(Boolean) : undefined;
    const r = await vc.search(args.query, { ...(limit === undefined ? {} : { limit }), ...(machines ? { machines } : {}) });
    return envelope("search", { query: r.query, machines: r.machines, hits: r.hits }, { now: vc.clock.now(), warnings: r.errors.map((e) => `${e.machine_id}: ${e.error}`) });
  },
});
