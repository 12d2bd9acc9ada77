// The cards use the width they have, in the real window (1280 pixels wide): two
// models side by side in wide columns, many wrapping into a grid. Screenshots,
// light and dark: grid-two, grid-many.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { artifacts, darkScreenshot, startApp, waitInPage } from "./harness.mjs";

const ANSWER =
  "## Why several models\n\nIndependent answers expose each model's **blind spots**: where they agree you can be more confident, where they differ you see what to check.\n\n" +
  "- a consolidation keeps the best of each\n- a vote settles questions with fixed choices\n\n```rust\nfn main() { println!(\"ok\"); }\n```";
const MANY = ["fake/m1", "fake/m2", "fake/m3", "fake/m4", "fake/m5", "fake/m6", "fake/m7"];

/** Each card's box, and the grid's width. */
const layout = () => {
  const grid = document.querySelector("[data-testid=cards]");
  return {
    width: grid.getBoundingClientRect().width,
    cards: [...grid.querySelectorAll("[data-testid=model-card]")].map((c) => {
      const r = c.getBoundingClientRect();
      return { left: Math.round(r.left), top: Math.round(r.top), width: r.width };
    }),
  };
};

async function run(browser, models) {
  await (await browser.$("[data-testid=prompt]")).setValue(`Why ask several models? (${models.length} of them)`);
  while ((await browser.$$("[data-testid=model-input]")).length < models.length) await (await browser.$("[data-testid=add-model]")).click();
  const inputs = await browser.$$("[data-testid=model-input]");
  for (const [i, m] of models.entries()) await inputs[i].setValue(m);
  await (await browser.$("[data-testid=run]")).click();
  await waitInPage(browser, (n) => (document.querySelector("[data-testid=run-phase]")?.textContent ?? "").includes("Completed") && document.querySelectorAll("[data-testid=model-card][data-status=done]").length === n, [models.length], {
    message: `the ${models.length}-model run did not complete`,
  });
  return browser.execute(layout);
}

describe("the workbench's cards", () => {
  let app;
  let browser;
  before(async () => {
    app = await startApp({ default: { answer: ANSWER, latency_ms: 50, chunk_delay_ms: 10, chunks: 10 } });
    browser = app.browser;
    await (await browser.$("[data-testid=prompt]")).waitForDisplayed({ timeout: 30_000 });
  });
  after(async () => {
    await app?.stop();
  });

  it("share the pane between two models, side by side", async () => {
    const { width, cards } = await run(browser, ["fake/a", "fake/b"]);
    assert.equal(cards.length, 2);
    assert.equal(cards[0].top, cards[1].top, "side by side");
    for (const c of cards) assert.ok(c.width > 0.45 * width, `a card ${c.width} px wide of ${width}: it should take half the pane`);
    await browser.saveScreenshot(join(artifacts, "grid-two.png"));
    await darkScreenshot(browser, "grid-two");
  });

  it("wrap many models into a grid of columns", async () => {
    const { width, cards } = await run(browser, MANY);
    const columns = new Set(cards.map((c) => c.left)).size;
    const rows = new Set(cards.map((c) => c.top)).size;
    assert.ok(columns >= 3, `${columns} columns`);
    assert.equal(rows, Math.ceil(MANY.length / columns));
    for (const c of cards) assert.ok(c.width >= 250 && c.width * columns <= width + 1, `a card ${c.width} px wide in ${columns} columns of ${width}`);
    await browser.saveScreenshot(join(artifacts, "grid-many.png"));
    await darkScreenshot(browser, "grid-many");
  });
});
