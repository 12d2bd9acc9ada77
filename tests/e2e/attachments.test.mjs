// End to end, attachments (issue 18): an image dropped on the workbench and a
// text file picked through the shell's open dialog go with the prompt to a
// panel of three wire formats (OpenAI-compatible, Anthropic, Gemini, all
// served by the fake provider), each of which must receive the image in its
// own shape and the text file fenced under its name; the run reopened from the
// History shows its files (the image's thumbnail fetched back by its hash) and
// a re-run sends them again; a PDF goes to the two formats that take one while
// the OpenAI-compatible server fails alone, "unsupported", saying why.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { artifacts, darkScreenshot, startApp, waitInPage } from "./harness.mjs";

const NOTES = "# Field notes\n\nThe square is red, about 64 by 48 pixels.\n";
const SCRIPT = {
  default: {
    answer: "I see no file.",
    // The text file is in the prompt, fenced under its name, for every format.
    answer_when: [["File: notes.md", "A red rectangle with a white centre; notes.md agrees it is red."]],
    latency_ms: 50,
    chunks: 3,
  },
};
const PANEL = ["fake/seer", "fakeant/seer", "fakegem/seer"];

/**
 * Drops a file built in the page on the prompt, as the OS would: `kind` is
 * "png" (a 64×48 PNG drawn on a canvas: red, a white rectangle in the
 * middle), "pdf" (a one-page PDF's bytes) or "exe". With `hold`, only drags it
 * over; `window.__dropIt()` then drops it. Returns whether the page took the
 * dragover, and the file's bytes as base64.
 */
async function dropInPage(browser, kind, { hold = false } = {}) {
  // WebDriver cannot drag a file from the OS onto the window: the page builds
  // the File itself and dispatches the HTML5 events a real drop sends
  // (dragenter, dragover, drop) with a DataTransfer holding it. Everything
  // from there on (the page's handlers, reading, the run) is the real path.
  return browser.execute(
    async (kind, hold) => {
      let file;
      if (kind === "png") {
        const c = document.createElement("canvas");
        c.width = 64;
        c.height = 48;
        const g = c.getContext("2d");
        g.fillStyle = "#e11d48";
        g.fillRect(0, 0, 64, 48);
        g.fillStyle = "#ffffff";
        g.fillRect(20, 14, 24, 20);
        const blob = await new Promise((ok) => c.toBlob(ok, "image/png"));
        file = new File([blob], "red-square.png", { type: "image/png" });
      } else if (kind === "pdf") {
        const text = "%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";
        file = new File([text], "brief.pdf", { type: "application/pdf" });
      } else {
        file = new File([new Uint8Array([0x4d, 0x5a, 0x90, 0x00, 0x03])], "setup.exe", { type: "application/x-msdownload" });
      }
      const dt = new DataTransfer();
      dt.items.add(file);
      const target = document.querySelector("[data-testid=prompt]");
      const send = (type) => target.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
      send("dragenter");
      const taken = !send("dragover"); // default prevented: the page takes the drop
      window.__dropIt = () => send("drop");
      if (!hold) window.__dropIt();
      const b64 = await new Promise((ok) => {
        const r = new FileReader();
        r.onload = () => ok(String(r.result).split(",")[1]);
        r.readAsDataURL(file);
      });
      return { taken, b64 };
    },
    kind,
    hold,
  );
}

/** Finds, anywhere in `value`, an object for which `match` holds. */
function find(value, match) {
  if (value && typeof value === "object") {
    if (!Array.isArray(value) && match(value)) return value;
    for (const v of Object.values(value)) {
      const hit = find(v, match);
      if (hit) return hit;
    }
  }
  return null;
}

/** The image, in each format's own shape, as the fake recorded it. */
const IMAGE_IN = {
  openai: (b64) => (o) => o.type === "image_url" && o.image_url?.url === `data:image/png;base64,${b64}`,
  anthropic: (b64) => (o) => o.type === "image" && o.source?.type === "base64" && o.source.media_type === "image/png" && o.source.data === b64,
  gemini: (b64) => (o) => (o.inline_data ?? o.inlineData)?.data === b64 && (o.inline_data?.mime_type ?? o.inlineData?.mimeType) === "image/png",
};

describe("attachments", () => {
  let app;
  let browser;
  let png;
  const picked = join(mkdtempSync(join(tmpdir(), "roundtable-pick-")), "notes.md");
  writeFileSync(picked, NOTES);

  const requests = async () => (await (await fetch(`${app.url}/_fake/requests`)).json()).filter((r) => r.model === "seer");
  const completed = (origin) => {
    const head = document.querySelector("[data-testid=run-head]");
    const phase = document.querySelector("[data-testid=run-phase]")?.textContent ?? "";
    return head?.dataset.origin === origin && !phase.includes("Running") ? phase : null;
  };

  before(async () => {
    app = await startApp(SCRIPT, {
      // The other two wire formats, served by the same fake (loopback: no key).
      config: (url) => `[providers.fakeant]\nformat = "anthropic"\nbase_url = "${url}"\nmax_concurrency = 16\n[providers.fakegem]\nformat = "gemini"\nbase_url = "${url}/v1beta"\nmax_concurrency = 16\n`,
      // The open dialog of "Attach files" answers with this file.
      env: { ROUNDTABLE_E2E_PICK: picked },
    });
    browser = app.browser;
    await (await browser.$("[data-testid=prompt]")).waitForDisplayed({ timeout: 30_000 });
  });
  after(async () => {
    await app?.stop();
  });

  it("attaches an image by drop and a text file through the picker, and each wire format receives them", async () => {
    await (await browser.$("[data-testid=prompt]")).setValue("What is in the picture? (e2e-ibis)");
    for (const [i, model] of PANEL.entries()) {
      if (i > 0) await (await browser.$("[data-testid=add-model]")).click();
      await (await browser.$$("[data-testid=model-input]"))[i].setValue(model);
    }
    await (await browser.$("button=Fast")).click();

    // Held over the window first: the page says it will take the drop.
    const held = await dropInPage(browser, "png", { hold: true });
    assert.equal(held.taken, true, "dragover with files is the page's");
    await waitInPage(browser, () => document.querySelector("[data-testid=drop-overlay]"), [], { message: "no drop overlay while files are held over the window" });
    await browser.pause(300); // a frame painted with the overlay
    await browser.saveScreenshot(join(artifacts, "attachments-drop.png"));
    await browser.execute(() => window.__dropIt());
    png = held.b64;
    const thumb = await waitInPage(browser, () => {
      const img = document.querySelector("[data-testid=attachment-tray] [data-testid=attachment-thumb]");
      return img?.complete && img.naturalWidth > 0 ? { w: img.naturalWidth, src: img.src.slice(0, 22) } : null;
    }, [], { message: "the dropped image shows no thumbnail" });
    assert.deepEqual(thumb, { w: 64, src: "data:image/png;base64," });
    assert.equal(await browser.execute(() => document.querySelector("[data-testid=drop-overlay]")), null);

    await (await browser.$("[data-testid=attach-files]")).click();
    const chips = await waitInPage(browser, () => {
      const list = [...document.querySelectorAll("[data-testid=attachment-tray] [data-testid=attachment]")];
      return list.length === 2 ? list.map((c) => ({ name: c.dataset.name, kind: c.dataset.kind, meta: c.querySelector("[data-testid=attachment-meta]").textContent })) : null;
    }, [], { message: "the picked text file did not join the tray" });
    assert.deepEqual(chips.map((c) => [c.name, c.kind]), [["red-square.png", "image"], ["notes.md", "text"]]);
    assert.match(chips[0].meta, /^PNG · \d+ B$/);
    assert.match(chips[1].meta, /^MD · \d+ B$/);

    // A file no model takes is refused by the page, naming it.
    await dropInPage(browser, "exe");
    const refused = await waitInPage(browser, () => document.querySelector("[data-testid=attach-error]")?.textContent, []);
    assert.match(refused, /“setup\.exe” \(application\/x-msdownload\) cannot be attached/);
    await browser.pause(300); // a frame painted with the refusal
    await browser.saveScreenshot(join(artifacts, "attachments-tray.png"));

    await (await browser.$("[data-testid=run]")).click();
    const phase = await waitInPage(browser, completed, ["run"], { message: "the run did not end" });
    assert.match(phase, /Completed/);
    const cards = await browser.execute(() =>
      [...document.querySelectorAll("[data-testid=model-card]")].map((c) => [c.dataset.model, c.dataset.status, c.querySelector("[data-testid=card-body]").innerText.trim()]),
    );
    for (const model of PANEL) {
      const card = cards.find((c) => c[0] === model);
      assert.equal(card?.[1], "done", `${model}: ${JSON.stringify(card)}`);
      assert.match(card[2], /notes\.md agrees it is red/, model);
    }

    const seen = await requests();
    for (const format of ["openai", "anthropic", "gemini"]) {
      const sent = seen.filter((r) => r.format === format);
      assert.equal(sent.length, 1, `${format}: one call`);
      assert.ok(find(sent[0].body, IMAGE_IN[format](png)), `${format} received the image in its own shape: ${JSON.stringify(sent[0].body).slice(0, 600)}`);
      assert.ok(JSON.stringify(sent[0].body).includes("File: notes.md"), `${format}: the text file fenced under its name`);
      assert.ok(JSON.stringify(sent[0].body).includes("The square is red"), `${format}: the text file's text`);
    }
    await browser.saveScreenshot(join(artifacts, "attachments-run.png"));
    await darkScreenshot(browser, "attachments-run");
  });

  it("reopens the run from the History with its files, and a re-run sends them again", async () => {
    await (await browser.$("[data-testid=nav-history]")).click();
    await (await browser.$("[data-testid=history-search]")).setValue("ibis");
    await waitInPage(browser, () => document.querySelectorAll("[data-testid=history-item]").length === 1, [], { message: "the run is not in the History" });
    await (await browser.$("[data-testid=history-item] button.item")).click();
    const shown = await waitInPage(browser, () => {
      const list = document.querySelector("[data-testid=run-attachments]");
      const img = list?.querySelector("[data-testid=attachment-thumb]");
      return img?.complete && img.naturalWidth > 0
        ? { names: [...list.querySelectorAll("[data-testid=attachment]")].map((c) => c.dataset.name), w: img.naturalWidth }
        : null;
    }, [], { message: "the History shows no files, or no thumbnail fetched by hash" });
    assert.deepEqual(shown, { names: ["red-square.png", "notes.md"], w: 64 });
    await browser.saveScreenshot(join(artifacts, "attachments-history.png"));
    await darkScreenshot(browser, "attachments-history");

    // Opened into the workbench: the tray holds them again, bytes fetched back.
    await (await browser.$("[data-testid=open-run]")).click();
    const tray = await waitInPage(browser, () => {
      const list = [...document.querySelectorAll("[data-testid=attachment-tray] [data-testid=attachment]")];
      const img = document.querySelector("[data-testid=attachment-tray] [data-testid=attachment-thumb]");
      return list.length === 2 && img?.naturalWidth > 0 ? list.map((c) => c.dataset.name) : null;
    }, [], { message: "the opened run's files are not in the tray" });
    assert.deepEqual(tray, ["red-square.png", "notes.md"]);

    await (await browser.$("[data-testid=nav-history]")).click();
    await (await browser.$("[data-testid=history-item] button.item")).click();
    await (await browser.$("button=Re-run")).click();
    const phase = await waitInPage(browser, completed, ["rerun"], { message: "the re-run did not end" });
    assert.match(phase, /Completed/);
    const seen = await requests();
    for (const format of ["openai", "anthropic", "gemini"]) {
      const sent = seen.filter((r) => r.format === format);
      assert.equal(sent.length, 2, `${format}: called again`);
      assert.ok(find(sent[1].body, IMAGE_IN[format](png)), `${format}: the re-run sent the image again`);
      assert.ok(JSON.stringify(sent[1].body).includes("File: notes.md"), `${format}: and the text file`);
    }
  });

  it("a PDF goes to the formats that take one; the OpenAI-compatible server fails alone, unsupported, saying why", async () => {
    await (await browser.$("[data-testid=nav-workbench]")).click();
    for (let n = 2; n > 0; n--) {
      await (await browser.$("[data-testid=attachment-tray] [data-testid=remove-attachment]")).click();
      await waitInPage(browser, (n) => document.querySelectorAll("[data-testid=attachment-tray] [data-testid=attachment]").length === n - 1, [n]);
    }
    await (await browser.$("[data-testid=prompt]")).setValue("Summarise the brief. (e2e-ibis-pdf)");
    await dropInPage(browser, "pdf");
    await waitInPage(browser, () => document.querySelector('[data-testid=attachment-tray] [data-testid=attachment][data-kind="pdf"]'), [], { message: "the PDF did not join the tray" });
    await (await browser.$("[data-testid=run]")).click();
    await waitInPage(browser, completed, ["run"], { message: "the PDF run did not end" });
    const cards = await browser.execute(() =>
      Object.fromEntries([...document.querySelectorAll("[data-testid=model-card]")].map((c) => [c.dataset.model, { status: c.dataset.status, outcome: c.dataset.outcome, error: c.querySelector("[data-testid=card-error]")?.innerText ?? null }])),
    );
    assert.equal(cards["fake/seer"].outcome, "unsupported", JSON.stringify(cards));
    assert.equal(cards["fake/seer"].status, "failed");
    assert.match(cards["fake/seer"].error, /brief\.pdf.*takes no PDF/s);
    assert.equal(cards["fakeant/seer"].status, "done");
    assert.equal(cards["fakegem/seer"].status, "done");
    const seen = await requests();
    assert.equal(seen.filter((r) => r.format === "openai").length, 2, "the OpenAI-compatible server was not called");
    const pdf = seen.filter((r) => r.format === "anthropic").at(-1);
    assert.ok(find(pdf.body, (o) => o.type === "document" && o.source?.media_type === "application/pdf"), "Anthropic got a document block");
    await browser.saveScreenshot(join(artifacts, "attachments-unsupported.png"));
    await darkScreenshot(browser, "attachments-unsupported");
  });
});
