// A fake HOME where dcg writes a JSON decision log, and a config that watches it: used by the
// watch test and the MTTD benchmark.
import { mkdirSync, writeFileSync, appendFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "./cli.ts";

export function dcgWatchSetup(home: string) {
  mkdirSync(join(home, ".config", "dcg"), { recursive: true });
  const log = join(home, ".local", "share", "dcg", "decisions.jsonl");
  mkdirSync(join(home, ".local", "share", "dcg"), { recursive: true });
  writeFileSync(join(home, ".config", "dcg", "config.toml"), `[logging]\nenabled = true\nformat = "json"\nfile = "${log}"\n`);
  writeFileSync(log, "");
  const config = join(home, "watch.config.ts");
  writeFileSync(
    config,
    `import { defineConfig } from "vibe-cockpit";
import { dcg } from ${JSON.stringify(join(repoRoot, "plugins/dcg/index.ts"))};
import { dcgDenySpike } from ${JSON.stringify(join(repoRoot, "plugins/rules/agents.ts"))};
export default defineConfig({
  db: "~/watch.duckdb",
  polling: { interval_seconds: 3600 },
  machines: [{ id: "here", ssh: "local" }],
  collectors: [dcg()],
  rules: [dcgDenySpike],
});
`,
  );
  /** Appends n deny lines stamped now. */
  const denies = (n: number, prefix = "d") => {
    const ts = new Date().toISOString().replace(/\.\d+Z$/, "Z");
    appendFileSync(
      log,
      Array.from(
        { length: n },
        (_, i) =>
          `${JSON.stringify({ timestamp: ts, decision: "deny", mode: "deny", command: `rm -rf /tmp/${prefix}${i}`, pack_id: "core.filesystem", pattern_name: "rm-rf-general", rule_id: "core.filesystem:rm-rf-general" })}\n`,
      ).join(""),
    );
  };
  return { config, log, denies };
}

/** Reads a process's stdout line by line, resolving when `match` sees a line. */
export function lineWaiter(stream: ReadableStream<Uint8Array>) {
  const lines: string[] = [];
  const waiters: { match: (l: string) => boolean; resolve: (l: string) => void }[] = [];
  (async () => {
    const dec = new TextDecoder();
    let buf = "";
    for await (const chunk of stream) {
      buf += dec.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        lines.push(line);
        for (const w of [...waiters]) if (w.match(line)) waiters.splice(waiters.indexOf(w), 1), w.resolve(line);
      }
    }
  })();
  return {
    lines,
    next(match: (l: string) => boolean): Promise<string> {
      const seen = lines.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve) => waiters.push({ match, resolve }));
    },
  };
}
