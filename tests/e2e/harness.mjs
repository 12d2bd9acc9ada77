// The real app under WebDriver: a fake provider, a throwaway ROUNDTABLE_HOME,
// tauri-driver (which starts WebKitWebDriver, which starts the app), a session.
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { remote } from "webdriverio";

const here = dirname(fileURLToPath(import.meta.url));
export const root = resolve(here, "../..");
export const artifacts = join(here, "artifacts");
const target = process.env.CARGO_TARGET_DIR ? resolve(process.env.CARGO_TARGET_DIR) : join(root, "target");
const bin = (name) => join(target, process.env.E2E_PROFILE ?? "debug", name);

export function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.on("error", fail);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

/** Resolves with the first stdout line matching `pattern`, or fails after `ms`. */
function waitForLine(child, pattern, ms, what) {
  return new Promise((ok, fail) => {
    let seen = "";
    const timer = setTimeout(() => fail(new Error(`${what}: no "${pattern}" within ${ms} ms; output: ${seen}`)), ms);
    const on = (chunk) => {
      seen += chunk;
      const m = seen.match(pattern);
      if (m) {
        clearTimeout(timer);
        ok(m);
      }
    };
    child.stdout.on("data", on);
    child.stderr.on("data", (c) => (seen += c));
    child.on("exit", (code) => fail(new Error(`${what} exited (${code}): ${seen}`)));
  });
}

async function waitForStatus(port, ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/status`);
      if (r.ok) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`tauri-driver did not answer on port ${port} within ${ms} ms`);
}

/**
 * Kills what is left of an app session: the app (a grandchild, through
 * tauri-driver and WebKitWebDriver) and its WebKit processes, found by their
 * ROUNDTABLE_HOME. When the WebDriver session's end does not close the app, it
 * outlives tauri-driver holding the test file's output pipe, and `node --test`
 * waits on that pipe for good (seen once on a clean clone: every test passed
 * and the run never ended).
 */
function killLeftovers(home) {
  const mark = `ROUNDTABLE_HOME=${home}`;
  for (const pid of readdirSync("/proc")) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${pid}/environ`, "latin1").split("\0").includes(mark)) {
        process.kill(Number(pid), "SIGKILL");
      }
    } catch {
      // Gone already, or not ours to read.
    }
  }
}

/**
 * Starts everything for one app session. `script` is the fake provider's script;
 * `config(url)` adds to config.toml, given the fake provider's URL; `top` goes
 * before its first table (top-level keys: `price_files`), and `files` (name →
 * text) are written into the home before the app starts; `env` is added to the
 * app's environment (a test seam such as ROUNDTABLE_E2E_PICK).
 * Returns { browser, home, exportDir, openedFile (the URLs "opened in the
 * browser", a line each), url (the fake provider's), stop }.
 *
 * Without a GPU the app paints without WebKit's DMA-BUF renderer and
 * compositing (src-tauri/src/main.rs). In that mode WebKitGTK 2.50 answers a
 * WebDriver screenshot only at the page's next paint, so a screenshot of a
 * still page waits until something moves. The suite therefore keeps WebKit's
 * and GTK's GL paths as the libraries default them (Mesa's software GL here)
 * unless `appDefaults` is set, as the benchmark does to measure what users get.
 */
export async function startApp(script, { appDefaults = false, config = () => "", top = "", files = {}, env = {} } = {}) {
  mkdirSync(artifacts, { recursive: true });
  const tmp = mkdtempSync(join(tmpdir(), "roundtable-e2e-"));
  const home = join(tmp, "home");
  const exportDir = join(tmp, "exports");
  mkdirSync(home, { recursive: true });
  mkdirSync(exportDir, { recursive: true });
  writeFileSync(join(tmp, "script.json"), JSON.stringify(script));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(home, name), text);

  const children = [];
  const fake = spawn(bin("roundtable-fake-provider"), ["--script", join(tmp, "script.json")], { stdio: ["ignore", "pipe", "pipe"] });
  children.push(fake);
  const [, url] = await waitForLine(fake, /listening on (http:\/\/\S+)/, 15_000, "roundtable-fake-provider");
  // On loopback the fake counts as a local server; it says nothing of itself,
  // so it gets every model of a panel at once, as the suites expect.
  writeFileSync(
    join(home, "config.toml"),
    `# written by the e2e harness\n${top}[providers.fake]   # the fake provider\nformat = "openai"\nbase_url = "${url}/v1"\n${config(url)}`,
  );

  // The system browser, as far as the app can tell: an `xdg-open` first on PATH
  // that only notes the URL it was asked to open (nothing reaches a browser).
  const fakeBin = join(tmp, "bin");
  const openedFile = join(tmp, "opened.txt");
  mkdirSync(fakeBin);
  writeFileSync(join(fakeBin, "xdg-open"), `#!/bin/sh\nprintf '%s\\n' "$1" >> '${openedFile}'\n`);
  chmodSync(join(fakeBin, "xdg-open"), 0o755);

  const port = await freePort();
  const nativePort = await freePort();
  const driverBin = process.env.TAURI_DRIVER ?? join(root, ".tools/bin/tauri-driver");
  const driver = spawn(driverBin, ["--port", String(port), "--native-port", String(nativePort)], {
    stdio: ["ignore", "inherit", "inherit"],
    env: {
      ...process.env,
      PATH: `${fakeBin}:${process.env.PATH}`,
      ROUNDTABLE_HOME: home,
      ROUNDTABLE_E2E_EXPORT_DIR: exportDir,
      // The window's own storage (WebKit's localStorage: saved panels, blind
      // mode) is this session's alone, as on a fresh machine: shared, a
      // setting a suite left on leaked into the next ones whenever the app
      // was stopped before WebKit wrote it back.
      XDG_DATA_HOME: join(tmp, "data"),
      XDG_CACHE_HOME: join(tmp, "cache"),
      RUST_LOG: "warn",
      ...env,
      ...(appDefaults ? {} : { WEBKIT_DISABLE_DMABUF_RENDERER: "0", WEBKIT_DISABLE_COMPOSITING_MODE: "0", GDK_GL: "", WEBKIT_WEB_RENDER_DEVICE_FILE: "" }),
    },
  });
  children.push(driver);
  const stop = async (browser) => {
    if (browser) await browser.deleteSession().catch(() => {});
    for (const c of children.reverse()) c.kill("SIGTERM");
    killLeftovers(home);
  };
  try {
    await waitForStatus(port, 20_000);
    const browser = await remote({
      hostname: "127.0.0.1",
      port,
      logLevel: "warn",
      connectionRetryTimeout: 120_000,
      capabilities: {
        browserName: "wry",
        "wdio:enforceWebDriverClassic": true,
        "tauri:options": { application: bin("roundtable-desktop") },
      },
    });
    return { browser, home, exportDir, openedFile, url, driverPid: driver.pid, stop: () => stop(browser) };
  } catch (e) {
    await stop(null);
    throw e;
  }
}

/**
 * Waits for `fn` (run in the page) to return something truthy; returns it.
 * When it does not come, the error says what the page showed, and a
 * screenshot of it is saved as artifacts/failed-*.png.
 */
export async function waitInPage(browser, fn, args, { timeout = 30_000, message } = {}) {
  let last;
  const started = Date.now();
  try {
    await browser.waitUntil(
      async () => {
        last = await browser.execute(fn, ...args);
        return Boolean(last);
      },
      { timeout, interval: 150, timeoutMsg: message ?? `condition not met in ${timeout} ms` },
    );
  } catch (e) {
    const waited = Date.now() - started;
    const name = `failed-${(message ?? "wait").replace(/[^a-z0-9]+/gi, "-").slice(0, 60)}-${Date.now()}.png`;
    const page = await browser
      .execute(() => document.querySelector("main")?.innerText.replace(/\s+/g, " ").slice(0, 600))
      .catch((err) => `(the page did not answer: ${err.message})`);
    await browser.saveScreenshot(join(artifacts, name)).catch(() => {});
    e.message += ` (after ${waited} ms; last value ${JSON.stringify(last)}; the page showed: ${page}; screenshot ${name})`;
    throw e;
  }
  return last;
}

/**
 * Saves the page as it is now in the dark theme too (`<name>-dark.png`), by the
 * toggle a user clicks, then turns the light theme back on.
 */
export async function darkScreenshot(browser, name) {
  // The theme itself, not the toggle's label: the document's theme and the
  // colour the page is painted with (dark: a background of low luminance).
  const painted = (want) => {
    const bg = getComputedStyle(document.body).backgroundColor.match(/\d+(\.\d+)?/g)?.map(Number) ?? [];
    const [r, g, b] = bg;
    const luminance = (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
    const dark = luminance < 0.35;
    return document.documentElement.dataset.theme === want && bg.length >= 3 && dark === (want === "dark");
  };
  const toggle = async (label, want) => {
    await (await browser.$(`button[aria-label="${label}"]`)).click();
    await waitInPage(browser, painted, [want], { message: `the page is not painted ${want}` });
  };
  await toggle("Dark theme", "dark");
  await browser.saveScreenshot(join(artifacts, `${name}-dark.png`));
  await toggle("Light theme", "light");
}
