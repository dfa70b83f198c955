// vc.config.jsonc: the config as data. Bundled plugins and channels by name (with options), the
// default rules with threshold overrides, found where vc.config.ts is; every mistake names the
// file, the line and the column.
import { describe, expect, it, setDefaultTimeout } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { discoverConfig, loadConfig, parseJsoncConfig, thresholdDefaults, VcError, type ConfigCatalog } from "../../lib/index.ts";
import { catalog } from "../../plugins/catalog.ts";
import { isolatedEnv, repoRoot, vc } from "../helpers/cli.ts";
import { tempDir } from "../helpers/tmp.ts";

setDefaultTimeout(60_000);

const dir = tempDir();
let n = 0;
function write(body: string, name = "vc.config.jsonc"): string {
  const d = join(dir, `c${n++}`);
  mkdirSync(d, { recursive: true });
  const file = join(d, name);
  writeFileSync(file, body);
  return file;
}

/** The VcError a promise rejects with. */
async function failure(p: Promise<unknown>): Promise<VcError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(VcError);
  return err as VcError;
}

const load = (file: string) => loadConfig({ file, env: { HOME: dir }, catalog });

describe("vc.config.jsonc", () => {
  it("loads machines, plugins by name with options, rule overrides and channels, comments and trailing commas allowed", async () => {
    const file = write(`// my fleet
{
  "$schema": "https://example.invalid/vc.schema.json",
  "db": "/tmp/vc-jsonc-test.duckdb",
  "machines": [
    { "id": "orko", "ssh": "local" }, // this machine
    { "id": "gpu-box", "ssh": "alice@127.0.0.1:2222", "tags": ["gpu"] },
  ],
  /* plugins by name, one with options */
  "collectors": ["sysprobe", { "name": "beads", "options": { "intervalSeconds": 300 } }, { "name": "dcg" }],
  "rules": { "disk_low": { "min_free_pct": 15 }, "dirty_repos": false },
  "channels": ["alerts.jsonl", { "name": "webhook", "options": { "url": "http://127.0.0.1:9/hook" } }, "desktop",
    { "name": "agent-mail", "options": { "project": "/srv/fleet", "to": ["BlueLake"] } }],
}
`);
    const config = await load(file);
    expect(config.source).toBe(file);
    expect(config.db).toBe("/tmp/vc-jsonc-test.duckdb");
    expect(config.machines.map((m) => [m.id, m.ssh, m.tags])).toEqual([
      ["orko", "local", []],
      ["gpu-box", "alice@127.0.0.1:2222", ["gpu"]],
    ]);
    expect(config.collectors.map((c) => c.name)).toEqual(["sysprobe", "beads", "dcg"]);
    expect(config.collectors[1]!.intervalSeconds).toBe(300);
    // The default pack, disk_low tuned, dirty_repos off.
    const defaults = catalog.rules({});
    expect(config.rules.map((r) => r.id)).toEqual(defaults.map((r) => r.id).filter((id) => id !== "dirty_repos"));
    const disk = config.rules.find((r) => r.id === "disk_low")!;
    expect(thresholdDefaults(disk).min_free_pct).toBe(10);
    expect(disk.thresholds?.min_free_pct).toBe(15);
    expect(config.channels.map((c) => c.name)).toEqual(["alerts.jsonl", "webhook 127.0.0.1:9", "desktop", "agent-mail 127.0.0.1:8765"]);
  });

  it('takes the default rules as they are without "rules", and none with "rules": false', async () => {
    const base = `"machines": [{ "id": "a", "ssh": "local" }]`;
    expect((await load(write(`{ ${base} }`))).rules.map((r) => r.id)).toEqual(catalog.rules({}).map((r) => r.id));
    expect((await load(write(`{ ${base}, "rules": false }`))).rules).toEqual([]);
    const bare = await load(write(`{ ${base} }`));
    expect([bare.collectors, bare.channels]).toEqual([[], []]);
  });

  it("loads the example in examples/", async () => {
    const config = await load(join(repoRoot, "examples/vc.config.jsonc"));
    expect(config.machines.map((m) => m.id)).toEqual(["orko", "gpu-box", "worker-01"]);
    expect(config.collectors.map((c) => c.name)).toContain("beads");
    expect(config.rules.find((r) => r.id === "disk_low")?.thresholds?.min_free_pct).toBe(15);
  });

  it("names each bundled collector and channel by the name it goes by", () => {
    const made = (make: unknown) => (make as (options?: unknown) => { name: string })().name;
    for (const [name, make] of Object.entries(catalog.collectors)) expect(made(make)).toBe(name);
    expect(made(catalog.channels["alerts.jsonl"])).toBe("alerts.jsonl");
    expect(made(catalog.channels.stdout)).toBe("stdout");
  });

  it("finds the bundled catalog through the package's own vibe-cockpit/plugins entry when none is passed", async () => {
    const config = await loadConfig({ file: write(`{ "machines": [{ "id": "a", "ssh": "local" }], "collectors": ["sysprobe"] }`), env: { HOME: dir } });
    expect(config.collectors.map((c) => c.name)).toEqual(["sysprobe"]);
  });
});

describe("vc.config.jsonc discovery", () => {
  it("is found where vc.config.ts is, in the same order, and both in one place is refused", () => {
    const cwd = join(dir, "d-cwd");
    const xdg = join(dir, "d-xdg");
    mkdirSync(join(xdg, "vc"), { recursive: true });
    mkdirSync(cwd, { recursive: true });
    const env = { HOME: dir, XDG_CONFIG_HOME: xdg };
    expect(discoverConfig({ cwd, env }).file).toBeNull();
    writeFileSync(join(xdg, "vc", "vc.config.jsonc"), "{}");
    expect(discoverConfig({ cwd, env }).file).toBe(join(xdg, "vc", "vc.config.jsonc"));
    writeFileSync(join(cwd, "vc.config.jsonc"), "{}");
    expect(discoverConfig({ cwd, env }).file).toBe(join(cwd, "vc.config.jsonc"));
    expect(discoverConfig({ cwd, env }).tried).toEqual([join(cwd, "vc.config.ts"), join(cwd, "vc.config.jsonc")]);
    writeFileSync(join(cwd, "vc.config.ts"), "export default {}");
    expect(() => discoverConfig({ cwd, env })).toThrow(`two configs in ${cwd}: vc.config.ts and vc.config.jsonc`);
    // --config settles it.
    expect(discoverConfig({ cwd, env, file: join(cwd, "vc.config.jsonc") }).file).toBe(join(cwd, "vc.config.jsonc"));
  });
});

describe("vc.config.jsonc mistakes", () => {
  const parse = (text: string, cat: ConfigCatalog = catalog) => failure(parseJsoncConfig(text, "vc.config.jsonc", cat));

  it("names the line and column of a syntax error", async () => {
    const err = await parse(`{\n  "machines": [\n    { "id": "a" "ssh": "local" }\n  ]\n}\n`);
    expect(err.code).toBe("config_invalid");
    expect(err.message).toBe("vc.config.jsonc:3:17: syntax error: comma expected");
    expect(err.details).toMatchObject({ file: "vc.config.jsonc", line: 3, column: 17 });
    expect((await parse(`{ "machines": [ }`)).message).toMatch(/^vc\.config\.jsonc:1:17: syntax error: value expected/);
    expect((await parse("")).message).toMatch(/^vc\.config\.jsonc:1:1: syntax error/);
    expect((await parse(`[1, 2]`)).message).toBe('vc.config.jsonc:1:1: expected an object: { "machines": [...], "collectors": [...] }');
  });

  it("names an unknown plugin and every known one, where it stands", async () => {
    const err = await parse(`{\n  "collectors": [\n    "sysprobe",\n    { "name": "sysprob" }\n  ]\n}`);
    expect(err.message).toStartWith(
      'vc.config.jsonc:4:15: collectors[1]: unknown plugin "sysprob" (known: afsc, beads, caam, cass, caut, caut_cost, cloud_benchmarker, dcg, mcp_agent_mail, ntm, ntm_attention, pt, rano, rch, ru, sysmoni, sysprobe)',
    );
    expect((await parse(`{ "channels": ["slack"] }`)).message).toBe(
      'vc.config.jsonc:1:16: channels[0]: unknown channel "slack" (known: agent-mail, alerts.jsonl, desktop, stdout, webhook)',
    );
    // Only own names: nothing from Object.prototype.
    expect((await parse(`{ "collectors": ["constructor"] }`)).message).toContain('unknown plugin "constructor"');
  });

  it("refuses a malformed plugin entry, options that are not an object, and a factory's own refusal", async () => {
    expect((await parse(`{ "collectors": [42] }`)).message).toBe('vc.config.jsonc:1:18: collectors[0]: expected a plugin name or { "name": "…", "options": { … } }');
    expect((await parse(`{ "collectors": [{ "name": "beads", "opts": {} }] }`)).message).toBe(
      'vc.config.jsonc:1:37: collectors[0]: unknown key "opts": expected a plugin name or { "name": "…", "options": { … } }',
    );
    expect((await parse(`{ "collectors": [{ "name": "beads", "options": [300] }] }`)).message).toBe("vc.config.jsonc:1:48: collectors[0].options: expected an object of options");
    expect((await parse(`{ "collectors": "sysprobe" }`)).message).toMatch(/^vc\.config\.jsonc:1:17: collectors: expected a list/);
    const hook = await parse(`{\n  "channels": [{ "name": "webhook", "options": { "url": "not a url" } }]\n}`);
    expect(hook.message).toMatch(/^vc\.config\.jsonc:2:48: channels\[0\]: webhook: /);
  });

  it("names an unknown rule, an unknown threshold and a threshold that is not a number", async () => {
    expect((await parse(`{\n  "rules": {\n    "disk_lo": { "min_free_pct": 15 }\n  }\n}`)).message).toMatch(
      /^vc\.config\.jsonc:3:5: rules\.disk_lo: no default rule "disk_lo" \(known: machine_unreachable, disk_low, /,
    );
    const threshold = await parse(`{ "rules": { "disk_low": { "min_free": 15 } } }`);
    expect(threshold.message).toBe('vc.config.jsonc:1:26: rules.disk_low: rule disk_low has no threshold "min_free"');
    expect(threshold.hint).toBe("its thresholds: min_free_pct");
    expect((await parse(`{ "rules": { "disk_low": { "min_free_pct": "15" } } }`)).message).toBe(
      'vc.config.jsonc:1:26: rules.disk_low: expected { "threshold": number, … } or false',
    );
    expect((await parse(`{ "rules": ["disk_low"] }`)).message).toMatch(/^vc\.config\.jsonc:1:12: rules: expected /);
  });

  it("points at the field of a value vc.config.ts would refuse too, and at a key given twice", async () => {
    const ssh = await parse(`{\n  "machines": [\n    { "id": "a", "ssh": 22 }\n  ]\n}`);
    expect(ssh.message).toMatch(/^vc\.config\.jsonc:3:25: machines\[0\]\.ssh: /);
    const unknown = await parse(`{\n  "machines": [{ "id": "a", "ssh": "local" }],\n  "colectors": ["sysprobe"]\n}`);
    expect(unknown.message).toMatch(/^vc\.config\.jsonc:3:\d+: colectors: /);
    const twice = await parse(`{\n  "machines": [],\n  "machines": [{ "id": "a", "ssh": "local" }]\n}`);
    expect(twice.message).toBe("vc.config.jsonc:3:3: machines: given twice (the last one would silently win)");
  });
});

describe("vc.config.jsonc through the CLI", () => {
  it("runs a command on --config x.jsonc, and a syntax error is one line naming the file, line and column", async () => {
    const d = join(dir, "cli");
    mkdirSync(d, { recursive: true });
    const env = isolatedEnv(d);
    const good = join(d, "fleet.jsonc");
    writeFileSync(
      good,
      `{\n  // one machine\n  "db": ${JSON.stringify(join(d, "vc.duckdb"))},\n  "machines": [{ "id": "here", "ssh": "local" }],\n  "collectors": ["sysprobe"],\n}\n`,
    );
    const collected = await vc(["collect", "--once", "--config", good, "--json"], { env });
    expect(collected.code).toBe(0);
    const ok = await vc(["robot", "machines", "--config", good], { env });
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout).data.machines.map((m: { id: string }) => m.id)).toEqual(["here"]);

    const bad = join(d, "bad.jsonc");
    writeFileSync(bad, `{\n  "machines": [{ "id": "here", "ssh": "local" }]\n  "collectors": ["sysprobe"]\n}\n`);
    const r = await vc(["doctor", "--config", bad], { env });
    expect(r.code).toBe(1);
    expect(r.stderr.split("\n")[0]).toBe(`vc doctor: ${bad}:3:3: syntax error: comma expected`);
  });
});
