import { arg, defineView } from "./define.ts";

/** `vc robot search`: content search through the tools that index it (cass). */
export default defineView({
  name: "search",
  summary: "Content search through the tools that index agent sessions, on every machine or --machine; a machine that cannot answer is a warning",
  live: "asks each machine's session index now",
  args: {
    query: arg.string("the words to search for", { positional: true, required: true, max: 1000 }),
    machine: arg.list("only these machines (comma-separated)", { hint: "ID[,ID]" }),
    limit: arg.int("hits per machine", { min: 1, max: 200, default: 20, hint: "N" }),
  },
  async run(vc, { query, machine, limit }) {
    const r = await vc.search(query, { limit, ...(machine ? { machines: machine } : {}) });
    return { data: { query: r.query, machines: r.machines, hits: r.hits }, warnings: r.errors.map((e) => `${e.machine_id}: ${e.error}`) };
  },
});
