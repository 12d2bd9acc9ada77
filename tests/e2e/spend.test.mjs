// End to end, spend (issue 19): the estimate under the Run button follows the
// panel (with prices from a LiteLLM-format price file, a model without one
// listed); a run over its max_cost is refused with the figures, run anyway, and
// its slow model is stopped at the cap keeping what had arrived; the Usage view
// over a history seeded through the CLI (another process): spend per day
// stacked by provider, tokens, latency and failures per model, the model
// without a price, and the budget at its warning.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { artifacts, darkScreenshot, root, startApp, waitInPage } from "./harness.mjs";

const SCRIPT = {
  default: { answer: "OK", latency_ms: 50, chunks: 2 },
  models: {
    quick: { answer: "Short answer: several models catch each other's mistakes.", latency_ms: 100, chunks: 3 },
    // 2,000 characters in 100 chunks, one every 60 ms: about 500 tokens, $0.50 at its price.
    slow: { answer: "Panels help because ".repeat(100), chunks: 100, chunk_delay_ms: 60, latency_ms: 100 },
  },
};
// USD per token: slow's output costs $1 per thousand tokens; free has no price.
const PRICES = {
  "fake/quick": { input_cost_per_token: 1e-6, output_cost_per_token: 2e-6, litellm_provider: "fake" },
  "fake/slow": { input_cost_per_token: 1e-6, output_cost_per_token: 1e-3, litellm_provider: "fake" },
};

const target = process.env.CARGO_TARGET_DIR ? resolve(process.env.CARGO_TARGET_DIR) : join(root, "target");
const cliBin = join(target, process.env.E2E_PROFILE ?? "debug", "roundtable");

/** Runs of the past two weeks as `roundtable export --format json` writes them, with known costs. */
function history(now = Date.now()) {
  const day = 86_400_000;
  const startOfToday = new Date(now).setHours(0, 0, 0, 0);
  const models = [
    ["openai/gpt-4.1-mini", 0.004, 900],
    ["anthropic/claude-haiku-4-5", 0.012, 1400],
    ["gemini/gemini-2.5-flash", 0.002, 700],
    ["ollama/llama3.2", 0, 2600],
  ];
  const runs = [];
  for (let d = 13; d >= 0; d--) {
    for (let k = 0; k < 2 + (d % 3); k++) {
      const i = runs.length;
      const results = models.map(([model, cost, ms], index) => {
        const failed = index === 2 && i % 5 === 0;
        const timedOut = index === 3 && i % 7 === 0;
        return {
          index,
          model,
          data: failed || timedOut ? "" : `Answer ${i} of ${model}`,
          duration_ms: Math.round(ms * (0.6 + ((i * 7 + index * 3) % 10) / 10)),
          cost: failed || timedOut ? 0 : +(cost * (1 + (d % 4) / 2)).toFixed(6),
          usage: { input_tokens: 400 + 10 * i, output_tokens: 300 + 25 * ((i + index) % 9), ...(cost === 0 ? { extra: { pricing: "no known price" } } : {}) },
          ...(failed ? { error: "HTTP 500 from the provider", outcome: "failed" } : {}),
          ...(timedOut ? { error: "timed out after 120 s", outcome: "timed_out" } : {}),
        };
      });
      const total = results.reduce((n, r) => n + r.cost, 0);
      runs.push({
        id: `rt_seed_${i}`,
        data: "A consolidated answer",
        meta: { resolution: "fast", models_used: models.map(([m]) => m), total_cost: +total.toFixed(6), total_duration_ms: 3000 },
        model_results: results,
        status: "completed",
        request: { input: `Seeded question ${i}`, models: models.map(([name]) => ({ name })), resolution: "fast" },
        // Today's runs stay today's (the budget's day) whatever the hour:
        // an hour apart, they fell on yesterday in the first hour after midnight.
        created_at_ms: d === 0 ? Math.max(startOfToday, now - k * 3_600_000) : now - d * day - k * 3_600_000,
      });
    }
  }
  return runs;
}

describe("spend", () => {
  let app;
  let browser;
  const cardOf = (model) => `[data-testid=model-card][data-model="${model}"]`;

  before(async () => {
    app = await startApp(SCRIPT, {
      top: 'price_files = ["prices.json"]\n',
      files: { "prices.json": JSON.stringify(PRICES) },
      config: () => "[budget]\ndaily_usd = 0.1\nmonthly_usd = 5\nsoft = true\n",
    });
    browser = app.browser;
    await (await browser.$("[data-testid=prompt]")).waitForDisplayed({ timeout: 30_000 });
  });
  after(async () => {
    await app?.stop();
  });

  const line = () => waitInPage(browser, () => !document.querySelector("[data-testid=estimate][data-pending]") && document.querySelector("[data-testid=estimate-line]")?.innerText, []);

  it("estimates the run under the Run button, following the panel", async () => {
    await (await browser.$("[data-testid=prompt]")).setValue("Why do several models beat one? Answer at length.");
    await (await browser.$$("[data-testid=model-input]"))[0].setValue("fake/quick");
    const one = await line();
    assert.match(one, /^≈ \$[\d.]+ typical · up to \$[\d.]+$/, one);

    await (await browser.$("[data-testid=add-model]")).click();
    await (await browser.$$("[data-testid=model-input]"))[1].setValue("fake/slow");
    const two = await waitInPage(browser, (before) => {
      const t = !document.querySelector("[data-testid=estimate][data-pending]") && document.querySelector("[data-testid=estimate-line]")?.innerText;
      return t && t !== before ? t : null;
    }, [one], { message: "the estimate did not change with the panel" });
    // slow: 500 tokens typical, 8,192 at worst, at $1 per thousand.
    assert.match(two, /≈ \$0\.5\d* typical · up to \$8\.\d+/, two);

    await (await browser.$("[data-testid=add-model]")).click();
    await (await browser.$$("[data-testid=model-input]"))[2].setValue("fake/free");
    const unpriced = await waitInPage(browser, () => document.querySelector("[data-testid=estimate-unpriced]")?.textContent, []);
    assert.match(unpriced, /fake\/free/);
    await (await browser.$("[data-testid=estimate] summary")).click();
    const rows = await waitInPage(browser, () => {
      const t = document.querySelector("[data-testid=estimate-breakdown]");
      return t && t.getBoundingClientRect().height > 0
        ? [...t.querySelectorAll("li")].map((r) => [".model", ".tokens", ".cost"].map((c) => r.querySelector(c).innerText.replace(/\s+/g, " ").trim()))
        : null;
    }, []);
    // The summary call (the first model, none named) reads every answer: counted too.
    assert.deepEqual(rows.map((r) => r[0]), ["fake/quick", "fake/slow", "fake/free", "summary: fake/quick"]);
    // A fake model's input is an estimate (~); slow's output 500 typical, 8,192 at worst.
    assert.match(rows[1][1], /^~\d+ in · 500–8\.2k out$/, rows[1][1]);
    assert.match(rows[1][2], /^\$0\.5\d*–\$8\.\d+$/, rows[1][2]);
    assert.equal(rows[2][2], "no price");
    await browser.saveScreenshot(join(artifacts, "spend-estimate.png"));
    await darkScreenshot(browser, "spend-estimate");
    await (await browser.$('button[aria-label="Remove model 3"]')).click();
  });

  it("refuses a run over its max_cost with the figures, and stops it at the cap once confirmed", async () => {
    const cap = await browser.$("[data-testid=max-cost]");
    await cap.setValue("0.05");
    await waitInPage(browser, () => document.querySelector("[data-testid=estimate-over-cap]"), [], { message: "no warning that the worst case is over the cap" });
    await (await browser.$("[data-testid=run]")).click();
    const refused = await waitInPage(browser, () => document.querySelector("[data-testid=run-error]")?.innerText, [], { message: "the run over its cap was not refused" });
    assert.match(refused, /max_cost: this run could cost up to \$8\.\d+ .*over its max_cost of \$0\.05/s, refused);
    await (await browser.$("[data-testid=run-anyway]")).click();

    const ended = await waitInPage(
      browser,
      (quick, slow) => {
        const phase = document.querySelector("[data-testid=run-phase]")?.textContent ?? "";
        const s = document.querySelector(slow);
        return !phase.includes("Running") && s?.dataset.outcome === "budget_exceeded"
          ? {
              phase,
              quick: document.querySelector(quick)?.dataset.status,
              status: s.querySelector("[data-testid=card-status]").innerText,
              capped: s.querySelector("[data-testid=card-capped]")?.innerText,
              text: s.querySelector("[data-testid=card-body] .md, [data-testid=card-body]").innerText,
              error: document.querySelector("[data-testid=run-error]")?.innerText ?? null,
            }
          : null;
      },
      [cardOf("fake/quick"), cardOf("fake/slow")],
      { timeout: 30_000, message: "the slow model was not stopped at the cap" },
    );
    assert.equal(ended.error, null, "confirmed, the run started");
    assert.equal(ended.quick, "done");
    assert.match(ended.status, /Capped/);
    assert.match(ended.capped, /Stopped at the cost cap.*answer so far is kept/);
    // $0.05 is about 200 characters of slow's answer (plus a chunk in flight): partial, kept.
    const kept = (ended.text.match(/Panels help because/g) ?? []).length;
    assert.ok(kept >= 5 && kept < 30, `${kept} repetitions kept`);
    await browser.saveScreenshot(join(artifacts, "spend-capped.png"));
    await darkScreenshot(browser, "spend-capped");
    await (await browser.$("[data-testid=max-cost]")).clearValue();
  });

  it("shows where the money went over a history seeded by another process (Ctrl+6)", async () => {
    const file = join(app.home, "seed.json");
    writeFileSync(file, JSON.stringify(history()));
    execFileSync(cliBin, ["import", file], { env: { ...process.env, ROUNDTABLE_HOME: app.home, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] });

    await (await browser.$("body")).click();
    await browser.keys(["Control", "6"]);
    const seen = await waitInPage(
      browser,
      () => {
        const summary = document.querySelector("[data-testid=usage-summary]")?.innerText ?? "";
        const chart = document.querySelector("[data-testid=spend-chart]");
        return summary.includes("runs") && chart?.querySelector("canvas") && parseInt(summary, 10) > 1
          ? {
              summary,
              series: chart.dataset.series,
              tokens: document.querySelector("[data-testid=tokens-chart]")?.dataset.series,
              rows: [...document.querySelectorAll("[data-testid=usage-models] tbody tr")].map((r) => ({ model: r.dataset.model, cells: [...r.cells].map((c) => c.innerText.trim()) })),
              unpriced: document.querySelector("[data-testid=usage-unpriced]")?.innerText ?? "",
              budget: document.querySelector("[data-testid=budget]")?.dataset.state,
              today: document.querySelector("[data-testid=budget-today]")?.innerText,
            }
          : null;
      },
      [],
      { message: "Ctrl+6 did not show the seeded usage" },
    );
    const seeded = history().length;
    assert.ok(parseInt(seen.summary, 10) >= seeded + 1, seen.summary);
    assert.deepEqual(seen.series.split(",").sort(), ["anthropic", "fake", "gemini", "openai"], "free ollama is not drawn");
    assert.equal(seen.tokens, "input,output");
    const models = seen.rows.map((r) => r.model);
    for (const m of ["openai/gpt-4.1-mini", "anthropic/claude-haiku-4-5", "gemini/gemini-2.5-flash", "ollama/llama3.2", "fake/slow", "fake/quick"]) assert.ok(models.includes(m), `${m} in ${models}`);
    const gemini = seen.rows.find((r) => r.model === "gemini/gemini-2.5-flash");
    assert.match(gemini.cells[6], /\d+%.*failed \d+/s, gemini.cells[6]);
    const llama = seen.rows.find((r) => r.model === "ollama/llama3.2");
    assert.match(llama.cells[6], /timed out \d+/, llama.cells[6]);
    assert.match(seen.unpriced, /ollama\/llama3\.2/);
    // About $0.09 today (two seeded runs and the capped one) of $0.10: past the 80 % warning.
    assert.ok(["warning", "exceeded"].includes(seen.budget), seen.budget);
    assert.match(seen.today, /Today\s*\$[\d.]+\s*of \$0\.1/);
    await browser.saveScreenshot(join(artifacts, "usage.png"));
    await darkScreenshot(browser, "usage");
    await browser.execute(() => document.querySelector("[data-testid=usage-models]").scrollIntoView({ block: "start" }));
    await browser.pause(200);
    await browser.saveScreenshot(join(artifacts, "usage-models.png"));
  });

  it("sets the budget in Settings, into config.toml's [budget], and Usage follows", async () => {
    await (await browser.$("[data-testid=nav-settings]")).click();
    const daily = await browser.$("[data-testid=budget-daily]");
    await daily.waitForDisplayed();
    assert.equal(await daily.getValue(), "0.1");
    assert.equal(await (await browser.$("[data-testid=budget-monthly]")).getValue(), "5");
    assert.equal(await (await browser.$("[data-testid=budget-soft]")).isSelected(), true);
    await daily.setValue("1");
    await (await browser.$("[data-testid=save-budget]")).click();
    await waitInPage(browser, () => document.querySelector("[data-testid=budget-settings] [role=status]")?.textContent.includes("Saved"), [], { message: "the budget was not saved" });
    const config = readFileSync(join(app.home, "config.toml"), "utf8");
    assert.match(config, /daily_usd = 1\b/, config);
    assert.match(config, /price_files = \["prices.json"\]/, "the rest of config.toml is kept");
    await (await browser.$("[data-testid=budget-settings]")).scrollIntoView();
    await browser.saveScreenshot(join(artifacts, "settings-budget.png"));
    await (await browser.$("[data-testid=nav-usage]")).click();
    const today = await waitInPage(browser, () => {
      const t = document.querySelector("[data-testid=budget-today]");
      return t?.dataset.state === "ok" && t.innerText;
    }, [], { message: "Usage did not follow the new budget" });
    assert.match(today, /of \$1\.00/);
  });
});
