// Where the answers agree (issue 17), in the real window: a schema run's field
// table and consensus object, a free-text run's similarity heatmap with its
// outlier and the claims matrix of a `consensus` run, and a model sampled three
// times shown as one group of cards with the samples' agreement.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { artifacts, darkScreenshot, startApp, waitInPage } from "./harness.mjs";

const PARIS = { city: "Paris", population: 2.1, tags: ["capital", "seine"], country: { name: "France", eu: true } };
const CLAIMS = JSON.stringify({
  claims: [
    { claim: "Paris is the capital of France", stances: { A: "supports", B: "supports", C: "supports" } },
    { claim: "It has been the capital since the 10th century", stances: { A: "supports", B: "supports", C: "silent" } },
    { claim: "The seat of government is in Lyon", stances: { A: "contradicts", B: "silent", C: "supports" } },
    { claim: "<b>Paris</b> has about two million inhabitants", stances: { A: "supports", B: "silent", C: "silent" } },
  ],
});
const SCRIPT = {
  default: { answer: "OK", latency_ms: 50, chunks: 2 },
  models: {
    j1: { answer: JSON.stringify(PARIS), latency_ms: 50 },
    // 2.10 is 2.1: one value.
    j2: { answer: JSON.stringify(PARIS).replace("2.1", "2.10"), latency_ms: 80 },
    j3: { answer: JSON.stringify({ ...PARIS, city: "Lyon", population: 0.5, tags: ["capital", "rhone"] }), latency_ms: 110 },
    j4: { answer: "Sorry, I cannot answer in JSON.", latency_ms: 60 },
    j5: { answer: JSON.stringify({ ...PARIS, population: 2.2, country: { name: "France", eu: false } }), latency_ms: 70 },
    t1: { answer: "Paris is the capital of France, and has been since the 10th century. It has about two million inhabitants.", latency_ms: 60 },
    t2: { answer: "The capital of France is Paris; it has been the capital since the 10th century.", latency_ms: 90 },
    t3: { answer: "Many would say Lyon, where the seat of government sits, though officially it is otherwise.", latency_ms: 120 },
    summ: { answer: "Paris is the capital of France, and has been since the 10th century.", answer_when: [["List the distinct", CLAIMS]], latency_ms: 50 },
    s: { answer: "Canberra is the capital of Australia.", latency_ms: 60, chunks: 3 },
  },
};

describe("agreement views", () => {
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

  /** Sets a field the way typing would (an input event Svelte's bindings see). */
  const fill = (selector, value) =>
    browser.execute(
      (sel, v) => {
        const el = document.querySelector(sel);
        el.value = v;
        el.dispatchEvent(new Event("input", { bubbles: true }));
      },
      selector,
      value,
    );
  async function setPanel(models) {
    for (;;) {
      const n = (await browser.$$("[data-testid=model-input]")).length;
      if (n < models.length) await (await browser.$("[data-testid=add-model]")).click();
      else if (n > models.length) await (await browser.$(`button[aria-label="Remove model ${n}"]`)).click();
      else break;
    }
    const inputs = await browser.$$("[data-testid=model-input]");
    for (const [i, m] of models.entries()) await inputs[i].setValue(m);
  }
  const resolution = (label) =>
    browser.execute((l) => [...document.querySelectorAll('[aria-label="Resolution"] button')].find((b) => b.textContent.trim() === l).click(), label);
  async function runAndWait(prompt) {
    await fill("[data-testid=prompt]", prompt);
    await (await browser.$("[data-testid=run]")).click();
    await waitInPage(
      browser,
      (p) =>
        document.querySelector("[data-testid=prompt-line], .prompt-line")?.textContent === p &&
        document.querySelector("[data-testid=run-phase]")?.textContent.includes("Completed") &&
        document.querySelector("[data-testid=agreement]"),
      [prompt],
      { message: `the run "${prompt}" did not complete with an agreement panel` },
    );
  }
  const scrollTo = (testid) => browser.execute((t) => document.querySelector(`[data-testid=${t}]`)?.scrollIntoView({ block: "start" }), testid);

  it("shows a schema run's fields, model by model, and the consensus object", async () => {
    await setPanel(["fake/j1", "fake/j2", "fake/j3", "fake/j4", "fake/j5"]);
    await resolution("Fast");
    await browser.execute(() => {
      const d = [...document.querySelectorAll("details.block")].find((d) => d.textContent.includes("Output schema"));
      d.open = true;
    });
    await fill("[data-testid=schema-editor]", JSON.stringify({ type: "object", properties: { city: { type: "string" } }, required: ["city"] }));
    await runAndWait("The capital of France, as JSON (e2e-fields)");

    const rows = await browser.execute(() =>
      [...document.querySelectorAll("[data-testid=field-row]")].map((r) => ({
        pointer: r.dataset.pointer,
        groups: [...r.querySelectorAll("[data-testid=field-cell]")].map((c) => c.dataset.group),
        split: Boolean(r.querySelector("[data-testid=no-majority]")),
      })),
    );
    const row = (p) => rows.find((r) => r.pointer === p);
    assert.deepEqual(row("/city").groups, ["0", "0", "1", "invalid", "0"], JSON.stringify(rows));
    assert.deepEqual(row("/population").groups, ["0", "0", "1", "invalid", "2"], "2.1 and 2.10 are one value");
    assert.equal(row("/population").split, true, "2 of 5 is no majority");
    assert.deepEqual(row("/tags/1").groups, ["0", "0", "1", "invalid", "0"]);
    assert.deepEqual(row("/country/eu").groups, ["0", "0", "0", "invalid", "1"], "nested fields are rows");
    const consensus = await (await browser.$("[data-testid=consensus]")).getText();
    await fill("[data-testid=schema-editor]", "");
    assert.match(consensus, /"city": "Paris"/);
    assert.match(consensus, /No majority, left out: \/population/);
    await scrollTo("agreement");
    await browser.pause(200);
    await browser.saveScreenshot(join(artifacts, "agreement-fields.png"));
    await darkScreenshot(browser, "agreement-fields");
  });

  it("shows a free-text run's similarity heatmap and the claims matrix of a consensus run", async () => {
    await setPanel(["fake/t1", "fake/t2", "fake/t3"]);
    await resolution("Summary");
    await fill('input[aria-label="Summary model"]', "fake/summ");
    const sw = await browser.$("[data-testid=consensus-switch]");
    await sw.click();
    assert.equal(await sw.isSelected(), true);
    await runAndWait("What is the capital of France? (e2e-claims)");

    const heat = await browser.execute(() => ({
      cells: document.querySelectorAll("[data-testid=heat-cell]").length,
      outliers: [...document.querySelectorAll("[data-testid=heat-row]")].map((r) => r.dataset.outlier),
    }));
    assert.equal(heat.cells, 9);
    assert.deepEqual(heat.outliers, ["false", "false", "true"], "fake/t3 stands out");
    const claims = await browser.execute(() => ({
      kinds: [...document.querySelectorAll("[data-testid=claims-group]")].map((g) => g.dataset.kind),
      rows: [...document.querySelectorAll("[data-testid=claim-row]")].map((r) => r.textContent),
      bold: document.querySelector("[data-testid=claims-matrix] b") !== null,
      rate: document.querySelector("[data-testid=agreement-rate]")?.textContent,
    }));
    assert.deepEqual(claims.kinds, ["unanimous", "majority", "minority", "contested"].filter((k) => claims.kinds.includes(k)));
    assert.equal(claims.rows.length, 4);
    assert.ok(claims.kinds.includes("unanimous") && claims.kinds.includes("contested"), JSON.stringify(claims));
    assert.equal(claims.bold, false, "a claim's markup stays text");
    assert.ok(claims.rows.some((r) => r.includes("<b>Paris</b>")));
    assert.match(claims.rate, /claims agreement \d+%/);
    await scrollTo("agreement");
    await browser.pause(200);
    await browser.saveScreenshot(join(artifacts, "agreement-claims.png"));
    await darkScreenshot(browser, "agreement-claims");
    await sw.click();
  });

  it("shows a model sampled three times as one group of cards", async () => {
    await setPanel(["fake/s", "fake/t3"]);
    await (await browser.$('button[aria-label="Options of model 1"]')).click();
    await (await browser.$("[data-testid=samples-up]")).click();
    await (await browser.$("[data-testid=samples-up]")).click();
    assert.equal(await (await browser.$("[data-testid=row-samples]")).getText(), "×3");
    await runAndWait("What is the capital of Australia? (e2e-samples)");

    const group = await browser.execute(() => {
      const g = document.querySelector("[data-testid=sample-group]");
      return g && {
        model: g.dataset.model,
        cards: g.querySelectorAll("[data-testid=model-card]").length,
        agreement: g.querySelector("[data-testid=sample-agreement]")?.textContent,
        all: document.querySelectorAll("[data-testid=model-card]").length,
      };
    });
    assert.deepEqual(group, { model: "fake/s", cards: 3, agreement: "similarity 1.00", all: 4 });
    await scrollTo("cards");
    await browser.pause(200);
    await browser.saveScreenshot(join(artifacts, "agreement-samples.png"));
    await darkScreenshot(browser, "agreement-samples");
  });

  it("shows the same views for a run opened from the History", async () => {
    const open = async (needle) => {
      await (await browser.$("[data-testid=nav-history]")).click();
      await fill("[data-testid=history-search]", needle);
      await waitInPage(
        browser,
        (n) => {
          const items = [...document.querySelectorAll("[data-testid=history-item]")];
          return items.length === 1 && items[0].innerText.includes(n);
        },
        [needle],
        { message: `the history did not find ${needle}` },
      );
      await (await browser.$("[data-testid=history-item] button.item")).click();
      await (await browser.$("[data-testid=open-run]")).click();
      await waitInPage(browser, (n) => document.querySelector(".prompt-line")?.textContent.includes(n) && document.querySelector("[data-testid=agreement]"), [needle], {
        message: `${needle} opened from the History shows no agreement`,
      });
    };
    await open("e2e-claims");
    const stored = await browser.execute(() => ({
      claims: document.querySelectorAll("[data-testid=claim-row]").length,
      cells: document.querySelectorAll("[data-testid=heat-cell]").length,
    }));
    assert.deepEqual(stored, { claims: 4, cells: 9 });
    await open("e2e-samples");
    const group = await browser.execute(() => document.querySelector("[data-testid=sample-group]")?.querySelectorAll("[data-testid=model-card]").length);
    assert.equal(group, 3, "the stored run's samples are a group again");
  });
});
