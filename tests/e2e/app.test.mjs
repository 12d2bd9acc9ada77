// End to end in the real app: a roundtable streams into its cards and resolves,
// the history finds it, an export writes a file, a model answering XSS payloads
// renders inert, links open in the (fake) system browser, the local API started
// from Settings serves a real HTTP call, and cancel, re-run and re-resolve work.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { artifacts, freePort, startApp, waitInPage } from "./harness.mjs";

const ANSWER =
  "Independent answers expose each model's **blind spots**. Where they agree you can be more confident; where they differ you see what to check. " +
  "A consolidation keeps the best of each, and a vote settles questions with fixed choices.";

// If any of these ran, it would leave a mark: an alert (WebDriver then fails the
// next command), window.__pwned, the title, or a key stored in the keychain
// through the app's own IPC.
const EFFECT =
  "window.__pwned=1;document.title='pwned';window.__TAURI_INTERNALS__&&window.__TAURI_INTERNALS__.invoke('set_key',{provider:'openai',key:'pwned-key-12345678'})";
const XSS = [
  `<script>${EFFECT}</script>`,
  `<img src=x onerror="${EFFECT}">`,
  `<img src=x onerror=alert(1)>`,
  `<svg onload="${EFFECT}"><circle r="1"/></svg>`,
  `<details open ontoggle="${EFFECT}"><summary>t</summary></details>`,
  `<input autofocus onfocus="${EFFECT}">`,
  `<iframe srcdoc="<script>parent.${EFFECT}</script>"></iframe>`,
  `<video><source onerror="${EFFECT}"></video>`,
  `<body onload="${EFFECT}">`,
  `<style>@import 'javascript:alert(1)'; body{display:none}</style>`,
  `<div style="position:fixed;inset:0;z-index:9;background:red">cover</div>`,
  `[markdown link](javascript:${encodeURIComponent(EFFECT)})`,
  `[upper](JAVASCRIPT:alert(1))`,
  `[data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)`,
  `<a href="javascript:${EFFECT.replaceAll('"', "&quot;")}">html link</a>`,
  `<a href=" jAvAsCrIpT:alert(1)">spaced link</a>`,
  `<form action="javascript:alert(1)"><button>go</button></form>`,
  "Plain text after the payloads.",
].join("\n\n");

const SCRIPT = {
  default: { answer: "OK", latency_ms: 50, chunks: 2 },
  models: {
    a: { answer: ANSWER, latency_ms: 300, chunk_delay_ms: 120, chunks: 40 },
    b: { answer: ANSWER.replace("blind spots", "weak spots"), latency_ms: 500, chunk_delay_ms: 140, chunks: 40 },
    xss: { answer: XSS, latency_ms: 50, chunk_delay_ms: 20, chunks: 10 },
    links: {
      answer: "See [the docs](https://example.com/docs?q=1), [no](javascript:alert(1)) and <a href=\"file:///etc/passwd\">a file</a>.",
      latency_ms: 50,
    },
    // Streams a little, then hangs: there is time to cancel it.
    slow: { answer: "A slow start. ".repeat(40), latency_ms: 50, chunk_delay_ms: 3000, chunks: 40 },
  },
};

const cardState = (model) => {
  const c = document.querySelector(`[data-testid=model-card][data-model="${model}"]`);
  if (!c) return null;
  return {
    status: c.dataset.status,
    text: c.querySelector("[data-testid=card-body]").innerText.trim(),
    timer: c.querySelector("[data-testid=card-timer]").textContent.trim(),
  };
};

describe("the desktop app", () => {
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

  it("streams a roundtable into its cards and resolves it", async () => {
    await (await browser.$("[data-testid=prompt]")).setValue("Why do several models beat one? (e2e-zebra)");
    const inputs = await browser.$$("[data-testid=model-input]");
    await inputs[0].setValue("fake/a");
    await (await browser.$("[data-testid=add-model]")).click();
    await (await browser.$$("[data-testid=model-input]"))[1].setValue("fake/b");
    await (await browser.$("[data-testid=run]")).click();

    // Partial text while the card is still streaming, and a ticking timer.
    const streaming = (model) => {
      const c = document.querySelector(`[data-testid=model-card][data-model="${model}"]`);
      const s = c && {
        status: c.dataset.status,
        text: c.querySelector("[data-testid=card-body]").innerText.trim(),
        timer: c.querySelector("[data-testid=card-timer]").textContent.trim(),
      };
      return s && s.status === "streaming" && s.text.length > 60 && s.timer !== "0 ms" ? s : null;
    };
    const partial = await waitInPage(browser, streaming, ["fake/a"], {
      message: "fake/a never showed partial text while streaming",
    });
    assert.ok(partial.text.length < ANSWER.length, "the first look is partial");
    await browser.saveScreenshot(join(artifacts, "workbench-mid-run.png"));
    await waitInPage(
      browser,
      (model, t0) =>
        document.querySelector(`[data-testid=model-card][data-model="${model}"] [data-testid=card-timer]`)?.textContent.trim() !== t0,
      ["fake/a", partial.timer],
      { message: "the timer did not tick" },
    );

    // Both answer; the resolved answer appears.
    const resolved = await waitInPage(
      browser,
      () => {
        const phase = document.querySelector("[data-testid=run-phase]")?.textContent ?? "";
        const body = document.querySelector("[data-testid=resolved-body]")?.innerText ?? "";
        return phase.includes("Completed") && body.includes("blind spots") ? body : null;
      },
      [],
      { message: "the run did not complete with a resolved answer" },
    );
    assert.match(resolved, /consolidation keeps the best/);
    const b = await browser.execute(cardState, "fake/b");
    assert.equal(b.status, "done");
    assert.match(b.text, /weak spots/);
    await browser.saveScreenshot(join(artifacts, "workbench-done.png"));
  });

  it("finds the run in the history and exports it", async () => {
    await (await browser.$("[data-testid=nav-history]")).click();
    await (await browser.$("[data-testid=history-search]")).setValue("zebra");
    await waitInPage(
      browser,
      () => {
        const items = [...document.querySelectorAll("[data-testid=history-item]")];
        return items.length === 1 && items[0].innerText.includes("e2e-zebra");
      },
      [],
      { message: "the history search did not find the run" },
    );
    // The date filter reaches the history too: the run is from today.
    await (await browser.$("[data-testid=history-period]")).selectByAttribute("value", "today");
    await waitInPage(browser, () => document.querySelectorAll("[data-testid=history-item]").length === 1, [], {
      message: "today's run is not among today's",
    });
    await (await browser.$("[data-testid=history-item] input[type=checkbox]")).click();
    await (await browser.$("[data-testid=export-format]")).selectByAttribute("value", "json");
    await (await browser.$("[data-testid=export]")).click();
    await (await browser.$("[data-testid=export-notice]")).waitForDisplayed({ timeout: 15_000 });
    await browser.saveScreenshot(join(artifacts, "history.png"));
    const files = readdirSync(app.exportDir);
    assert.equal(files.length, 1, `one export file, got ${files}`);
    assert.match(files[0], /\.json$/);
    const text = readFileSync(join(app.exportDir, files[0]), "utf8");
    assert.match(text, /e2e-zebra/);
    assert.doesNotThrow(() => JSON.parse(text));
  });

  it("renders a model's XSS payloads inert", async () => {
    await (await browser.$("[data-testid=nav-workbench]")).click();
    await (await browser.$("[data-testid=prompt]")).setValue("Show me some HTML");
    await (await browser.$$("[data-testid=model-input]"))[0].setValue("fake/xss");
    await (await browser.$('button[aria-label="Remove model 2"]')).click();
    await (await browser.$("button=Fast")).click();
    // Count every IPC call from here on, at the transport (Tauri's invoke is
    // read-only): on Linux a call is a fetch of ipc://localhost/<command>, or a
    // message to window.ipc. A payload calling invoke() would show up here.
    const wrapped = await browser.execute(() => {
      window.__ipcCalls = [];
      const fetch0 = window.fetch;
      window.fetch = function (input, ...rest) {
        const url = typeof input === "string" ? input : input?.url ?? "";
        if (/^(ipc:|https?:\/\/ipc\.localhost)/.test(url)) window.__ipcCalls.push(decodeURIComponent(new URL(url).pathname.slice(1)));
        return fetch0.call(this, input, ...rest);
      };
      if (window.ipc?.postMessage) {
        const post0 = window.ipc.postMessage.bind(window.ipc);
        window.ipc.postMessage = (m) => {
          try {
            window.__ipcCalls.push(JSON.parse(m).cmd);
          } catch {
            window.__ipcCalls.push("?");
          }
          return post0(m);
        };
      }
      return window.fetch !== fetch0;
    });
    assert.ok(wrapped, "could not wrap the IPC transport");
    await (await browser.$("[data-testid=run]")).click();
    await waitInPage(
      browser,
      () => {
        const s = document.querySelector('[data-testid=model-card][data-model="fake/xss"]');
        return s?.dataset.status === "done" && s.innerText.includes("Plain text after the payloads");
      },
      [],
      { message: "the XSS answer did not render" },
    );
    // Follow every link the answer has (the app must neither run nor navigate).
    for (const link of await browser.$$("[data-testid=card-body] a")) await link.click();
    await assert.rejects(browser.getAlertText(), "an alert was opened");
    const report = await browser.execute(() => {
      const body = document.querySelector('[data-testid=model-card][data-model="fake/xss"] [data-testid=card-body]');
      const bad = [];
      body.querySelectorAll("script, iframe, object, embed, style, form, input, svg, video, source").forEach((el) => bad.push(el.tagName));
      body.querySelectorAll("*").forEach((el) => {
        for (const a of el.attributes) {
          if (/^on/i.test(a.name) || a.name === "style" || a.name === "srcdoc") bad.push(`${el.tagName}[${a.name}]`);
          if (/^\s*(javascript|vbscript|data):/i.test(a.value) && a.name !== "src") bad.push(`${el.tagName}[${a.name}=${a.value.slice(0, 20)}]`);
        }
      });
      return { bad, pwned: window.__pwned ?? null, title: document.title, calls: window.__ipcCalls, href: location.href };
    });
    assert.deepEqual(report.bad, [], "inert DOM");
    assert.equal(report.pwned, null, "no payload ran");
    assert.equal(report.title, "Roundtable");
    assert.ok(report.calls.includes("run_roundtable"), `the IPC counter works: ${report.calls}`);
    // The app's own: the history, the run's cost estimate and the budget (asked again as the history changes).
    const allowed = new Set(["run_roundtable", "list_runs", "get_run", "estimate_run", "budget_status", "plugin:event|listen", "plugin:event|unlisten", "plugin:__TAURI_CHANNEL__|fetch"]);
    assert.deepEqual(report.calls.filter((c) => !allowed.has(c)), [], "no unexpected IPC call");
    assert.doesNotMatch(report.href, /^javascript:|^data:/);
    // And nothing reached the keychain through another path.
    const openai = await browser.execute(async () =>
      (await window.__TAURI_INTERNALS__.invoke("list_providers")).find((p) => p.id === "openai"),
    );
    assert.equal(openai.key_source, "missing");
    await browser.saveScreenshot(join(artifacts, "xss.png"));
  });

  it("opens an answer's http(s) link in the system browser, and nothing else", async () => {
    await (await browser.$("[data-testid=nav-workbench]")).click();
    await (await browser.$("[data-testid=prompt]")).setValue("Where are the docs?");
    await (await browser.$$("[data-testid=model-input]"))[0].setValue("fake/links");
    await (await browser.$("[data-testid=run]")).click();
    await waitInPage(
      browser,
      () => document.querySelector('[data-testid=model-card][data-model="fake/links"]')?.dataset.status === "done",
      [],
      { message: "the links answer did not arrive" },
    );
    for (const link of await browser.$$('[data-testid=model-card][data-model="fake/links"] [data-testid=card-body] a')) await link.click();
    await browser.waitUntil(() => existsSync(app.openedFile), { timeout: 10_000, timeoutMsg: "nothing was opened" });
    // The capability refuses any other scheme, and a program of the page's choosing.
    const refused = await browser.execute(async () => {
      const out = [];
      for (const args of [{ url: "javascript:alert(1)" }, { url: "file:///etc/passwd" }, { url: "https://example.com/x", with: "sh" }]) {
        try {
          await window.__TAURI_INTERNALS__.invoke("plugin:opener|open_url", args);
          out.push(`allowed ${JSON.stringify(args)}`);
        } catch {
          out.push("refused");
        }
      }
      return { out, href: location.href };
    });
    assert.deepEqual(refused.out, ["refused", "refused", "refused"]);
    assert.doesNotMatch(refused.href, /example\.com/, "the window did not navigate");
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(readFileSync(app.openedFile, "utf8").trim().split("\n"), ["https://example.com/docs?q=1"]);
  });

  it("turns the local API on from Settings, serves a real call into the History, and turns it off", async () => {
    const port = await freePort();
    await (await browser.$("[data-testid=nav-settings]")).click();
    const portInput = await browser.$("[data-testid=local-api-port]");
    await portInput.waitForDisplayed({ timeout: 10_000 });
    await portInput.setValue(String(port));
    await (await browser.$("[data-testid=local-api-switch]")).click();
    await waitInPage(
      browser,
      (url) => document.querySelector("[data-testid=local-api-state]")?.textContent.includes("On") && document.querySelector("[data-testid=local-api-url]")?.textContent.includes(url),
      [`http://127.0.0.1:${port}`],
      { message: "the local API did not start" },
    );
    assert.doesNotMatch(await (await browser.$("[data-testid=local-api-token]")).getText(), /[0-9a-f]{16}/, "the token is hidden");
    await (await browser.$("[data-testid=local-api-reveal]")).click();
    const token = await waitInPage(browser, () => {
      const t = document.querySelector("[data-testid=local-api-token]")?.textContent.trim() ?? "";
      return /^[0-9a-f]{64}$/.test(t) ? t : null;
    }, [], { message: "the token was not revealed" });
    const curl = await (await browser.$("[data-testid=local-api-curl]")).getText();
    assert.match(curl, new RegExp(`curl -s http://127\\.0\\.0\\.1:${port}/v3/roundtable`));
    assert.ok(curl.includes(`Bearer ${token}`));
    await browser.saveScreenshot(join(artifacts, "settings-local-api.png"));

    const base = `http://127.0.0.1:${port}`;
    const health = await fetch(`${base}/healthz`);
    assert.equal(health.status, 200);
    assert.equal((await health.json()).status, "ok");
    const body = JSON.stringify({ input: "Called over HTTP (e2e-okapi)", models: [{ name: "fake/quick" }], resolution: "fast" });
    const denied = await fetch(`${base}/v3/roundtable`, { method: "POST", headers: { "Content-Type": "application/json" }, body });
    assert.equal(denied.status, 401);
    const r = await fetch(`${base}/v3/roundtable`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
      body,
    });
    assert.equal(r.status, 200);
    const response = await r.json();
    assert.equal(response.model_results[0].data, "OK");

    await (await browser.$("[data-testid=nav-history]")).click();
    const search = await browser.$("[data-testid=history-search]");
    await search.clearValue();
    await search.setValue("okapi");
    await waitInPage(
      browser,
      (id) => {
        const items = [...document.querySelectorAll("[data-testid=history-item]")];
        return items.length === 1 && items[0].dataset.id === id;
      },
      [response.id],
      { message: "the local API's run did not show in the History" },
    );

    await (await browser.$("[data-testid=nav-settings]")).click();
    await (await browser.$("[data-testid=local-api-switch]")).click();
    await waitInPage(browser, () => document.querySelector("[data-testid=local-api-state]")?.textContent.includes("Off"), [], {
      message: "the local API did not stop",
    });
    await assert.rejects(fetch(`${base}/healthz`), "nothing listens any more");
    const config = readFileSync(join(app.home, "config.toml"), "utf8");
    assert.match(config, /^# written by the e2e harness/, "comments kept");
    assert.match(config, /\[providers\.fake\]   # the fake provider/);
    assert.match(config, /local_api = false/);
    assert.match(config, new RegExp(`port = ${port}`));
  });

  it("says so when the local API's port is taken", async () => {
    const { createServer } = await import("node:net");
    const holder = createServer();
    await new Promise((ok) => holder.listen(0, "127.0.0.1", ok));
    const taken = holder.address().port;
    try {
      const portInput = await browser.$("[data-testid=local-api-port]");
      await portInput.setValue(String(taken));
      await (await browser.$("[data-testid=local-api-switch]")).click();
      const message = await waitInPage(browser, () => document.querySelector("[data-testid=local-api-error]")?.textContent ?? null, [], {
        message: "no error for a taken port",
      });
      assert.match(message, new RegExp(`port ${taken} is already in use`));
      assert.equal(await (await browser.$("[data-testid=local-api-switch]")).isSelected(), false);
      assert.match(await (await browser.$("[data-testid=local-api-state]")).getText(), /Off/);
    } finally {
      holder.close();
    }
  });

  it("cancels a run: the hanging card keeps its partial answer, the History says interrupted", async () => {
    await (await browser.$("[data-testid=nav-workbench]")).click();
    await (await browser.$("[data-testid=prompt]")).setValue("A question to cancel (e2e-heron)");
    await (await browser.$$("[data-testid=model-input]"))[0].setValue("fake/quick");
    await (await browser.$("[data-testid=add-model]")).click();
    await (await browser.$$("[data-testid=model-input]"))[1].setValue("fake/slow");
    await (await browser.$("[data-testid=run]")).click();
    await waitInPage(
      browser,
      () => {
        const q = document.querySelector('[data-testid=model-card][data-model="fake/quick"]');
        const s = document.querySelector('[data-testid=model-card][data-model="fake/slow"]');
        return q?.dataset.status === "done" && s?.dataset.status === "streaming" && s.querySelector("[data-testid=card-body]").innerText.includes("A slow start");
      },
      [],
      { message: "the slow model never streamed" },
    );
    await (await browser.$("[data-testid=cancel]")).click();
    const ended = await waitInPage(
      browser,
      () => {
        const phase = document.querySelector("[data-testid=run-phase]")?.textContent ?? "";
        const s = document.querySelector('[data-testid=model-card][data-model="fake/slow"]');
        return phase.includes("Cancelled") && s?.dataset.status === "cancelled"
          ? { slow: s.querySelector("[data-testid=card-body]").innerText, quick: document.querySelector('[data-testid=model-card][data-model="fake/quick"]').dataset.status }
          : null;
      },
      [],
      { timeout: 15_000, message: "the run was not cancelled" },
    );
    assert.match(ended.slow, /A slow start/, "the partial answer is kept");
    assert.equal(ended.quick, "done");
    await browser.saveScreenshot(join(artifacts, "cancelled.png"));
    await (await browser.$("[data-testid=nav-history]")).click();
    const search = await browser.$("[data-testid=history-search]");
    await search.clearValue();
    await search.setValue("heron");
    await waitInPage(
      browser,
      () => {
        const items = [...document.querySelectorAll("[data-testid=history-item]")];
        return items.length === 1 && items[0].querySelector(".badge")?.textContent.trim() === "interrupted";
      },
      [],
      { message: "the History does not show the run as interrupted" },
    );
  });

  it("re-runs and re-resolves a run from the History", async () => {
    const search = await browser.$("[data-testid=history-search]");
    await search.clearValue();
    await search.setValue("zebra");
    const zebras = (n) => {
      const items = [...document.querySelectorAll("[data-testid=history-item]")];
      return items.length === n && items.every((i) => i.innerText.includes("e2e-zebra")) ? items.map((i) => i.dataset.id) : null;
    };
    const [one] = await waitInPage(browser, zebras, [1], { message: "the first run is not in the History" });
    await (await browser.$(`[data-testid=history-item][data-id="${one}"] button.item`)).click();
    await (await browser.$("button=Re-run")).click();
    const completed = (origin) => {
      if (document.querySelector("[data-testid=run-head]")?.dataset.origin !== origin) return false;
      const phase = document.querySelector("[data-testid=run-phase]")?.textContent ?? "";
      const body = document.querySelector("[data-testid=resolved-body]")?.innerText ?? "";
      return phase.includes("Completed") && body.includes("blind spots");
    };
    await waitInPage(browser, completed, ["rerun"], { message: "the re-run did not complete" });

    await (await browser.$("[data-testid=nav-history]")).click();
    const search2 = await browser.$("[data-testid=history-search]");
    await search2.clearValue();
    await search2.setValue("zebra");
    await waitInPage(browser, zebras, [2], {
      message: "the re-run is not a new run in the History",
    });
    await (await browser.$(`[data-testid=history-item][data-id="${one}"] button.item`)).click();
    await (await browser.$("button=Re-resolve")).click();
    // The stored answers are carried over at once; only the summary is asked for.
    await waitInPage(
      browser,
      () => {
        if (document.querySelector("[data-testid=run-head]")?.dataset.origin !== "resolve") return false;
        const b = document.querySelector('[data-testid=model-card][data-model="fake/b"]');
        return b?.dataset.status === "done" && b.innerText.includes("weak spots");
      },
      [],
      { timeout: 3_000, message: "the stored answers were not carried over" },
    );
    await waitInPage(browser, completed, ["resolve"], { message: "the re-resolve did not complete" });
    await (await browser.$("[data-testid=nav-history]")).click();
    const search3 = await browser.$("[data-testid=history-search]");
    await search3.clearValue();
    await search3.setValue("zebra");
    await waitInPage(browser, zebras, [3], {
      message: "the re-resolve is not a new run in the History",
    });
  });

  it("adds a provider of its own in Settings, and runs it at once", async () => {
    await (await browser.$("[data-testid=nav-settings]")).click();
    await (await browser.$("input[aria-label=\"New provider's id\"]")).setValue("lab");
    await (await browser.$("input[aria-label=\"New provider's base URL\"]")).setValue(`${app.url}/v1`);
    await (await browser.$("button=Add provider")).click();
    await waitInPage(browser, () => !!document.querySelector('[data-testid=provider][data-id="lab"]'), [], {
      message: "the new provider is not listed",
    });
    await (await browser.$('[data-testid=provider][data-id="lab"]')).scrollIntoView();
    await browser.saveScreenshot(join(artifacts, "settings-providers.png"));
    const config = readFileSync(join(app.home, "config.toml"), "utf8");
    assert.match(config, /\[providers\.lab\]\nformat = "openai"\nbase_url = "http:\/\/127\.0\.0\.1:\d+\/v1"/);
    assert.match(config, /# the fake provider/, "the rest of config.toml is kept");

    await (await browser.$("[data-testid=nav-workbench]")).click();
    const prompt = await browser.$("[data-testid=prompt]");
    await prompt.clearValue();
    await prompt.setValue("Asked through a provider added a moment ago (e2e-lab)");
    const inputs = await browser.$$("[data-testid=model-input]");
    await inputs[0].clearValue();
    await inputs[0].setValue("lab/a");
    for (const extra of (await browser.$$("[data-testid=model-input]")).slice(1)) await extra.clearValue();
    await (await browser.$("[data-testid=run]")).click();
    const card = await waitInPage(
      browser,
      () => {
        const c = document.querySelector('[data-testid=model-card][data-model="lab/a"]');
        return c?.dataset.status === "done" ? c.innerText : null;
      },
      [],
      { message: "the new provider's model did not answer" },
    );
    assert.match(card, /blind spots/);
  });
});
