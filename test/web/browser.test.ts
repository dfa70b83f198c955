// The dashboard in a real headless Chromium (Debian's, driven by playwright-core) against a real
// daemon on 127.0.0.1 over the demo fleet: every page at 1280×800 and 390×844 with screenshots
// kept under test-artifacts/web/, a click path overview → machine → alert → ack checked in the
// store, a live update (dcg denies appended, a cycle run: the alert shows on the open page within
// 2 s, no reload), no console errors, HTML planted in a repo name, a mail subject and an alert
// shown as text, the CSP enforced, and the keys.
import { afterAll, afterEach, beforeAll, describe, expect, it, setDefaultTimeout } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Browser, type BrowserContext, type Page, chromium } from "playwright-core";
import { sql } from "../../lib/index.ts";
import { createDashboard } from "../../lib/web/ui/index.ts";
import { requireSystem } from "../_system.ts";
import { repoRoot } from "../helpers/cli.ts";
import { tempDir } from "../helpers/tmp.ts";
import { END, TOOLS_MACHINE, startWebDaemon, type WebDaemon } from "./_fleet.ts";
import { watchPages } from "./_browser.ts";

setDefaultTimeout(120_000);

/** Where the screenshots go (kept after the run: CI uploads them). */
const ARTIFACTS = join(repoRoot, "test-artifacts", "web");

const dir = tempDir("vc-web-browser-");
const SCRIPT = `<script>window.__pwned = "script"</script>`;
const IMG = `<img src=x onerror="window.__pwned = 'img'">`;
const at = (d: Date) => d.toISOString().replace("T", " ").replace("Z", "");
const now = at(END);
const before = (min: number) => at(new Date(END.getTime() - min * 60_000));

let d: WebDaemon;
let browser: Browser;
let context: BrowserContext;
/** What went wrong in any page of the shared context: console errors, page errors, failed requests. */
const problems: string[] = [];

beforeAll(async () => {
  // The dashboard explains alerts through the cockpit, known once the daemon runs.
  let late: WebDaemon | undefined;
  d = late = await startWebDaemon(dir, { fleet: 3, http: { ui: createDashboard({ cockpit: { explain: (id) => late!.vc.explain(id) } }) } });
  // HTML where collectors put text: a repo's name, a mail subject, an alert's title and message.
  await d.vc.store.transaction(async (tx) => {
    await tx.run(sql`INSERT INTO repo_status_snapshots (machine_id, collected_at, repo_id, repo, path, status, branch, dirty, ahead, behind, mismatch, source)
      VALUES ('node-02', ${now}::TIMESTAMP, 'r-html', ${`repo ${SCRIPT}`}, '/src/html', 'current', 'main', false, 0, 0, false, 'ru')`);
    await tx.run(sql`INSERT INTO mail_messages (machine_id, collected_at, project_id, message_id, created_ts, sender, importance, ack_required, subject)
      VALUES (${TOOLS_MACHINE}, ${now}::TIMESTAMP, 'p-html', 9001, ${before(3)}::TIMESTAMP, 'RedFox', 'urgent', true, ${`mail ${IMG} ${SCRIPT}`})`);
    await tx.run(sql`INSERT INTO mail_recipients (machine_id, collected_at, project_id, message_id, message_created_ts, recipient, kind, state)
      VALUES (${TOOLS_MACHINE}, ${now}::TIMESTAMP, 'p-html', 9001, ${before(3)}::TIMESTAMP, 'GreenOwl', 'to', 'unread')`);
    // The machine's busiest processes (what sysmoni reports), one command line holding HTML.
    for (const [rank, comm, cpu] of [
      [1, `node build.js ${SCRIPT}`, 180.5],
      [2, "postgres: checkpointer", 12.25],
    ] as const) {
      await tx.run(sql`INSERT INTO sys_top_processes (machine_id, collected_at, pid, rank, comm, cpu_pct, mem_pct, mem_bytes, source)
        VALUES (${TOOLS_MACHINE}, ${now}::TIMESTAMP, ${1000 + rank}, ${rank}, ${comm}, ${cpu}, 3.5, 2147483648, 'sysmoni')`);
    }
    await tx.run(sql`INSERT INTO alerts (alert_id, rule_id, alert_type, machine_id, labels_json, severity, title, state, first_seen_at, last_seen_at, pending_since, fired_at,
        value_json, message, expected, received, suggested_actions_json, flapping, transitions_json, updated_at)
      VALUES ('planted:html', 'planted', 'planted', 'node-02', '{"machine_id":"node-02"}', 'high', ${`alert ${SCRIPT}`}, 'firing', ${before(20)}::TIMESTAMP, ${now}::TIMESTAMP,
        ${before(20)}::TIMESTAMP, ${before(20)}::TIMESTAMP, '1', ${`message ${IMG}`}, '>1', '2', '[]', false, '[]', ${now}::TIMESTAMP)`);
  });
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
  const seen = problems.splice(0);
  expect(seen).toEqual([]);
});

/** Opens a route and waits until the page has drawn it (and its charts, when it has some). */
async function open(page: Page, hash: string): Promise<void> {
  const drawn = await page.evaluate(() => document.querySelector("main")?.dataset.drawn ?? "").catch(() => "");
  await page.goto(new URL(`/${hash}`, d.url).href);
  await page.waitForFunction((n) => {
    const m = document.querySelector("main");
    return !!m?.dataset.drawn && m.dataset.drawn !== n && m.getAttribute("aria-busy") === null;
  }, drawn);
}

const mainText = (page: Page) => page.evaluate(() => document.querySelector("main")!.textContent ?? "");

const PAGES: { name: string; hash: string; ready: string; check?: (page: Page) => Promise<void> }[] = [
  {
    name: "overview",
    hash: "#/",
    ready: "[data-table=machines] tbody tr",
    async check(page) {
      expect(await page.locator("[data-table=machines] tbody tr").count()).toBe(3);
      // The alerts and DO NEXT come after the table, the sparklines last (drawn even where the narrow screen hides them).
      await page.waitForSelector("ol.donext li");
      await page.waitForFunction(() => document.querySelectorAll(".spark-slot svg.spark").length === 3);
      expect(await page.locator("ul.alerts li.alert").count()).toBeGreaterThanOrEqual(4);
      expect(await page.locator("ol.donext li").count()).toBeGreaterThan(0);
    },
  },
  {
    name: "machine",
    hash: `#/machine/${TOOLS_MACHINE}`,
    ready: "figure.chart canvas",
    async check(page) {
      await page.waitForFunction(() => document.querySelectorAll("figure.chart canvas").length >= 4);
      const text = await mainText(page);
      for (const part of ["Filesystems", "top processes", "agents", "accounts", "Recent events", "Open alerts"]) expect(text.toLowerCase()).toContain(part.toLowerCase());
    },
  },
  {
    name: "machine-7d",
    hash: `#/machine/${TOOLS_MACHINE}?window=7d`,
    ready: "[data-charts='7d'] figure.chart canvas",
  },
  {
    name: "accounts",
    hash: "#/accounts",
    ready: "article.usage",
    async check(page) {
      expect(await page.locator("article.usage").count()).toBeGreaterThan(2);
      expect(await page.locator("[data-table=forecasts] tbody tr").count()).toBeGreaterThan(2);
      expect(await mainText(page)).toMatch(/resets in/);
    },
  },
  {
    name: "alerts",
    hash: "#/alerts",
    ready: "[data-table=alerts] tbody tr",
  },
  {
    name: "alert",
    hash: "#/alerts/rule2%3A2",
    ready: ".alert-page",
    async check(page) {
      const text = await mainText(page);
      expect(text).toContain("Why");
      expect(text).toContain("History");
    },
  },
  {
    name: "events",
    hash: "#/events",
    ready: "ul.events li.event",
    async check(page) {
      expect(await page.locator("ul.events li.event").count()).toBeGreaterThan(10);
    },
  },
  {
    name: "repos",
    hash: "#/view/repos",
    ready: ".record",
  },
];

describe("every page", () => {
  for (const size of [
    { width: 1280, height: 800 },
    { width: 390, height: 844 },
  ]) {
    it(`draws at ${size.width}×${size.height} with no console error, no escape sequence and nothing wider than the screen`, async () => {
      const page = await context.newPage();
      await page.setViewportSize(size);
      for (const p of PAGES) {
        await open(page, p.hash);
        await page.waitForSelector(p.ready, { state: "attached" });
        await p.check?.(page);
        const shape = await page.evaluate(() => ({
          wide: document.documentElement.scrollWidth - window.innerWidth,
          escapes: /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/.test(document.body.textContent ?? ""),
        }));
        expect({ page: p.name, ...shape }).toEqual({ page: p.name, wide: 0, escapes: false });
        await page.screenshot({ path: join(ARTIFACTS, `${p.name}-${size.width}x${size.height}.png`), fullPage: true });
      }
      await page.close();
    });
  }

  it("follows the dark scheme", async () => {
    const dark = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: "dark" });
    watchPages(dark, problems);
    const page = await dark.newPage();
    for (const p of PAGES.slice(0, 2)) {
      await open(page, p.hash);
      await page.waitForSelector(p.ready, { state: "attached" });
      await page.screenshot({ path: join(ARTIFACTS, `${p.name}-1280x800-dark.png`), fullPage: true });
    }
    const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    await dark.close();
    expect(bg).toBe("rgb(15, 18, 22)");
  });
});

describe("text from collectors", () => {
  it("shows HTML in a repo name, a mail subject and an alert as text: no element made, no script run", async () => {
    const page = await context.newPage();
    for (const [hash, ready, wanted] of [
      ["#/", "ul.alerts li.alert", [`alert ${SCRIPT}`, `message ${IMG}`]],
      ["#/alerts", "[data-table=alerts] tbody tr", [`alert ${SCRIPT}`, `message ${IMG}`]],
      ["#/alerts/planted%3Ahtml", ".alert-page", [`alert ${SCRIPT}`, `message ${IMG}`]],
      ["#/view/repos", ".record", [`repo ${SCRIPT}`]],
      ["#/events", "ul.events li.event", [`mail ${IMG} ${SCRIPT}`]],
      [`#/machine/${TOOLS_MACHINE}`, "figure.chart", [`mail ${IMG} ${SCRIPT}`, `node build.js ${SCRIPT}`]],
    ] as const) {
      await open(page, hash);
      await page.waitForSelector(ready, { state: "attached" });
      const text = await mainText(page);
      for (const w of wanted) expect(text).toContain(w);
      const made = await page.evaluate(() => ({
        pwned: (window as { __pwned?: string }).__pwned ?? null,
        scripts: document.querySelectorAll("main script").length,
        imgs: document.querySelectorAll("main img, main [onerror]").length,
      }));
      expect({ hash, ...made }).toEqual({ hash, pwned: null, scripts: 0, imgs: 0 });
    }
    await page.close();
  });

  it("is served with a CSP that forbids inline script, and the browser enforces it", async () => {
    const res = await fetch(d.url);
    const csp = res.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain("unsafe-inline");
    expect(csp).not.toContain("unsafe-eval");
    // A script element slipped into the page does not run (its refusal is this page's only console error).
    const strict = await browser.newContext();
    const page = await strict.newPage();
    const refused: string[] = [];
    page.on("console", (m) => refused.push(m.text()));
    await page.goto(d.url);
    await page.waitForSelector("main[data-drawn]");
    const ran = await page.evaluate(() => {
      const s = document.createElement("script");
      s.textContent = "window.__inline = 1";
      document.body.append(s);
      return (window as { __inline?: number }).__inline ?? null;
    });
    await strict.close();
    expect(ran).toBeNull();
    expect(refused.join("\n")).toMatch(/Content Security Policy/);
  });
});

describe("using it", () => {
  it("goes overview → machine → alert → ack, and the ack is in the store with who", async () => {
    const page = await context.newPage();
    await open(page, "#/");
    await page.locator("[data-table=machines] a", { hasText: "node-01" }).click();
    await page.waitForSelector("main[data-page=overview] .page.machine figure.chart canvas");
    expect(await page.locator("h1").textContent()).toContain("node-01");
    await page.locator(".page.machine ul.alerts a.alert-title", { hasText: "Alert number 0" }).click();
    await page.waitForSelector(".alert-page[data-alert='rule0:0']");
    await page.locator(".alert-page button[data-action=ack]").click();
    await page.waitForFunction(() => document.querySelector(".alert-page")?.textContent?.includes("acked by"));
    expect(await page.locator(".toast").first().textContent()).toContain("acknowledged");
    await page.close();
    const [row] = await d.vc.store.query<{ acked_by: string | null; state: string }>(sql`SELECT acked_by, state FROM alerts WHERE alert_id = 'rule0:0'`);
    expect(row).toEqual({ acked_by: expect.stringMatching(/web, loopback 127\.0\.0\.1/), state: "firing" });
    const audit = await d.vc.store.query<{ actor: string }>(sql`SELECT actor FROM audit_events WHERE action = 'alerts ack rule0:0'`);
    expect(audit.map((a) => a.actor)).toEqual([row!.acked_by!]);
  });

  it("silences an alert from the Alerts page", async () => {
    const page = await context.newPage();
    await open(page, "#/alerts");
    const row = page.locator("[data-table=alerts] tbody tr", { hasText: "Alert number 2" });
    await row.locator("summary[data-action=silence-menu]").click();
    await row.locator("button[data-action=silence]", { hasText: "1 h" }).click();
    await page.waitForFunction(() =>
      [...document.querySelectorAll("[data-table=alerts] tbody tr")].some((r) => r.textContent?.includes("Alert number 2") && r.textContent.includes("silenced")),
    );
    await page.close();
    const silences = await d.vc.store.query<{ matchers_json: string; ends_at: string }>(sql`SELECT matchers_json, ends_at FROM silences`);
    expect(silences.map((s) => JSON.parse(s.matchers_json))).toEqual([{ rule: "rule2", machine_id: TOOLS_MACHINE }]);
    expect(new Date(silences[0]!.ends_at).getTime() - END.getTime()).toBe(3_600_000);
  });

  it("answers the keys: pages by number, / filters, j moves, Enter opens", async () => {
    const page = await context.newPage();
    await open(page, "#/");
    await page.keyboard.press("3");
    await page.waitForSelector("main[data-page=alerts] [data-table=alerts]");
    await page.keyboard.press("/");
    expect(await page.evaluate(() => document.activeElement?.getAttribute("data-filter-key"))).toBe("q");
    await page.keyboard.type("number 2");
    expect(await page.locator("[data-table=alerts] tbody tr:visible").count()).toBe(1);
    await page.keyboard.press("Escape");
    await page.keyboard.press("j");
    expect(await page.evaluate(() => document.activeElement?.textContent)).toContain("Alert number 2");
    await page.keyboard.press("Enter");
    await page.waitForSelector(".alert-page[data-alert='rule2:2']");
    await page.keyboard.press("4");
    await page.waitForSelector("main[data-page=events] ul.events");
    await page.close();
  });

  it("shows an alert fired by new dcg denies within 2 s of the cycle, without a reload", async () => {
    const page = await context.newPage();
    let loads = 0;
    page.on("load", () => loads++);
    await open(page, "#/");
    await page.waitForSelector(".live[data-live=live]");
    const pageLoads = loads;
    await page.evaluate(() => ((window as { __same?: boolean }).__same = true));
    // Twelve denies on node-02 in the hour before the clock, the rule id holding HTML (the alert's message names it).
    await d.vc.store.transaction(async (tx) => {
      for (let i = 0; i < 12; i++) {
        await tx.run(sql`INSERT INTO dcg_events (machine_id, collected_at, source, event_key, ts, decision, rule_id, pack_id, origin)
          VALUES ('node-02', ${now}::TIMESTAMP, 'dcg', ${`live-${i}`}, ${before(i + 1)}::TIMESTAMP, 'deny', ${`core.html:${IMG}`}, 'core.html', 'decision_log')`);
      }
    });
    await d.vc.collect({ collector: "sysprobe", machine: "node-02" });
    const [fired] = await d.vc.store.query<{ alert_id: string }>(sql`SELECT alert_id FROM alerts WHERE rule_id = 'dcg_deny_spike' AND state = 'firing'`);
    expect(fired).toBeDefined();
    // The cycle is over and the alert stored: the open page shows it by itself, within 2 s.
    await page.waitForSelector(`ul.alerts li.alert[data-alert="${fired!.alert_id}"]`, { timeout: 2000 });
    const alertText = await page.locator(`li.alert[data-alert="${fired!.alert_id}"]`).textContent();
    expect(alertText).toContain("dcg denied 12 commands");
    expect(alertText).toContain(`core.html:${IMG}`);
    expect(await page.evaluate(() => (window as { __same?: boolean }).__same)).toBe(true);
    expect(loads).toBe(pageLoads);
    expect(await page.evaluate(() => document.querySelectorAll("main img").length)).toBe(0);
    await page.close();
  });
});
