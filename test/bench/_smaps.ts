// RSS of a process by what it maps: code (bun, libduckdb, other libraries), anonymous memory (the
// allocators' heaps: JS, mimalloc, DuckDB's jemalloc), files. Linux only; for the daemon bench's trace.
import { readFileSync } from "node:fs";

/** RSS in kB by kind of mapping: "bun", "duckdb", "lib" (other shared objects), "anon", "file". */
export function rssByMapping(pid: number | "self"): Record<string, number> | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/smaps`, "utf8");
  } catch {
    return null;
  }
  const out: Record<string, number> = { bun: 0, duckdb: 0, lib: 0, anon: 0, file: 0 };
  let kind = "anon";
  for (const line of text.split("\n")) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      const path = head[1]!;
      kind = !path || path.startsWith("[") ? "anon" : /duckdb/.test(path) ? "duckdb" : /\/bun(\.exe)?$/.test(path) ? "bun" : /\.so(\.|$)/.test(path) ? "lib" : "file";
      continue;
    }
    const rss = /^Rss:\s+(\d+) kB/.exec(line);
    if (rss) out[kind]! += Number(rss[1]);
  }
  return out;
}
