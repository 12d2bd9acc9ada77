// End to end, first start with a local server (issue 13 item 8): the fake
// provider plays Ollama, with one model; the empty workbench names it and makes
// a panel of it in one click; the run's cards tell its three samples apart.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { artifacts, freePort, startApp, waitInPage, darkScreenshot } from "./harness.mjs";

const SCRIPT = {
  default: { answer: "OK", latency_ms: 50, chunks: 2 },
  models: { smollm2: { answer: "The capital of France is Paris.", latency_ms: 100, chunk_delay_ms: 60, chunks: 6 } },
};

describe("first start with a local server", () => {
  let app;
  let browser;
  before(async () => {
    // Ollama is the fake provider; LM Studio's port has nothing on it.
    const closed = await freePort();
    app = await startApp(SCRIPT, {
      config: (url) => `\n[providers.ollama]\nbase_url = "${url}/v1"\n\n[providers.lmstudio]\nbase_url = "http://127.0.0.1:${closed}/v1"\n`,
    });
    browser = app.browser;
    await (await browser.$("[data-testid=prompt]")).waitForDisplayed({ timeout: 30_000 });
  });
  after(async () => {
    await app?.stop();
  });

  it("names the server found and makes a panel of it in one click", async () => {
    const offer = await waitInPage(browser, () => document.querySelector("[data-testid=local-offer]")?.innerText, [], {
      message: "the empty workbench offers no local panel",
    });
    const host = new URL(app.url).host;
    assert.ok(offer.includes(`Found Ollama on ${host} with one model: smollm2`), offer);
    assert.match(offer, /Use a panel of ollama\/smollm2 ×3/);
    await browser.saveScreenshot(join(artifacts, "first-start-local-offer.png"));
    await darkScreenshot(browser, "first-start-local-offer");

    await (await browser.$("[data-testid=use-local-panel]")).click();
    const names = await waitInPage(browser, () => {
      const v = [...document.querySelectorAll("[data-testid=model-input]")].map((i) => i.value);
      return v.length === 3 ? v : null;
    }, []);
    assert.deepEqual(names, ["ollama/smollm2", "ollama/smollm2", "ollama/smollm2"]);

    await (await browser.$("[data-testid=prompt]")).setValue("Capital of France?");
    await (await browser.$("[data-testid=run]")).click();
    const heads = await waitInPage(
      browser,
      () => {
        const cards = [...document.querySelectorAll("[data-testid=model-card]")];
        if (cards.length !== 3 || cards.some((c) => c.dataset.status !== "done")) return null;
        if (document.querySelector("[data-testid=run-phase]")?.innerText.trim() !== "Completed") return null;
        return cards.map((c) => c.querySelector("header .title").innerText.replace(/\s+/g, " ").trim());
      },
      [],
      { message: "the panel of three did not all answer" },
    );
    assert.deepEqual(heads, ["ollama/smollm2 #1", "ollama/smollm2 #2", "ollama/smollm2 #3"]);
    await browser.saveScreenshot(join(artifacts, "first-start-local-panel.png"));
    await darkScreenshot(browser, "first-start-local-panel");
  });
});
