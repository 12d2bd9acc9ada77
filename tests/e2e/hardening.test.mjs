// End to end, against answers and a page that try what they should not: an
// image map whose <area href> would be a link nothing checks, background=
// images (tracking pixels), classes dressing an answer as the app's own
// buttons and errors; and a page naming where an export is written.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { artifacts, startApp, waitInPage, darkScreenshot } from "./harness.mjs";

// Where the hostile answer points: any request reaching it is a leak.
const hits = [];
const pixel = createServer((req, res) => {
  hits.push(req.url);
  res.writeHead(200, { "content-type": "image/gif" });
  res.end();
});
await new Promise((ok) => pixel.listen(0, "127.0.0.1", ok));
const out = `http://127.0.0.1:${pixel.address().port}`;

const INERT = [
  "An image map over a picture:",
  `<map name="m"><area shape="rect" coords="0,0,400,400" href="${out}/area-click" alt="area-link"></map><img usemap="#m" width="400" height="60" alt="mapped" src="data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7">`,
  `<area href="${out}/bare-area">bare area`,
  `<table background="${out}/table-bg.png"><tr><td background="${out}/cell-bg.png">cell with a background</td></tr></table>`,
  `<p class="error-box" role="alert">Your API key was refused: paste it again in the box below (e2e-forged)</p>`,
  `<div class="btn primary">Delete every run</div>`,
  "```rust\nfn main() { println!(\"still highlighted\"); }\n```",
  "End of the inert answer.",
].join("\n\n");

const SCRIPT = {
  default: { answer: "OK", latency_ms: 50, chunks: 2 },
  models: { inert: { answer: INERT, latency_ms: 50, chunk_delay_ms: 20, chunks: 8 } },
};

describe("hostile answers and pages", () => {
  let app;
  let browser;
  before(async () => {
    app = await startApp(SCRIPT);
    browser = app.browser;
    await (await browser.$("[data-testid=prompt]")).waitForDisplayed({ timeout: 30_000 });
  });
  after(async () => {
    await app?.stop();
    pixel.close();
  });

  it("renders an <area href> answer and a background= answer inert", async () => {
    await (await browser.$("[data-testid=prompt]")).setValue("Draw me an image map (e2e-inert)");
    await (await browser.$$("[data-testid=model-input]"))[0].setValue("fake/inert");
    await (await browser.$("button=Fast")).click();
    await (await browser.$("[data-testid=run]")).click();
    const body = '[data-testid=model-card][data-model="fake/inert"] [data-testid=card-body]';
    await waitInPage(
      browser,
      (sel) => document.querySelector(sel)?.innerText.includes("End of the inert answer"),
      [body],
      { message: "the inert answer did not render" },
    );
    const report = await browser.execute((sel) => {
      const root = document.querySelector(sel);
      const md = root.querySelector(".md");
      const bad = [];
      md.querySelectorAll("map, area, [usemap], [background], [id]").forEach((el) => bad.push(el.outerHTML.slice(0, 80)));
      md.querySelectorAll("[href]").forEach((el) => el.tagName !== "A" && bad.push(`${el.tagName}[href]`));
      md.querySelectorAll("[class]").forEach((el) => {
        const ok = el.closest("pre.code") && [...el.classList].every((c) => /^(hljs(-[\w-]+)?|language-[\w-]+|[a-z]+_+|code|code-lang)$/.test(c));
        if (!ok) bad.push(`class=${el.className}`);
      });
      const forged = [...md.querySelectorAll("p")].find((p) => p.textContent.includes("e2e-forged"));
      return {
        bad,
        forgedClass: forged?.getAttribute("class") ?? null,
        forgedRole: forged?.getAttribute("role") ?? null,
        forgedColor: forged ? getComputedStyle(forged).backgroundColor : null,
        alertColor: (() => {
          const probe = document.createElement("div");
          probe.className = "error-box";
          document.body.append(probe);
          const c = getComputedStyle(probe).backgroundColor;
          probe.remove();
          return c;
        })(),
        highlighted: md.querySelector("pre.code code.hljs .hljs-keyword")?.textContent ?? null,
        img: !!md.querySelector("img"),
      };
    }, body);
    assert.deepEqual(report.bad, [], "no map, area, background, id, or class of the answer's own");
    assert.equal(report.forgedClass, null, "the forged error has no class");
    assert.equal(report.forgedRole, null, "nor a role: it is not announced as an alert");
    assert.notEqual(report.forgedColor, report.alertColor, "and does not look like the app's error box");
    assert.equal(report.highlighted, "fn", "code is still highlighted");
    assert.ok(report.img, "the picture itself stays");
    // Where the area was: clicking does nothing (no browser, no navigation).
    const before = await browser.getUrl();
    await (await browser.$(`${body} img`)).click();
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(await browser.getUrl(), before, "the window did not navigate");
    assert.equal(existsSync(app.openedFile), false, "nothing was opened in the browser");
    assert.deepEqual(hits, [], "nothing reached the answer's server");
    await browser.saveScreenshot(join(artifacts, "inert-map-background.png"));
    await darkScreenshot(browser, "inert-map-background");
  });

  it("writes an export where the shell's dialog answers, whatever path the page names", async () => {
    const evil = join(tmpdir(), `roundtable-e2e-evil-${process.pid}.md`);
    const result = await browser.execute(async (path) => {
      const runs = await window.__TAURI_INTERNALS__.invoke("list_runs", { query: { text: "e2e-inert" } });
      const done = await window.__TAURI_INTERNALS__.invoke("export_runs", { ids: [runs[0].id], format: "md", path });
      return { id: runs[0].id, done };
    }, evil);
    assert.equal(existsSync(evil), false, "nothing written where the page said");
    assert.equal(result.done.path, join(app.exportDir, `roundtable-${result.id}.md`));
    assert.deepEqual(readdirSync(app.exportDir), [`roundtable-${result.id}.md`]);
    assert.match(readFileSync(result.done.path, "utf8"), /e2e-inert/);
    // The page cannot open a dialog of its own either.
    const dialog = await browser.execute(async () => {
      try {
        await window.__TAURI_INTERNALS__.invoke("plugin:dialog|save", { options: {} });
        return "allowed";
      } catch (e) {
        return `refused: ${e}`;
      }
    });
    assert.match(dialog, /^refused/);
  });
});
