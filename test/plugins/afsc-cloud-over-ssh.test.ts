// The afsc and cloud_benchmarker collectors, unchanged, on a machine reached over SSH (a real sshd
// on 127.0.0.1): results files listed and read through the connection, the benchmarker's API
// fetched on that machine's own loopback.
import { beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createTestStore, runOnce } from "../../lib/testkit.ts";
import { afsc } from "../../plugins/afsc/index.ts";
import { cloudBenchmarker } from "../../plugins/cloud_benchmarker/index.ts";
import { SSH_TEST_HOME, useSshMachine } from "../helpers/sshd.ts";

setDefaultTimeout(60_000); // a real sshd

const fx = (path: string) => readFileSync(join(import.meta.dir, "../fixtures", path), "utf8");
const remoteDir = join(SSH_TEST_HOME, `afsc-results-${process.pid}`);
const { overSsh } = useSshMachine(remoteDir);

beforeAll(async () => {
  const file = join(remoteDir, "results_20260820_061112.jsonl");
  writeFileSync(file, fx("afsc/results.jsonl"));
  chmodSync(file, 0o644);
  writeFileSync(join(remoteDir, "results_20260820_061112.jsonl.tmp"), "partial");
});

describe("over SSH", () => {
  it("afsc lists and reads the results files on the remote machine", async () => {
    const c = afsc();
    await using store = await createTestStore([c]);
    const run = await runOnce({ store, collector: c, machine: overSsh({ "afsc.results_dir": remoteDir }) });
    expect(run).toMatchObject({ result: "ok", warnings: [], rowsByTable: { afsc_run_facts: 1, afsc_event_logs: 9 } });
    expect(await store.query("SELECT machine_id, run_id, failed, results_file FROM afsc_run_facts")).toEqual([
      { machine_id: "remote", run_id: "4c0f3b8e-9d12-4a6b-b7e1-2f6d90a1c355", failed: 3, results_file: join(remoteDir, "results_20260820_061112.jsonl") },
    ]);
    expect((await runOnce({ store, collector: c, machine: overSsh({ "afsc.results_dir": remoteDir }) })).rows).toBe(0);
  });

  it("cloud_benchmarker reads the API on the remote machine's loopback", async () => {
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: (req) => {
        const path = new URL(req.url).pathname;
        return new Response(path === "/data/raw/" ? fx("cloud_benchmarker/data-raw.json") : path === "/data/overall/" ? fx("cloud_benchmarker/data-overall.json") : "not found", {
          status: path.startsWith("/data/") ? 200 : 404,
        });
      },
    });
    try {
      const c = cloudBenchmarker();
      await using store = await createTestStore([c]);
      const run = await runOnce({
        store,
        collector: c,
        machine: overSsh({ "cloud_benchmarker.url": `http://127.0.0.1:${server.port}`, "cloud_benchmarker.utc_offset": "+02:00" }),
      });
      expect(run).toMatchObject({ result: "ok", warnings: [], rowsByTable: { cloud_bench_raw: 75, cloud_bench_overall: 3 } });
      expect(await store.query("SELECT hostname, rank FROM cloud_bench_overall ORDER BY rank")).toEqual([
        { hostname: "hetzner-ax102", rank: 1 },
        { hostname: "ovh-rise-3", rank: 2 },
        { hostname: "contabo-vps-xl", rank: 3 },
      ]);
    } finally {
      server.stop(true);
    }
  });
});
