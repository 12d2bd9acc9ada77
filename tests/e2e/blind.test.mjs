// Blind mode in the real window (issue 16): a run of three models shows its
// answers as Response A, B, C with no model's name anywhere in the page (its
// markup, attributes, tooltips, aria labels, the window title); the vote reveals
// them with the vote marked; History shows the vote, changes and withdraws it,
// and a judge model ranks the answers.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { artifacts, darkScreenshot, startApp, waitInPage } from "./harness.mjs";

const MODELS = ["fake/alpha", "fake/beta", "fake/gamma"];
/** The models in the order the blind run showed them, once revealed. */
const shown = { order: [] };
// Nothing in the answers names a model.
const SCRIPT = {
  default: { answer: "OK", latency_ms: 50, chunks: 2 },
  models: {
    alpha: { answer: "Water boils at **100 °C** at sea level; lower up a mountain, as the air pressure drops.", latency_ms: 100, chunk_delay_ms: 40, chunks: 8 },
    // Streams for about 2 s, so the page is seen while a card streams (the
    // others are done within 0.6 s, less than a poll or two on a busy machine).
    beta: { answer: "At sea level it boils at 100 degrees Celsius (212 °F).", latency_ms: 300, chunk_delay_ms: 400, chunks: 6 },
    gamma: { answer: "Around 100 °C, depending on pressure and on what is dissolved in it.", latency_ms: 200, chunk_delay_ms: 50, chunks: 6 },
    summary: { answer: "Water boils at about 100 °C at sea level, and lower where the air pressure is lower.", latency_ms: 50, chunks: 4 },
    judge: {
      answer: JSON.stringify({ ranking: [{ response: "B", reason: "exact, with both scales" }, { response: "A", reason: "explains altitude" }, { response: "C", reason: "vague" }] }),
      latency_ms: 50,
    },
  },
};

/** Where any model's name shows in the page: markup, every attribute, the title. */
function leaks(names) {
  const found = [];
  const html = document.body.innerHTML;
  for (const n of names) {
    if (html.includes(n)) found.push(`body: ${n}`);
    if (document.title.includes(n)) found.push(`title: ${n}`);
  }
  for (const el of document.querySelectorAll("*")) {
    for (const a of el.attributes) for (const n of names) if (a.value.includes(n)) found.push(`${el.tagName}[${a.name}]: ${n}`);
  }
  return found;
}

const cards = () =>
  [...document.querySelectorAll("[data-testid=model-card]")].map((c) => ({
    letter: c.dataset.letter ?? null,
    model: c.dataset.model ?? null,
    name: c.querySelector("[data-testid=card-name]")?.textContent.trim(),
    mark: c.querySelector("[data-testid=card-mark]")?.textContent.trim() ?? null,
    timer: Boolean(c.querySelector("[data-testid=card-timer]")),
    text: c.querySelector("[data-testid=card-body]").innerText.trim(),
  }));

describe("blind mode", () => {
  let app;
  let browser;
  before(async () => {
    app = await startApp(SCRIPT);
    browser = app.browser;
    await (await browser.$("[data-testid=prompt]")).waitForDisplayed({ timeout: 30_000 });
  });
  after(async () => {
    await app?.stop();
  });

  it("names no model before the vote, and the vote reveals them with it marked", async () => {
    const blind = await browser.$("[data-testid=blind-switch]");
    await blind.click();
    assert.equal(await blind.isSelected(), true);
    await (await browser.$("[data-testid=prompt]")).setValue("At what temperature does water boil? (e2e-blind)");
    await (await browser.$$("[data-testid=model-input]"))[0].setValue(MODELS[0]);
    for (const m of MODELS.slice(1)) {
      await (await browser.$("[data-testid=add-model]")).click();
      await (await browser.$$("[data-testid=model-input]")).at(-1).setValue(m);
    }
    await (await browser.$('input[aria-label="Summary model"]')).setValue("fake/summary");
    await (await browser.$("[data-testid=run]")).click();

    // While it streams, and once it is over: never a name.
    await waitInPage(browser, () => document.querySelectorAll("[data-testid=model-card][data-status=streaming]").length > 0, [], { message: "no card streamed" });
    const names = [...MODELS, "alpha", "beta", "gamma", "fake/summary"];
    assert.deepEqual(await browser.execute(leaks, names), [], "a name while streaming");
    await waitInPage(
      browser,
      () => document.querySelector("[data-testid=run-phase]")?.textContent.includes("Completed") && document.querySelector("[data-testid=vote-panel]"),
      [],
      { message: "the blind run did not complete with a vote panel" },
    );
    assert.deepEqual(await browser.execute(leaks, names), [], "a name before the vote");
    const before = await browser.execute(cards);
    assert.deepEqual(before.map((c) => [c.letter, c.model, c.name, c.timer]), [
      ["A", null, "Response A", false],
      ["B", null, "Response B", false],
      ["C", null, "Response C", false],
    ]);
    const resolved = await browser.execute(() => document.querySelector("[data-testid=resolved-body]").innerText);
    assert.match(resolved, /lower where the air pressure is lower/, "the summary is shown");
    const head = await browser.execute(() => document.querySelector("[data-testid=run-head]").innerText);
    assert.doesNotMatch(head, /\$/, "no cost before the vote");
    await browser.saveScreenshot(join(artifacts, "blind-before-vote.png"));
    await darkScreenshot(browser, "blind-before-vote");

    // Rank: Response B first, then A; C, left out, ranks below them.
    await (await browser.$("[data-testid=vote-mode-rank]")).click();
    const rank = await browser.$$("[data-testid=vote-rank]");
    await rank[1].click();
    await rank[0].click();
    await (await browser.$("[data-testid=vote-cast-ranking]")).click();
    await waitInPage(browser, () => document.querySelector("[data-testid=model-card][data-model]"), [], { message: "the names were not revealed" });
    const after = await browser.execute(cards);
    assert.deepEqual(after.map((c) => c.letter), ["A", "B", "C"], "the order stays as shown");
    assert.deepEqual([...after.map((c) => c.model)].sort(), MODELS);
    assert.deepEqual(after.map((c) => c.text), before.map((c) => c.text), "the same answers under their names");
    assert.deepEqual(after.map((c) => c.mark), ["#2", "#1", null]);
    assert.ok(after.every((c) => c.timer), "timings once revealed");
    const summary = await browser.execute(() => document.querySelector("[data-testid=vote-summary]").textContent);
    assert.ok(summary.includes(`Ranking: ${after[1].model} > ${after[0].model} (blind)`), summary);
    assert.match(await browser.execute(() => document.querySelector("[data-testid=run-head]").innerText), /\$/, "the cost once revealed");
    shown.order = after.map((c) => c.model);
    await browser.saveScreenshot(join(artifacts, "blind-revealed.png"));
    await darkScreenshot(browser, "blind-revealed");
  });

  it("shows the vote in History, changes it, withdraws it, and has a judge rank the answers", async () => {
    const [a, b] = shown.order;
    await (await browser.$("[data-testid=nav-history]")).click();
    await (await browser.$("[data-testid=history-item] .item")).click();
    await waitInPage(browser, (want) => document.querySelector("[data-testid=vote-summary]")?.textContent.includes(want), [`Ranking: ${b} > ${a} (blind)`], {
      message: "History does not show the vote",
    });
    assert.match(await browser.execute(() => document.querySelector("[data-testid=vote-when]").textContent), /Cast blind/);

    // A judge: its ranking, with reasons; an unknown judge: its error.
    await (await browser.$("[data-testid=judge-model]")).setValue("fake/judge");
    await (await browser.$("[data-testid=judge]")).click();
    const judged = await waitInPage(browser, () => document.querySelector("[data-testid=judgement]")?.innerText, [], { message: "no judgement shown" });
    assert.match(judged, /fake\/judge/);
    assert.match(judged, /exact, with both scales/);
    const ranked = await browser.execute(() => [...document.querySelectorAll("[data-testid=judgement] li .name")].map((e) => e.textContent));
    assert.deepEqual([...ranked].sort(), [...shown.order].sort());
    await browser.saveScreenshot(join(artifacts, "history-vote.png"));
    await darkScreenshot(browser, "history-vote");

    await (await browser.$("[data-testid=judge-model]")).setValue("nope/model");
    await (await browser.$("[data-testid=judge]")).click();
    await waitInPage(browser, () => document.querySelector("[data-testid=judge-error]")?.textContent, [], { message: "the judge's error is not shown" });

    // Change: the best is now the panel's third (History lists the panel's
    // order), chosen with the names shown, so not blind.
    await (await browser.$("button=Change")).click();
    await (await (await browser.$("[data-testid=verdicts]")).$("button=Best")).click();
    const best = await browser.$$("[data-testid=vote-best]");
    assert.equal(await best[2].getText(), MODELS[2]);
    await best[2].click();
    await waitInPage(browser, (want) => document.querySelector("[data-testid=vote-summary]")?.textContent.includes(want), [`Best: ${MODELS[2]}`], {
      message: "the changed vote is not shown",
    });
    assert.match(await browser.execute(() => document.querySelector("[data-testid=vote-when]").textContent), /Cast with the names shown.*changed/);

    await (await browser.$("[data-testid=vote-withdraw]")).click();
    await waitInPage(browser, () => !document.querySelector("[data-testid=vote-summary]") && document.querySelector("[data-testid=vote-open]"), [], {
      message: "the vote was not withdrawn",
    });
    // Opened again, the run has no vote.
    await (await browser.$("[data-testid=open-run]")).click();
    await waitInPage(browser, () => document.querySelector("[data-testid=vote-open]") && !document.querySelector("[data-testid=card-mark]"), [], {
      message: "the opened run still shows a vote",
    });
    // Blind mode is still on, as last used, and can be turned off again.
    const blind = await browser.$("[data-testid=blind-switch]");
    assert.equal(await blind.isSelected(), true);
    await blind.click();
    assert.equal(await blind.isSelected(), false);
  });
});

