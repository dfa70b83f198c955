// The dashboard's Guardian page in a real headless Chromium (Debian's, driven by playwright-core)
// against a real daemon on 127.0.0.1 whose two local machines share a fake `tank` (every argv it
// gets is in argv.log) and each have a pending run: the page lists them with their commands and the
// gate's answers; Approve asks once more, then runs exactly the planned commands; Deny runs none;
// the run's own page shows every step with its exit code and output, and its verification.
// Screenshots under test-artifacts/web/.
import { afterAll, afterEach, beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Browser, type BrowserContext, type Page, chromium } from "playwright-core";
import { sql } from "../../lib/index.ts";
import { requireSystem } from "../_system.ts";
import { tankLog } from "../guardian/_tank.ts";
import { repoRoot } from "../helpers/cli.ts";
import { tempDir } from "../helpers/tmp.ts";
import { startGuardianDaemon, type GuardianDaemon } from "./_guardian.ts";
import { watchPages } from "./_browser.ts";

setDefaultTimeout(120_000);

const ARTIFACTS = join(repoRoot, "test-artifacts", "web");
const dir = tempDir("vc-web-guardian-page-");
let d: GuardianDaemon;
let browser: Browser;
let context: BrowserContext;
const problems: string[] = [];

beforeAll(async () => {
  d = await startGuardianDaemon(dir, ["here", "there"]);
  mkdirSync(ARTIFACTS, { recursive: true });
  browser = await chromium.launch({ executablePath: requireSystem("chromium"), args: ["--no-sandbox"] });
  context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  watchPages(context, problems);
});
afterAll(async () => {
  await browser?.close();
  await d?.stop();
});
afterEach(() => {
  expect(problems.splice(0)).toEqual([]);
});

async function open(page: Page, hash: string): Promise<void> {
  const drawn = await page.evaluate(() => document.querySelector("main")?.dataset.drawn ?? "").catch(() => "");
  await page.goto(new URL(`/${hash}`, d.url).href);
  await page.waitForFunction((n) => {
    const m = document.querySelector("main");
    return !!m?.dataset.drawn && m.dataset.drawn !== n && m.getAttribute("aria-busy") === null;
  }, drawn);
}
const mainText = (page: Page) => page.evaluate(() => document.querySelector("main")!.textContent ?? "");
const card = (page: Page, id: string) => page.locator(`[data-list=pending] article[data-run="${id}"]`);

describe("the Guardian page", () => {
  it("lists the pending runs with their exact commands, the gate's answers and their expiry, and the protocols", async () => {
    const page = await context.newPage();
    await open(page, "#/");
    // Reached from the nav (and its number key).
    await page.keyboard.press("5");
    await page.waitForSelector("main[data-page=guardian] [data-list=pending] article[data-run]");
    expect(await page.locator("[data-list=pending] article[data-run]").count()).toBe(2);
    const here = card(page, d.pending.here!);
    const text = (await here.textContent()) ?? "";
    expect(text).toContain("tank_drain");
    expect(text).toContain("the tank on here at 95 %");
    expect(text).toContain("2 commands run on approval");
    expect(text).toContain(`[here] ${d.bin} inspect`);
    expect(text).toContain(`${d.bin} drain 50`);
    expect(await here.locator("[data-gate=no]").count()).toBe(3);
    expect(text).toContain("✗ it waits for a person's approval");
    expect(text).toMatch(/expires\s*in (59|60) min/);
    const all = await mainText(page);
    expect(all).toContain("autopilot execute-with-approval");
    expect(all).toContain("a tank above 90 %");
    expect(await page.locator("[data-table=guardian-protocols] tbody tr").count()).toBe(1);
    const shape = await page.evaluate(() => ({ wide: document.documentElement.scrollWidth - window.innerWidth }));
    expect(shape.wide).toBe(0);
    await page.screenshot({ path: join(ARTIFACTS, "guardian-1280x800.png"), fullPage: true });
    await page.close();
  });

  it("approves a run: Approve asks once more, then exactly its commands run and the page shows it verified", async () => {
    const page = await context.newPage();
    await open(page, "#/guardian");
    const id = d.pending.here!;
    const here = card(page, id);
    await here.locator("summary[data-action=approve-ask]").click();
    expect(await here.locator("button[data-action=approve]").textContent()).toBe("Yes, run all 2");
    // Asking runs nothing.
    expect(tankLog(d.tool)).toEqual([]);
    await here.locator("button[data-action=approve]").click();
    await page.waitForFunction((x) => [...document.querySelectorAll(".toast")].some((t) => t.textContent?.includes(`approved ${x}: verified`)), id);
    expect(tankLog(d.tool)).toEqual(["inspect", "drain 50"]);
    // Drawn again: one run waits, the approved one is among the recent runs, verified.
    await page.waitForFunction(() => document.querySelectorAll("[data-list=pending] article[data-run]").length === 1);
    const row = page.locator(`[data-table=guardian-runs] tbody tr[data-key="guardian-runs:${id}"]`);
    expect(await row.locator("[data-status]").getAttribute("data-status")).toBe("verified");
    const [run] = await d.vc.store.query<{ status: string; decided_by: string }>(sql`SELECT status, decided_by FROM guardian_runs WHERE run_id = ${id}`);
    expect(run).toEqual({ status: "verified", decided_by: "(web, loopback 127.0.0.1)" });
    await page.close();
  });

  it("opens the run in full: every step with its exit code and output, its verification", async () => {
    const page = await context.newPage();
    const id = d.pending.here!;
    // What a machine printed is shown as text: HTML and escape sequences planted in a step's output.
    await d.vc.store.run(
      sql`UPDATE guardian_steps SET output_excerpt = ${`{"level": 95, "valve": "ok"}\n<img src=x onerror="window.__pwned = 1">\x1b[31mred\x1b]0;pwned\x07`} WHERE run_id = ${id} AND step = 'inspect'`,
    );
    await open(page, "#/guardian");
    await page.locator(`[data-table=guardian-runs] tbody tr[data-key="guardian-runs:${id}"] a`, { hasText: id }).click();
    await page.waitForSelector(`.guardian-run[data-run="${id}"] [data-table=steps]`);
    const steps = await page.$$eval("[data-table=steps] tbody tr", (rows) => rows.map((r) => [...r.querySelectorAll("td")].map((td) => td.textContent?.trim())));
    expect(steps.map((s) => [s[1], s[3], s[4]])).toEqual([
      ["diagnosis · history", "ok", "–"],
      ["diagnosis · inspect", "ok", "0"],
      ["treatment · drain", "ok", "0"],
      ["treatment · review", "suggested", "–"],
    ]);
    const text = await mainText(page);
    expect(text).toContain('{"level": 95, "valve": "ok"}\n<img src=x onerror="window.__pwned = 1">red');
    expect(text).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
    expect(await page.evaluate(() => ({ pwned: (window as { __pwned?: number }).__pwned ?? null, imgs: document.querySelectorAll("main img").length }))).toEqual({
      pwned: null,
      imgs: 0,
    });
    expect(text).toContain("✓ ok level 50 %");
    expect(text).toContain("gate when planned: ✗ it waits for a person's approval");
    expect(text).toContain("decided by(web, loopback 127.0.0.1)");
    await page.screenshot({ path: join(ARTIFACTS, "guardian-run-1280x800.png"), fullPage: true });
    await page.close();
  });

  it("denies a run with a reason: none of its commands runs", async () => {
    const page = await context.newPage();
    await page.setViewportSize({ width: 390, height: 844 });
    await open(page, "#/guardian");
    const id = d.pending.there!;
    const there = card(page, id);
    await there.locator("summary[data-action=deny-ask]").click();
    await there.locator("input[data-field=reason]").fill("not during the demo");
    await there.locator("button[data-action=deny]").click();
    await page.waitForFunction((x) => [...document.querySelectorAll(".toast")].some((t) => t.textContent?.includes(`denied ${x}: denied`)), id);
    await page.waitForFunction(() => document.querySelectorAll("[data-list=pending] article[data-run]").length === 0);
    expect(await mainText(page)).toContain("No run waits for a person.");
    expect(tankLog(d.tool)).toEqual(["inspect", "drain 50"]);
    const [run] = await d.vc.store.query<{ status: string; reason: string }>(sql`SELECT status, reason FROM guardian_runs WHERE run_id = ${id}`);
    expect(run).toEqual({ status: "denied", reason: "denied: not during the demo" });
    const shape = await page.evaluate(() => ({ wide: document.documentElement.scrollWidth - window.innerWidth }));
    expect(shape.wide).toBe(0);
    await page.screenshot({ path: join(ARTIFACTS, "guardian-390x844.png"), fullPage: true });
    await page.close();
  });
});
