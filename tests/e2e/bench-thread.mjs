// The desktop benchmark of a long conversation (`make bench`): a thread of 20
// turns of 5 models, made with the CLI against the fake provider, opened from
// the History in the real window, then scrolled. It prints how long the thread
// takes to open (the click on "Open" until the frame that shows every turn,
// median of BENCH_OPENS, 5 unless told; goal under 300 ms) and how long each
// 600 px scroll takes to reach the screen (p50, p95, most; a frame of over
// 50 ms is a stutter a user sees). Needs a display (xvfb-run) and the release
// binaries (the app, the CLI, the fake provider).
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { artifacts, root, startApp, waitInPage } from "./harness.mjs";

const profile = process.env.E2E_PROFILE ?? "release";
const target = process.env.CARGO_TARGET_DIR ?? join(root, "target");
const cli = join(target, profile, "roundtable");
const TURNS = 20;
const MODELS = ["fake/ada", "fake/bob", "fake/cyd", "fake/dee", "fake/eve"];
const answer = "A turn's answer, in a few sentences of prose that a model would write. ".repeat(8) + "\n\n- one point\n- another point\n\n```rust\nfn main() { println!(\"turn\"); }\n```";

const percentile = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];

const app = await startApp({ default: { answer, latency_ms: 0, chunks: 4 } }, { appDefaults: true });
const { browser } = app;
try {
  // The conversation, turn by turn, each following the one before.
  const run = (args) => JSON.parse(execFileSync(cli, ["run", "--json", ...args], { env: { ...process.env, ROUNDTABLE_HOME: app.home }, encoding: "utf8" }));
  let id = run([...MODELS.flatMap((m) => ["-m", m]), "--summary-model", "fake/judge", "Turn 1: what makes a good benchmark?"]).id;
  for (let turn = 2; turn <= TURNS; turn++) id = run(["--continue", id, `Turn ${turn}: and then, what follows from that?`]).id;

  const opens = [];
  for (let i = 0; i < Number(process.env.BENCH_OPENS ?? 5); i++) {
    await (await browser.$("[data-testid=nav-history]")).click();
    await waitInPage(browser, () => document.querySelector("[data-testid=history-turns]")?.textContent === "20 turns", [], { timeout: 30_000, message: "the History does not list the 20-turn conversation" });
    await (await browser.$("[data-testid=history-item] button.item")).click();
    await (await browser.$("[data-testid=open-run]")).waitForDisplayed({ timeout: 10_000 });
    await browser.pause(500);
    const ms = await browser.executeAsync((turns, models, done) => {
      const t0 = performance.now();
      document.querySelector("[data-testid=open-run]").click();
      const shown = () =>
        document.querySelectorAll("[data-testid=thread-turn]").length === turns - 1 &&
        document.querySelectorAll("[data-testid=cards] [data-testid=model-card]").length === models;
      // The frame after the one in which every turn is in the page has painted it.
      const poll = () => {
        if (shown()) requestAnimationFrame(() => done(performance.now() - t0));
        else if (performance.now() - t0 > 20_000)
          done({ turns: document.querySelectorAll("[data-testid=thread-turn]").length, cards: document.querySelectorAll("[data-testid=cards] [data-testid=model-card]").length });
        else requestAnimationFrame(poll);
      };
      poll();
    }, TURNS, MODELS.length);
    if (typeof ms !== "number") throw new Error(`the thread did not open: ${JSON.stringify(ms)} (${TURNS - 1} earlier turns and ${MODELS.length} cards expected)`);
    opens.push(ms);
    console.log(`open ${i + 1}: ${Math.round(ms)} ms`);
  }
  await browser.saveScreenshot(join(artifacts, "thread-20-turns.png"));
  console.log(`20-turn thread of 5 models: opens in ${Math.round(percentile(opens, 0.5))} ms, median of ${opens.length} (goal < 300 ms)`);

  // Scrolled from the top to the bottom 600 px at a time: how long each step
  // takes to reach the screen (two frames: the scroll's, then its paint).
  const frames = await browser.executeAsync((done) => {
    let pane = document.querySelector("[data-testid=thread]");
    while (pane && !(pane.scrollHeight > pane.clientHeight && /auto|scroll/.test(getComputedStyle(pane).overflowY))) pane = pane.parentElement;
    if (!pane) return done({ error: "no scrolling pane holds the thread" });
    pane.scrollTop = 0;
    const steps = [];
    const step = () => {
      if (pane.scrollTop + pane.clientHeight >= pane.scrollHeight - 1) return done({ steps, height: pane.scrollHeight });
      const t = performance.now();
      pane.scrollTop += 600;
      requestAnimationFrame(() => requestAnimationFrame(() => {
        steps.push(performance.now() - t);
        setTimeout(step, 50);
      }));
    };
    requestAnimationFrame(step);
  });
  if (frames.error) throw new Error(frames.error);
  const s = frames.steps;
  console.log(`20-turn thread: ${s.length} scrolls of 600 px over ${frames.height} px, on screen after ${Math.round(percentile(s, 0.5))} ms (p50), ${Math.round(percentile(s, 0.95))} ms (p95), ${Math.round(Math.max(...s))} ms at most; ${s.filter((ms) => ms > 50).length} over 50 ms`);
} finally {
  await app.stop();
}
