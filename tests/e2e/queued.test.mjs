// End to end, a panel on a one-slot local server (issue 13 item 1): the fake
// provider plays Ollama serving one generation at a time (it aborts the one in
// flight when another comes, as llama.cpp does); with no max_concurrency set the
// app asks the server (`GET /props`: one slot, as llama.cpp's server says) and
// calls one model at a time; Settings says so.
// While the first streams, the other two cards say Queued with a still timer;
// at the end all three are done, the two that waited saying how long.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { artifacts, startApp, waitInPage, darkScreenshot } from "./harness.mjs";

const ANSWER = "One slot, one answer at a time: the others wait their turn instead of breaking off.";
const SCRIPT = {
  slots: 1,
  default: { answer: ANSWER, latency_ms: 100, chunk_delay_ms: 250, chunks: 10 },
};
const MODELS = ["ollama/alpha", "ollama/beta", "ollama/gamma"];

/** Each card: model, status, timer, the line under its head, its answer. */
const cards = () =>
  [...document.querySelectorAll("[data-testid=model-card]")].map((c) => ({
    model: c.dataset.model,
    status: c.dataset.status,
    badge: c.querySelector("[data-testid=card-status]").innerText.trim(),
    timer: c.querySelector("[data-testid=card-timer]").textContent.trim(),
    waiting: c.querySelector("[data-testid=card-waiting]")?.innerText.trim() ?? null,
    waited: c.querySelector("[data-testid=card-queued]")?.innerText.trim() ?? null,
    text: c.querySelector("[data-testid=card-body]")?.innerText.trim() ?? "",
  }));

/** Waits for `ok(cards, phase)` (checked here, read in the page) to hold; returns the cards. */
async function waitForCards(browser, ok, { timeout = 30_000, message }) {
  let last;
  await browser.waitUntil(
    async () => {
      const cs = await browser.execute(cards);
      const phase = await browser.execute(() => document.querySelector("[data-testid=run-phase]")?.innerText.trim() ?? "");
      last = cs;
      return ok(cs, phase);
    },
    { timeout, interval: 100, timeoutMsg: () => `${message}; last seen: ${JSON.stringify(last)}` },
  );
  return last;
}

describe("a panel on a one-slot local server", () => {
  let app;
  let browser;
  before(async () => {
    // Ollama is the fake provider, with no max_concurrency of its own (the
    // harness's `fake` provider, on the same server, has 16 and is not used).
    app = await startApp(SCRIPT, { config: (url) => `\n[providers.ollama]\nbase_url = "${url}/v1"\n` });
    browser = app.browser;
    await (await browser.$("[data-testid=prompt]")).waitForDisplayed({ timeout: 30_000 });
  });
  after(async () => {
    await app?.stop();
  });

  it("queues two cards while the first streams, then all three answer with the time they waited", async () => {
    await (await browser.$("[data-testid=prompt]")).setValue("Why wait your turn?");
    await (await browser.$$("[data-testid=model-input]"))[0].setValue(MODELS[0]);
    for (const [i, name] of MODELS.slice(1).entries()) {
      await (await browser.$("[data-testid=add-model]")).click();
      await (await browser.$$("[data-testid=model-input]"))[i + 1].setValue(name);
    }
    await (await browser.$("[data-testid=run]")).click();

    // One streams with text arriving, two are queued.
    const mid = await waitForCards(
      browser,
      (cs) =>
        cs.length === 3 &&
        cs.filter((c) => c.status === "streaming" && c.text.length > 0).length === 1 &&
        cs.filter((c) => c.status === "queued").length === 2,
      { message: "never one card streaming while two were queued" },
    );
    const queued = mid.filter((c) => c.status === "queued");
    for (const c of queued) {
      assert.equal(c.badge, "Queued", JSON.stringify(c));
      assert.equal(c.waiting, "queued: waiting for a free slot of its server", JSON.stringify(c));
    }
    await browser.saveScreenshot(join(artifacts, "queued-mid-run.png"));

    // A queued card's timer stands still while the streaming one ticks: once
    // the streaming card's timer has moved on, each card still queued shows
    // the time it showed before (the third waits for two whole answers).
    const streamingBefore = mid.find((c) => c.status === "streaming");
    const later = await waitForCards(
      browser,
      (cs) => cs.find((c) => c.model === streamingBefore.model)?.timer !== streamingBefore.timer,
      { message: "the streaming card's timer never ticked" },
    );
    const stillQueued = later.filter((c) => c.status === "queued");
    assert.ok(stillQueued.length >= 1, `a card still queued once the first one's timer ticked: ${JSON.stringify(later)}`);
    for (const c of stillQueued) {
      assert.equal(c.timer, queued.find((q) => q.model === c.model).timer, `${c.model}'s timer stays still while queued`);
    }

    // All three answer in full, none broken off; two say how long they waited.
    const done = await waitForCards(browser, (cs, phase) => cs.length === 3 && cs.every((c) => c.status === "done") && phase === "Completed", {
      timeout: 60_000,
      message: "the panel of three did not all answer",
    });
    assert.deepEqual(done.map((c) => c.model).sort(), [...MODELS].sort());
    for (const c of done) assert.equal(c.text, ANSWER, `${c.model} answered in full`);
    const waited = done.filter((c) => c.waited !== null);
    assert.equal(waited.length, 2, JSON.stringify(done));
    for (const c of waited) assert.match(c.waited, /^waited \d+(\.\d)? s$/, c.waited);
    // The first called waited for nothing and says nothing of it.
    assert.equal(done.find((c) => c.model === streamingBefore.model).waited, null);
    await browser.saveScreenshot(join(artifacts, "queued-done.png"));
    await darkScreenshot(browser, "queued-done");
  });

  it("Settings shows the local server's default limit and what it said of itself, and sets another", async () => {
    await (await browser.$("[data-testid=nav-settings]")).click();
    const shown = await waitInPage(
      browser,
      () => document.querySelector("[data-testid=provider][data-id=ollama] [data-testid=concurrency]")?.innerText.trim(),
      [],
      { message: "Settings shows no limit for ollama" },
    );
    assert.equal(shown, "default: what the server says it takes, else all at once");
    const fake = await browser.execute(
      () => document.querySelector("[data-testid=provider][data-id=fake] [data-testid=concurrency]")?.innerText.trim(),
    );
    assert.equal(fake, "default: what the server says it takes, else all at once");
    // What the server is and what it takes, as it said (`GET /props`: one slot).
    const detected = await waitInPage(
      browser,
      () => document.querySelector("[data-testid=local-server] [data-testid=server-concurrency]")?.innerText.trim(),
      [],
      { message: "Settings shows no kind or limit for the local server" },
    );
    assert.equal(detected, "llama.cpp server: 1 at once (said by the server)");
    await (await browser.$("[data-testid=local-server]")).scrollIntoView({ block: "center" });
    await browser.saveScreenshot(join(artifacts, "queued-settings-local-server.png"));
    await darkScreenshot(browser, "queued-settings-local-server");

    // Set through the app's own command: 0 is refused naming the field, 2 is
    // written under [providers.ollama] beside the harness's comment.
    const row = "[data-testid=provider][data-id=ollama]";
    const input = await browser.$(`${row} [data-testid=concurrency-input]`);
    await input.scrollIntoView();
    await input.setValue("0");
    await (await browser.$(`${row} [data-testid=concurrency-save]`)).click();
    const refused = await waitInPage(browser, (r) => document.querySelector(`${r} [data-testid=concurrency-error]`)?.innerText, [row]);
    assert.match(refused, /^providers\.ollama\.max_concurrency: must be at least 1/);
    await input.setValue("2");
    await (await browser.$(`${row} [data-testid=concurrency-save]`)).click();
    await waitInPage(browser, (r) => document.querySelector(`${r} [data-testid=concurrency]`)?.innerText.trim() === "2 at once", [row], {
      message: "the new limit is not shown",
    });
    const config = readFileSync(join(app.home, "config.toml"), "utf8");
    assert.match(config, /# written by the e2e harness/);
    assert.match(config, /\[providers\.ollama\]\nbase_url = "[^"]+"\nmax_concurrency = 2\n/);
    await (await browser.$(row)).scrollIntoView({ block: "center" });
    await browser.saveScreenshot(join(artifacts, "queued-settings-limit.png"));
    await darkScreenshot(browser, "queued-settings-limit");
  });
});
