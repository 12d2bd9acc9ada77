// A manual check, not part of the suite: the History list over a history of
// 100,000 runs, scrolled in the real window 600 px at a time, 400 times. It
// says how long after each scroll the rows in view were in the page (settle),
// whether any scroll left a gap, the most rows in the page at once, and how many
// lines were paged in. The history is the store bench's:
//
//   ROUNDTABLE_BENCH_DB=/tmp/big/history.db cargo bench -p roundtable-store --bench history
//   ROUNDTABLE_SCROLL_HOME=/tmp/big scripts/with-keyring.sh xvfb-run -a -s "-screen 0 1280x800x24" \
//     node tests/e2e/history-scroll.mjs
//
// Measured on the 2-core machine (debug build, software rendering under Xvfb):
// no gap in 400 scrolls, at most 25 rows in the page, 4,200 lines paged in,
// the rows in view 49 ms after a scroll (p50), 95 ms (p95), 133 ms at most.
import { join } from "node:path";
import { artifacts, startApp, waitInPage } from "./harness.mjs";
if (!process.env.ROUNDTABLE_SCROLL_HOME) throw new Error("ROUNDTABLE_SCROLL_HOME: the folder of a large history.db (see above)");
const app = await startApp({ default: {} }, { env: { ROUNDTABLE_HOME: process.env.ROUNDTABLE_SCROLL_HOME } });
const browser = app.browser;
try {
  await (await browser.$("[data-testid=nav-history]")).waitForDisplayed({ timeout: 30_000 });
  await (await browser.$("[data-testid=nav-history]")).click();
  const t0 = Date.now();
  await waitInPage(browser, () => document.querySelectorAll("[data-testid=history-item]").length > 0, [], { timeout: 60_000 });
  console.log("first rows after ms", Date.now() - t0);
  await browser.setTimeout({ script: 300_000 });
  const result = await browser.executeAsync((done) => {
    const list = document.querySelector("[data-testid=history-list]");
    const spacer = list.querySelector("ul");
    const out = { steps: 0, gaps: [], rowsInPage: 0, settle: [] };
    function check() {
      const view = list.getBoundingClientRect();
      const rows = [...list.querySelectorAll("[data-testid=history-item]")].map((li) => li.getBoundingClientRect());
      out.rowsInPage = Math.max(out.rowsInPage, rows.length);
      const top = Math.min(...rows.map((r) => r.top)), bottom = Math.max(...rows.map((r) => r.bottom));
      const end = Math.min(view.bottom, spacer.getBoundingClientRect().bottom);
      return top <= view.top + 7 && bottom >= end - 1 ? null : { top: top - view.top, bottom: bottom - view.top, end: end - view.top };
    }
    function step() {
      const t = performance.now();
      list.scrollTop += 600;
      // Wait until the page shows the rows in view (the scroll event, then Svelte's update).
      const poll = () => {
        const gap = check();
        if (gap && performance.now() - t < 1000) return setTimeout(poll, 4);
        out.settle.push(performance.now() - t);
        if (gap) out.gaps.push(gap);
        if (++out.steps < 400) setTimeout(step, 0);
        else {
          out.settle.sort((a, b) => a - b);
          const pct = (p) => out.settle[Math.floor((out.settle.length - 1) * p)].toFixed(1);
          done({ steps: out.steps, gaps: out.gaps.length, firstGap: out.gaps[0] ?? null, loaded: Number(list.dataset.count), rowsInPage: out.rowsInPage, scrollTop: list.scrollTop, settle_p50: pct(0.5), settle_p95: pct(0.95), settle_max: pct(1) });
        }
      };
      poll();
    }
    step();
  });
  console.log("scroll", JSON.stringify(result));
  await browser.pause(300);
  await browser.saveScreenshot(join(artifacts, "history-scroll.png"));
} finally {
  await app.stop();
}
