// End to end, the Leaderboard (issue 16): empty, it tells how to vote; the CLI
// (another process) then records runs of a three-model panel with prices of its
// own and votes on them, and the open view catches up by itself; the ranked
// rows, the model with too few votes apart, the plot (log scale, the free model
// at its left edge), a filter by panel, and the CSV export where the shell's
// dialog answers.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { artifacts, darkScreenshot, root, startApp, waitInPage } from "./harness.mjs";

const ANSWER = (who) =>
  `${who} says: a panel of models answers the same question independently, so you can see where they agree and where one of them goes astray.`;
const SCRIPT = {
  default: { answer: "OK", latency_ms: 50, chunks: 2 },
  models: {
    frontier: { answer: ANSWER("Frontier").repeat(3), latency_ms: 900 },
    mid: { answer: ANSWER("Mid"), latency_ms: 400 },
    local: { answer: ANSWER("Local"), latency_ms: 150 },
    newcomer: { answer: ANSWER("Newcomer"), latency_ms: 300 },
  },
};
// USD per token: frontier costs about thirty times mid; local has no price (free).
const PRICES = {
  "fake/frontier": { input_cost_per_token: 5e-6, output_cost_per_token: 2e-5, litellm_provider: "fake" },
  "fake/mid": { input_cost_per_token: 2e-7, output_cost_per_token: 8e-7, litellm_provider: "fake" },
  "fake/newcomer": { input_cost_per_token: 1e-6, output_cost_per_token: 4e-6, litellm_provider: "fake" },
};
const PANEL = ["fake/frontier", "fake/mid", "fake/local"];
// A ranking per run, by the panel's numbers (1 = frontier, 2 = mid, 3 = local).
const RANKINGS = ["1,2,3", "1,2,3", "2,1,3", "1,3,2", "1,2,3", "1=2,3", "3,1,2", "1,2,3"];
const NEWCOMER_PANEL = ["fake/frontier", "fake/newcomer", "fake/local"];

const target = process.env.CARGO_TARGET_DIR ? resolve(process.env.CARGO_TARGET_DIR) : join(root, "target");
const cliBin = join(target, process.env.E2E_PROFILE ?? "debug", "roundtable");

describe("the leaderboard", () => {
  let app;
  let browser;
  const cli = (...args) =>
    execFileSync(cliBin, args, { env: { ...process.env, ROUNDTABLE_HOME: app.home, NO_COLOR: "1" }, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  const record = (prompt, models, vote) => {
    const id = JSON.parse(cli("run", prompt, ...models.flatMap((m) => ["-m", m]), "-r", "fast", "--json")).id;
    cli("vote", id, ...vote);
    return id;
  };

  before(async () => {
    app = await startApp(SCRIPT);
    browser = app.browser;
    // The CLI's prices (the window started before, and needs none: costs are stored with the runs).
    const config = join(app.home, "config.toml");
    writeFileSync(join(app.home, "prices.json"), JSON.stringify(PRICES));
    writeFileSync(config, `price_files = ["prices.json"]\n${readFileSync(config, "utf8")}`);
    await (await browser.$("[data-testid=prompt]")).waitForDisplayed({ timeout: 30_000 });
  });
  after(async () => {
    await app?.stop();
  });

  it("says how to vote while there are no votes (Ctrl+5 opens it)", async () => {
    await (await browser.$("body")).click();
    await browser.keys(["Control", "5"]);
    const empty = await waitInPage(browser, () => document.querySelector("[data-testid=leaderboard-empty]")?.innerText, [], {
      message: "Ctrl+5 did not open an empty leaderboard",
    });
    assert.match(empty, /No votes yet/);
    assert.match(empty, /blind mode/);
    assert.match(empty, /roundtable vote ID --best N/);
    assert.equal(await browser.execute(() => document.querySelector("[data-testid=leaderboard-export]").disabled), true);
    await browser.saveScreenshot(join(artifacts, "leaderboard-empty.png"));
  });

  it("ranks the models voted on by another process, with the too-few-votes apart, plotted against cost", async () => {
    RANKINGS.forEach((rank, i) => record(`Question ${i + 1}: why ask several models? (e2e-board)`, PANEL, ["--rank", rank]));
    for (const i of [1, 2]) record(`Newcomer question ${i}`, NEWCOMER_PANEL, ["--best", "2"]);

    // The open view catches up with the history by itself.
    const rows = await waitInPage(
      browser,
      () => {
        const rows = [...document.querySelectorAll("[data-testid=leaderboard-row]")];
        const summary = document.querySelector("[data-testid=leaderboard-summary]")?.innerText ?? "";
        return rows.length === 3 && summary.includes("10 votes")
          ? rows.map((r) => ({ model: r.dataset.model, rank: r.dataset.rank, cells: [...r.cells].map((c) => c.innerText.trim()) }))
          : null;
      },
      [],
      { message: "the leaderboard did not show the CLI's votes" },
    );
    assert.deepEqual(
      rows.map((r) => [r.rank, r.model]),
      [["1", "fake/frontier"], ["2", "fake/mid"], ["3", "fake/local"]],
    );
    const [frontier, , local] = rows;
    assert.equal(frontier.cells[3], "10", "votes");
    assert.match(frontier.cells[4], /^\d+–\d+–1$/, "W–L–T with the one tie");
    assert.match(frontier.cells[5], /^\d+%$/);
    assert.match(frontier.cells[6], /^\$0\.00\d+$/, "frontier's median cost");
    assert.equal(local.cells[6], "$0", "local is free");
    assert.match(frontier.cells[7], /^\d+(\.\d)? (ms|s)$/);

    const unranked = await browser.execute(() => [...document.querySelectorAll("[data-testid=unranked-row]")].map((r) => [r.dataset.model, r.innerText]));
    assert.equal(unranked.length, 1);
    assert.equal(unranked[0][0], "fake/newcomer");
    assert.match(unranked[0][1], /not ranked yet \(2 of 5 votes\)/);

    const plot = await browser.execute(() => {
      const fig = document.querySelector("[data-testid=rating-plot]");
      const points = [...fig.querySelectorAll("[data-testid=plot-point]")].map((g) => {
        const c = g.querySelector("circle").getBoundingClientRect();
        return { model: g.dataset.model, free: g.dataset.free, x: c.x, y: c.y, label: g.querySelector("text").textContent };
      });
      const ticks = [...fig.querySelectorAll(".axis text")].map((t) => t.textContent);
      return { scale: fig.dataset.scale, points, ticks, width: fig.getBoundingClientRect().width };
    });
    assert.equal(plot.scale, "log", "costs thirty times apart: a log scale");
    assert.ok(plot.ticks.includes("free"), plot.ticks.join(" "));
    assert.ok(plot.ticks.some((t) => /log scale/.test(t)));
    const at = Object.fromEntries(plot.points.map((p) => [p.model, p]));
    assert.deepEqual(Object.keys(at).sort(), ["fake/frontier", "fake/local", "fake/mid"]);
    assert.equal(at["fake/local"].free, "true");
    assert.ok(at["fake/local"].x < at["fake/mid"].x && at["fake/mid"].x < at["fake/frontier"].x, "cheapest left");
    assert.ok(at["fake/frontier"].y < at["fake/local"].y, "the best is highest");
    assert.ok(plot.width > 500, `the plot has room (${plot.width}px)`);

    await browser.saveScreenshot(join(artifacts, "leaderboard.png"));
    await darkScreenshot(browser, "leaderboard");
  });

  it("filters by a panel picked from those run, and by source", async () => {
    const pick = await browser.$("[data-testid=leaderboard-pick-panel]");
    await pick.selectByAttribute("value", [...NEWCOMER_PANEL].sort().join(", "));
    const state = await waitInPage(browser, () => {
      const none = document.querySelector("[data-testid=leaderboard-none-ranked]");
      const unranked = [...document.querySelectorAll("[data-testid=unranked-row]")].map((r) => r.dataset.model);
      return none && unranked.length === 3 ? { panel: document.querySelector("[data-testid=leaderboard-panel]").value, unranked } : null;
    }, [], { message: "picking the newcomer's panel did not narrow the leaderboard to its two runs" });
    assert.equal(state.panel, "fake/frontier, fake/local, fake/newcomer");
    assert.deepEqual([...state.unranked].sort(), [...NEWCOMER_PANEL].sort());
    await (await browser.$("button=Any panel")).click();
    await waitInPage(browser, () => document.querySelectorAll("[data-testid=leaderboard-row]").length === 3, []);

    // Judges' rankings are apart from the votes: none here yet.
    await (await browser.$("[data-testid=source-judges]")).click();
    const judges = await waitInPage(browser, () => document.querySelector("[data-testid=leaderboard-empty]")?.innerText, []);
    assert.match(judges, /No judge rankings yet/);
    assert.match(judges, /roundtable judge ID --model/);
    assert.ok(await (await browser.$("[data-testid=judge-model]")).isDisplayed());
    await (await browser.$("[data-testid=source-votes]")).click();
    await waitInPage(browser, () => document.querySelectorAll("[data-testid=leaderboard-row]").length === 3, []);
  });

  it("exports the leaderboard as CSV where the shell's dialog answers", async () => {
    await (await browser.$("[data-testid=leaderboard-export]")).click();
    const notice = await waitInPage(browser, () => document.querySelector("[data-testid=leaderboard-notice]")?.innerText, []);
    const file = join(app.exportDir, "roundtable-leaderboard.csv");
    assert.ok(notice.includes(file), notice);
    assert.ok(existsSync(file));
    const lines = readFileSync(file, "utf8").trim().split("\n");
    assert.match(lines[0], /^rank,model,rating,rating_low,rating_high,votes,wins,losses,ties,win_rate,median_cost_usd,median_latency_ms/);
    assert.match(lines[1], /^1,fake\/frontier,/);
    assert.equal(lines.length, 5, "a header, three ranked, one not ranked yet");
    assert.match(lines[4], /^,fake\/newcomer,/);
  });

  it("fits the window at its smallest", async () => {
    await browser.setWindowSize(880, 560);
    const fit = await waitInPage(browser, () => {
      const body = document.querySelector("[data-testid=leaderboard] .body");
      const table = document.querySelector("[data-testid=leaderboard-table]");
      return window.innerWidth < 900 && { body: body.clientWidth, scroll: body.scrollWidth, table: table.getBoundingClientRect().width };
    }, []);
    await browser.saveScreenshot(join(artifacts, "leaderboard-narrow.png"));
    assert.ok(fit.scroll <= fit.body, `no sideways scrolling: ${JSON.stringify(fit)}`);
  });
});
