// `vc ask` on the demo fleet (20 machines, node-07's disk filling, node-13 overloaded, node-03
// with the tools' data): questions mapped to intents, their names resolved (misspelled too), the
// answer's facts with their numbers, recommendations and commands, read from registered views
// only — in process, through the daemon's socket, and from the CLI (through the daemon).
import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import { join } from "node:path";
import { ask, canAnswer, askIntents, createFixedClock, runDaemon, type AskResult, type Cockpit, type Fact, type RemoteCockpit } from "../../lib/index.ts";
import { connectDaemon } from "../../lib/serve/client.ts";
import { socketPathFor } from "../../lib/store/files.ts";
import { isolatedEnv, repoRoot, vc as runVc } from "../helpers/cli.ts";
import { tempDir } from "../helpers/tmp.ts";
import { openDemoCockpit } from "../helpers/demo.ts";
import { END, TOOLS_MACHINE, TOOLS_REPO, createTuiFleet } from "../tui/_fixture.ts";

setDefaultTimeout(120_000);

const dir = tempDir("vc-ask-");
let vc: Cockpit;
let remote: RemoteCockpit;
let config: string;
let env: Record<string, string>;
const stop = new AbortController();
let daemon: Promise<number>;
const H = 3_600_000;
/** Local midnight and clock times of END's day: a time typed without a zone is local. */
const localDay = (days: number, h = 0) => new Date(END.getFullYear(), END.getMonth(), END.getDate() + days, h).toISOString();

beforeAll(async () => {
  // The demo fleet's own config: its 20 machines and the tools' plugins.
  const fleet = await createTuiFleet(dir, { machines: 20, days: 1 });
  config = fleet.config;
  env = isolatedEnv(dir, { VC_NOW: END.toISOString(), PATH: `${join(repoRoot, "node_modules/.bin")}:/usr/bin:/bin` });
  vc = await openDemoCockpit(config, env, END);
  daemon = runDaemon(vc, { signal: stop.signal, poll: false });
  for (let i = 0; i < 100 && !remote; i++) {
    remote = (await connectDaemon(socketPathFor(fleet.db), { db: fleet.db, clock: createFixedClock(END) }))!;
    if (!remote) await Bun.sleep(50);
  }
});
afterAll(async () => {
  await remote?.close();
  stop.abort();
  await daemon;
  await vc?.close();
});

const values = (r: AskResult) => Object.fromEntries(Object.entries(r.entities).map(([k, e]) => [k, e.value]));
const fact = (label: RegExp | string, value: RegExp | string, more: Record<string, unknown> = {}) =>
  expect.objectContaining({
    label: typeof label === "string" ? label : expect.stringMatching(label),
    value: typeof value === "string" ? value : expect.stringMatching(value),
    ...more,
  });
/** Nothing a terminal would act on, anywhere in the answer. */
const inert = (r: AskResult) => expect(JSON.stringify(r)).not.toMatch(/\\u001b|\\u0007|[\x00-\x08\x0b-\x1f\x7f-\x9f]/);

describe("vc ask: questions → intents, names, facts", () => {
  const TABLE: { q: string; intent: string; entities: Record<string, string>; facts: unknown[]; views?: string[]; text?: RegExp }[] = [
    {
      q: "Why is node-13 slow right now?",
      intent: "machine_health",
      entities: { machine: "node-13" },
      text: /^node-13 is unhealthy \(health 0\.2, critical\) because of 1 factor:/,
      // The factor with its number, what it normally reads, the plugin's recommendation and command first.
      facts: [
        fact("load (critical)", /^load5 36\.\d+ on 16 cores \(2\.\d+×\); normally load5 \d+(\.\d)? \(the last day's median\)$/, {
          recommendation: "Find stuck or runaway processes",
          command: "pt robot plan --format json",
        }),
      ],
      views: ["machine", "triage", "series", "oracle", "attention"],
    },
    {
      q: "why is nod-07 unhealthy",
      intent: "machine_health",
      entities: { machine: "node-07" },
      facts: [
        fact("disk (critical)", /^\/data 97 % full; normally \d+(\.\d)? % full/, { command: "vc robot machine node-07" }),
        // The oracle's part: when it fills.
        fact("disk /data filling", /^97 % used; fills at 33\.3 GB\/h .*full in ~1\.8 h$/, { command: "vc robot oracle --machine node-07" }),
      ],
    },
    { q: "is node-3 ok?", intent: "machine_health", entities: { machine: TOOLS_MACHINE }, facts: [fact("account headroom (medium)", /jeff@flywheel\.dev tertiary at 91 %/)] },
    { q: "how is node 7 doing", intent: "machine_health", entities: { machine: "node-07" }, facts: [fact("disk (critical)", /^\/data 97 % full/)] },
    {
      q: "which machines are unhealthy?",
      intent: "machine_health",
      entities: {},
      facts: [
        fact("node-07: disk (critical)", "/data 97 % full"),
        fact(/^node-13: load/, /^load5 36/),
        fact("node-19: stale data (critical)", /7200 s old/),
        fact("node-04: swap (high)", "swap 75 % used"),
      ],
    },
    {
      q: "what changed on node-03 since 2h?",
      intent: "machine_changes",
      entities: { machine: TOOLS_MACHINE, since: new Date(END.getTime() - 2 * H).toISOString() },
      text: /^10 changes on node-03 since 2026-08-20 13:15 UTC, 2 h ago/,
      facts: [fact("repos: appeared", /vibe_cockpit: new \(behind, dirty, 3 behind\)/), fact("dcg rules: new rule", /core\.git:reset-hard fired for the first time/)],
      views: ["diff"],
    },
    {
      q: "what changed on node-07 since yesterday 14:00?",
      intent: "machine_changes",
      entities: { machine: "node-07", since: localDay(-1, 14) },
      facts: [fact("health factors: worse", /node-07 disk: ok → critical \(\/data 97 % full\)/)],
    },
    { q: "what happened in the last 30 minutes", intent: "machine_changes", entities: { since: new Date(END.getTime() - 0.5 * H).toISOString() }, facts: [] },
    {
      q: "what needs me now?",
      intent: "needs_me",
      entities: {},
      facts: [
        fact("node-01: alert Alert number 0 (critical)", "node-01 has problem 0 (expected >90, got 90)", { command: "vc robot machine node-01" }),
        fact("node-07: disk (critical)", "/data 97 % full"),
      ],
      views: ["triage", "attention"],
    },
    {
      q: "which account should I use next?",
      intent: "account_next",
      entities: {},
      text: /^Use alt for claude \(69 % headroom\); ops@flywheel\.dev for codex \(59 % headroom\)/,
      facts: [
        fact("claude: use alt", /^69 % headroom/, { command: "caam activate claude alt" }),
        fact("codex: use ops@flywheel.dev", /^59 % headroom/, { recommendation: "already active on node-03: keep it" }),
      ],
      views: ["oracle"],
    },
    {
      q: "when does work hit its limit?",
      intent: "account_limit",
      entities: { account: "work" },
      text: /^work \(claude\/jeff@flywheel\.dev\) does not hit a limit before its windows reset/,
      facts: [fact("claude/jeff@flywheel.dev primary", /^87 % used; lasts until its reset; resets 2026-08-20 16:59 UTC/)],
      views: ["accounts", "oracle"],
    },
    {
      q: "when will jef@flywheel.dev run out?",
      intent: "account_limit",
      entities: { account: "jeff@flywheel.dev" },
      facts: [fact("claude/jeff@flywheel.dev tertiary", /^91 % used/)],
    },
    {
      q: "what did dcg block today and where?",
      intent: "dcg_blocked",
      entities: { since: localDay(0) },
      text: /^dcg denied 2 commands and warned about 1 since .* \(today\), in 2 folders on 1 machine:/,
      facts: [
        fact(`node-03 ${TOOLS_REPO}`, /^1 denied \(core\.git:reset-hard\); last: git reset --hard HEAD at 2026-08-20 15:05 UTC by claude_code$/, {
          command: expect.stringMatching(/^vc robot events --source dcg --machine node-03 --window \d+m$/),
        }),
        fact("node-03 /data/projects/frankentui", /^1 denied, 1 warned \(core\.filesystem:rm-rf-general, core\.git:stash-drop\)/),
      ],
      views: ["events"],
    },
    { q: "which agents look stuck?", intent: "agents_stuck", entities: {}, text: /^No agent looks stuck/, facts: [], views: ["oracle", "attention"] },
    {
      q: "what is blocking vibe cockpit?",
      intent: "repo_blocking",
      entities: { repo: "vibe_cockpit" },
      text: /^vibe_cockpit has 2 things in its way \(node-03: behind, dirty\)/,
      facts: [
        fact("vibe_cockpit on node-03", "3 commits behind its upstream (main)", { command: `git -C ${TOOLS_REPO} pull --ff-only` }),
        fact("vibe_cockpit on node-03", "uncommitted changes in the working tree", { command: `git -C ${TOOLS_REPO} status --short` }),
        fact(/^dcg denies at 2026-08-20 15:05 UTC$/, "deny core.git:reset-hard: git reset --hard HEAD (node-03)"),
      ],
      views: ["repos", "beads", "events"],
    },
    {
      q: "what's blocking r1",
      intent: "repo_blocking",
      entities: { repo: "repoEVIL" }, // ru's name for it (its escapes stripped); r1 is its id, beads' name
      facts: [
        fact("repoEVIL on node-01", "2 commits not pushed (main)", { command: "git -C /src/evil push" }),
        fact("bead vc-3 (unblocks 3)", "Blocker to clear", { command: "br show vc-3" }),
      ],
    },
  ];

  for (const row of TABLE)
    it(`${row.q} → ${row.intent}`, async () => {
      const r = await ask(vc, row.q);
      expect({ intent: r.intent, entities: values(r) }).toEqual({ intent: row.intent, entities: row.entities });
      for (const f of row.facts) expect(r.facts).toContainEqual(f as Fact);
      if (row.views) expect(r.views).toEqual(row.views);
      if (row.text) expect(r.text).toMatch(row.text);
      // The text holds every fact, numbered.
      for (const [i, f] of r.facts.entries()) expect(r.text).toContain(`  ${i + 1}. ${f.label}: ${f.value}`);
      inert(r);
    });

  it("says how it resolved each name: exactly, spelled otherwise, a near spelling, found in the question", async () => {
    expect((await ask(vc, "is node-3 ok?")).entities.machine).toEqual({ kind: "machine", value: "node-03", typed: "node-3", how: "spelling" });
    expect((await ask(vc, "why is nod-07 unhealthy")).entities.machine).toMatchObject({ value: "node-07", typed: "nod-07", how: "fuzzy" });
    expect((await ask(vc, "what is blocking vibe cockpit?")).entities.repo).toMatchObject({
      how: "spelling",
      refs: [{ machine_id: TOOLS_MACHINE, repo_id: "demo-vc", path: TOOLS_REPO }],
    });
    expect((await ask(vc, "is the disk on node-07 full?")).entities.machine).toMatchObject({ value: "node-07", how: "exact" });
    expect((await ask(vc, "what changed on node-03 since 2h?")).entities.since).toMatchObject({ kind: "time", typed: "2h", how: "value" });
  });

  it("answers a healthy machine with its numbers and nothing to do", async () => {
    const r = await ask(vc, "why is node-05 slow?");
    expect(r.text).toMatch(/^node-05 looks healthy \(health 1, ok\)/);
    expect(r.facts).toContainEqual(fact("load (ok)", /^load5 [\d.]+ on 16 cores/));
    expect(r.facts.every((f) => f.recommendation === undefined)).toBe(true);
  });
});

describe("vc ask declines", () => {
  for (const q of ["delete all repos", "what's the weather", "restart node-07", "select * from machines", "tell me a joke"])
    it(`"${q}": no intent, and the list of what it can answer`, async () => {
      const r = await ask(vc, q);
      expect(r).toMatchObject({ intent: null, entities: {}, views: [], facts: [] });
      expect(r.can_answer!.map((c) => c.intent)).toEqual([
        "machine_health",
        "machine_changes",
        "needs_me",
        "account_next",
        "account_limit",
        "agents_stuck",
        "dcg_blocked",
        "repo_blocking",
      ]);
      expect(r.text).toContain("why is node-01 slow?");
      expect(r.text).toContain("what did dcg block today and where?");
      if (/^(delete|restart|select)/.test(q)) expect(r.declined).toContain("asks vc to do something");
      else expect(r.declined).toBeUndefined();
    });

  it("refuses an empty question, a name that is no machine, a question too long", async () => {
    await expect(ask(vc, "   ")).rejects.toMatchObject({ code: "usage", message: "ask: the question is empty" });
    await expect(ask(vc, "why is gpubox slow?")).rejects.toMatchObject({ code: "not_found", message: "no machine named 'gpubox'" });
    await expect(ask(vc, "why is nodes-133 slow?")).rejects.toMatchObject({ code: "not_found", message: "no machine named 'nodes-133' — did you mean node-13?" });
    await expect(ask(vc, "what is blocking weatherapp?")).rejects.toMatchObject({ code: "not_found", message: "no repo named 'weatherapp'" });
    await expect(ask(vc, "when does zed hit its limit?")).rejects.toMatchObject({ code: "not_found", message: "no account named 'zed'" });
    await expect(ask(vc, "what is blocking?")).rejects.toMatchObject({ code: "usage", message: "ask: which repo? The question names none" });
    await expect(ask(vc, `why is ${"x".repeat(600)} slow`)).rejects.toMatchObject({ code: "invalid_argument" });
  });
});

describe("what vc can answer", () => {
  it("answers each of its own examples with the intent that gives it", async () => {
    const real: Record<string, string> = { "<account>": "work", "<repo>": "vibe_cockpit" };
    for (const { intent, examples } of canAnswer(askIntents(vc.config), vc.config))
      for (const x of examples) {
        const r = await ask(
          vc,
          x.replace(/<account>|<repo>/g, (m) => real[m]!),
        );
        expect({ x, intent: r.intent }).toEqual({ x, intent });
      }
  });
});

describe("through the daemon", () => {
  it("answers the same through the socket as in process", async () => {
    for (const q of ["why is node-13 slow?", "what is blocking vibe cockpit?", "what did dcg block today?", "what's the weather"]) {
      const here = await ask(vc, q);
      const there = await ask(remote, q, { config: vc.config });
      expect(there).toEqual(here);
    }
    await expect(ask(remote, "why is nod-3 slow?")).rejects.toMatchObject({ code: "invalid_input" }); // the daemon's client has no config: pass it
  });

  it("vc ask prints the answer, and --format json the intent, entities, views and answer (the store is the daemon's)", async () => {
    const text = await runVc(["ask", "why is node-13 slow right now?", "--config", config], { env });
    expect({ code: text.code, stderr: text.stderr }).toEqual({ code: 0, stderr: "" });
    expect(text.stdout).toContain("node-13 is unhealthy (health 0.2, critical) because of 1 factor:");
    expect(text.stdout).toMatch(/ {2}1\. load \(critical\): load5 36\.\d+ on 16 cores/);
    expect(text.stdout).toContain("     → Recommendation: Find stuck or runaway processes\n     → pt robot plan --format json");

    const json = await runVc(["ask", "what is blocking vibe cockpit?", "--config", config, "--format", "json"], { env });
    expect(json.code).toBe(0);
    const out = JSON.parse(json.stdout);
    expect(Object.keys(out)).toEqual(["question", "intent", "entities", "views", "answer", "warnings"]);
    expect(out).toMatchObject({ intent: "repo_blocking", entities: { repo: { kind: "repo", value: "vibe_cockpit", typed: "vibe cockpit" } }, views: ["repos", "beads", "events"] });
    expect(out.answer.facts).toEqual((await ask(vc, "what is blocking vibe cockpit?")).facts);
  });

  it("an unmatched question exits 1 with the list on stdout (text), intent null (json)", async () => {
    const text = await runVc(["ask", "what's the weather?", "--config", config], { env });
    expect(text.code).toBe(1);
    expect(text.stdout).toContain('vc ask cannot answer "what\'s the weather?". It answers questions like:');
    expect(text.stdout).toContain("what is blocking <repo>?");
    const json = await runVc(["ask", "delete all repos", "--config", config, "--json"], { env });
    expect(json.code).toBe(1);
    const out = JSON.parse(json.stdout);
    expect(out).toMatchObject({ intent: null, entities: {}, views: [], answer: { facts: [] }, declined: expect.stringContaining("delete") });
    expect(out.can_answer.length).toBe(8);
  });
});
