// The desktop benchmark (`make bench`): cold start to first paint, the memory
// of all the app's processes (the binary, WebKitWebProcess,
// WebKitNetworkProcess) idle and after 10-model runs, and the web process's
// share of a core during those runs. Goals: first paint within 1 s, at most
// 200 MB, at most 15 % of a core. Needs a display (xvfb-run) and the release
// binaries. BENCH_RUNS sets how many 10-model runs (3), BENCH_STARTS how many
// cold starts (5; 0 to measure only the runs).
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { artifacts, root, startApp, waitInPage } from "./harness.mjs";

const profile = process.env.E2E_PROFILE ?? "release";
const binary = join(process.env.CARGO_TARGET_DIR ?? join(root, "target"), profile, "roundtable-desktop");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** pid → parent pid, for every process. */
function processTable() {
  const table = new Map();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      table.set(Number(d), ppid);
    } catch {
      /* gone */
    }
  }
  return table;
}

/** `pid` and all its descendants. */
function tree(pid) {
  const table = processTable();
  const pids = [pid];
  for (let i = 0; i < pids.length; i++) for (const [p, pp] of table) if (pp === pids[i]) pids.push(p);
  return pids;
}

/**
 * Memory of `pid` and all its descendants: the sum of VmRSS (which counts the
 * shared libraries, WebKit's and Mesa's, once per process) and the sum of PSS
 * (shared pages divided among the processes sharing them), in MB.
 */
function treeRss(pid) {
  const pids = tree(pid);
  let kb = 0;
  let pssKb = 0;
  const names = [];
  for (const p of pids) {
    try {
      const status = readFileSync(`/proc/${p}/status`, "utf8");
      const rss = Number(status.match(/VmRSS:\s+(\d+)/)?.[1] ?? 0);
      kb += rss;
      pssKb += Number(readFileSync(`/proc/${p}/smaps_rollup`, "utf8").match(/\nPss:\s+(\d+)/)?.[1] ?? 0);
      names.push(`${status.match(/Name:\s+(\S+)/)?.[1]}=${Math.round(rss / 1024)}MB`);
    } catch {
      /* gone */
    }
  }
  return { mb: kb / 1024, pss: pssKb / 1024, names };
}

/** CPU time (user + system) of `pid` and its descendants, per process name, in ms. */
function treeCpu(pid) {
  const pids = tree(pid);
  const tick = 10; // ms per clock tick (USER_HZ = 100 on Linux)
  const byName = {};
  for (const p of pids) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, "utf8");
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      byName[name] = (byName[name] ?? 0) + (Number(fields[11]) + Number(fields[12])) * tick;
    } catch {
      /* gone */
    }
  }
  return byName;
}

function findApp(ancestor) {
  const table = processTable();
  for (const [pid] of table) {
    let p = pid;
    let inTree = false;
    for (let i = 0; i < 20 && p > 1; i++) {
      p = table.get(p) ?? 0;
      if (p === ancestor) inTree = true;
    }
    if (!inTree) continue;
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[0].endsWith("roundtable-desktop")) return pid;
    } catch {
      /* gone */
    }
  }
  return null;
}

/** One cold start: spawn → the UI's `ui_ready` (first frame painted). */
async function coldStart(home, env = {}) {
  const t0 = performance.now();
  const child = spawn(binary, [], { env: { ...process.env, ...env, ROUNDTABLE_HOME: home }, stdio: ["ignore", "pipe", "pipe"] });
  const internal = await new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error("no ui-ready line within 30 s")), 30_000);
    let out = "";
    child.stdout.on("data", (c) => {
      out += c;
      const m = out.match(/ui ready after (\d+) ms/);
      if (m) {
        clearTimeout(timer);
        ok(Number(m[1]));
      }
    });
    child.on("exit", (code) => fail(new Error(`the app exited (${code})`)));
  });
  const wall = performance.now() - t0;
  await sleep(3000);
  const idle = treeRss(child.pid);
  child.kill("SIGTERM");
  await new Promise((r) => child.once("exit", r));
  return { wall, internal, idle };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const home = join(mkdtempSync(join(tmpdir(), "roundtable-bench-")), "home");
mkdirSync(home, { recursive: true });
writeFileSync(join(home, "config.toml"), "");
await coldStart(home); // warm the page cache once: a cold start after install, not after reboot
const report = (label, starts) => {
  const wall = median(starts.map((s) => s.wall));
  const internal = median(starts.map((s) => s.internal));
  const rss = median(starts.map((s) => s.idle.mb));
  const pss = median(starts.map((s) => s.idle.pss));
  console.log(`${label}: cold start to first paint ${Math.round(wall)} ms wall (spawn → ui_ready), ${internal} ms in-process, median of ${starts.length} (goal ≤ 1000 ms)`);
  console.log(`${label}: idle memory ${Math.round(rss)} MB summed VmRSS, ${Math.round(pss)} MB summed PSS (${starts[0].idle.names.join(", ")}) (goal ≤ 200 MB)`);
};
const starts = [];
for (let i = 0; i < Number(process.env.BENCH_STARTS ?? 5); i++) starts.push(await coldStart(home));
if (starts.length) report("idle", starts);

// 10-model runs through the UI, against the fake provider (BENCH_RUNS of them, 3
// unless told). Goal: the web process (WebKitWebProcess, which lays out, paints
// and runs the UI's scripts) at most 15 % of a core while the answers stream.
const runs = Number(process.env.BENCH_RUNS ?? 3);
const answer = "Ten models answer at once. ".repeat(12) + "\n\n```rust\nfn main() { println!(\"ok\"); }\n```";
const app = await startApp({ default: { answer, latency_ms: 200, chunk_delay_ms: 60, chunks: 40 } }, { appDefaults: true });
const { browser } = app;
try {
  await (await browser.$("[data-testid=prompt]")).waitForDisplayed({ timeout: 30_000 });
  await (await browser.$("[data-testid=prompt]")).setValue("Ten models, one question: why ensembles?");
  await (await browser.$("[data-testid=model-input]")).setValue("fake/model-1");
  for (let i = 2; i <= 10; i++) {
    await (await browser.$("[data-testid=add-model]")).click();
    await (await browser.$$("[data-testid=model-input]"))[i - 1].setValue(`fake/model-${i}`);
  }
  const pid = findApp(app.driverPid);
  if (!pid) throw new Error("could not find the app's process");
  const shares = [];
  for (let run = 1; run <= runs; run++) {
    await sleep(1000);
    const cpuBefore = treeCpu(pid);
    const t0 = performance.now();
    await (await browser.$("[data-testid=run]")).click();
    await waitInPage(browser, () => document.querySelectorAll('[data-testid=model-card][data-status="streaming"]').length >= 10 && document.querySelector("[data-testid=card-body]").innerText.length > 40, [], { message: "the 10 cards did not stream" });
    if (run === 1) await browser.saveScreenshot(join(artifacts, "workbench-mid-run-10.png"));
    await waitInPage(browser, () => (document.querySelector("[data-testid=run-phase]")?.textContent ?? "").includes("Completed"), [], { timeout: 60_000, message: "the 10-model run did not complete" });
    const runMs = performance.now() - t0;
    const cpuAfter = treeCpu(pid);
    const used = Object.fromEntries(Object.entries(cpuAfter).map(([name, ms]) => [name, ms - (cpuBefore[name] ?? 0)]));
    const web = Object.entries(used).filter(([name]) => name.startsWith("WebKitWeb")).reduce((sum, [, ms]) => sum + ms, 0);
    shares.push(web / runMs);
    console.log(`10-model run ${run}/${runs}: ${Math.round(runMs)} ms wall, CPU ${Object.entries(used).map(([name, ms]) => `${name}=${ms} ms`).join(", ")}; web process ${(100 * web / runMs).toFixed(1)} % of a core`);
  }
  console.log(`10-model run: web process ${(100 * median(shares)).toFixed(1)} % of a core while the answers stream, median of ${runs} (goal ≤ 15 %)`);
  await sleep(2000);
  const after = treeRss(pid);
  console.log(`after ${runs === 1 ? "a 10-model run" : `${runs} 10-model runs`}: ${Math.round(after.mb)} MB summed VmRSS, ${Math.round(after.pss)} MB summed PSS (${after.names.join(", ")}) (goal ≤ 200 MB)`);
} finally {
  await app.stop();
}
