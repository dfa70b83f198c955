// What a page did wrong in headless Chromium: every console error or warning, page error, failed
// request (but those cut because the page went) and error status, collected for a test to assert empty.
import type { BrowserContext } from "playwright-core";

/** Pushes onto `problems` everything that goes wrong on the context's pages from now on. */
export function watchPages(ctx: BrowserContext, problems: string[]): void {
  ctx.on("page", (p) => {
    p.on("console", (m) => {
      if (m.type() === "error" || m.type() === "warning") problems.push(`console ${m.type()}: ${m.text()}`);
    });
    p.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
    p.on("requestfailed", (r) => {
      // The event stream and the sparklines still loading are cut when a page goes: that is no failure.
      if (r.failure()?.errorText !== "net::ERR_ABORTED") problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`);
    });
    p.on("response", (r) => {
      if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`);
    });
  });
}
