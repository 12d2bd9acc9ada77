// The Leaderboard: its state against the fake backend (filters to the query,
// refreshes, the unranked apart, the CSV export), the plot's geometry, and the
// view rendered (the table, the plot, the empty state).
import { afterEach, describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { LeaderboardState, REFRESH_DELAY_MS, parsePanel } from "../lib/state/leaderboard.svelte";
import { costPerAnswer, layoutPlot } from "../lib/rating-plot";
import { FakeBackend } from "../lib/testing/fake-backend";
import { backendContext, type Leaderboard, type LeaderboardRow, type RunSummary } from "../lib/ipc/backend";
import LeaderboardView from "../lib/views/LeaderboardView.svelte";

function row(model: string, rank: number | null, rating: number, cost: number, extra: Partial<LeaderboardRow> = {}): LeaderboardRow {
  return { model, rank, rating, rating_low: rating - 60, rating_high: rating + 60, votes: rank === null ? 2 : 8, wins: 5, losses: 2, ties: 1, win_rate: 0.69, median_cost: cost, median_latency_ms: 1200, ...extra };
}

const BOARD: Leaderboard = {
  source: "votes",
  verdicts: 9,
  min_votes: 5,
  rows: [row("fake/pricey", 1, 1120, 0.03), row("fake/mid", 2, 1010, 0.002), row("fake/local", 3, 900, 0), row("fake/newcomer", null, 1000, 0.001, { votes: 2 }), row("fake/rookie", null, 980, 0.001, { votes: 3 })],
};

function summary(id: string, models: string[], tags: string[] = []): RunSummary {
  return { id, created_at: new Date().toISOString(), created_at_ms: Date.now(), status: "completed", input: id, resolution: "summary", models, total_cost: 0, duration_ms: 1, starred: false, tags, parent_id: null, parent_kind: null, previous_id: null, thread_id: id, turns: 1, data_preview: null };
}

function setup(board: Leaderboard = BOARD) {
  const backend = new FakeBackend();
  backend.board = board;
  return { backend, lb: new LeaderboardState(backend) };
}

afterEach(() => vi.useRealTimers());

// jsdom measures nothing: the plot's width (bind:clientWidth) needs the observer to exist.
globalThis.ResizeObserver ??= class {
  observe() {}
  unobserve() {}
  disconnect() {}
};

describe("Leaderboard (state)", () => {
  it("asks for the leaderboard the filters select", () => {
    const { lb } = setup();
    expect(lb.query()).toEqual({ source: "votes" });
    expect(lb.filtering).toBe(false);
    lb.tag = " #physics ";
    lb.panelText = " fake/a, ,fake/b ";
    lb.since = "30d";
    // A judge model counts only with the judges' rankings.
    lb.judgeModel = "fake/judge";
    const q = lb.query();
    expect(q).toMatchObject({ source: "votes", tag: "physics", panel: ["fake/a", "fake/b"] });
    expect(q.judge_model).toBeUndefined();
    expect(q.since_ms).toBeLessThan(Date.now() - 28 * 86_400_000);
    expect(q.since_ms).toBeGreaterThan(Date.now() - 31 * 86_400_000);
    lb.source = "judges";
    expect(lb.query()).toMatchObject({ source: "judges", judge_model: "fake/judge" });
    expect(lb.filtering).toBe(true);
    expect(parsePanel("a/b,  c/d ,")).toEqual(["a/b", "c/d"]);
    lb.pickPanel(["x/1", "x/2"]);
    expect(lb.panel).toEqual(["x/1", "x/2"]);
  });

  it("refreshes once, a moment after the last change, and keeps the ranked and the unranked apart", async () => {
    vi.useFakeTimers();
    const { backend, lb } = setup();
    lb.refreshSoon()();
    lb.tag = "t";
    lb.refreshSoon();
    await vi.advanceTimersByTimeAsync(REFRESH_DELAY_MS);
    expect(backend.calls.filter((c) => c.method === "leaderboard").map((c) => c.args[0])).toEqual([{ source: "votes", tag: "t" }]);
    expect([lb.loading, lb.error, lb.empty]).toEqual([false, null, false]);
    expect(lb.ranked.map((r) => r.model)).toEqual(["fake/pricey", "fake/mid", "fake/local"]);
    // Most votes first.
    expect(lb.unranked.map((r) => r.model)).toEqual(["fake/rookie", "fake/newcomer"]);
  });

  it("is empty without a model, says so and shows the error of a failed call", async () => {
    const { backend, lb } = setup({ source: "votes", verdicts: 0, min_votes: 5, rows: [] });
    expect(lb.empty).toBe(false); // not loaded yet
    await lb.refresh();
    expect(lb.empty).toBe(true);
    backend.leaderboard = async () => {
      throw { code: "storage", message: "the history is locked", field: null };
    };
    await lb.refresh();
    expect(lb.error).toBe("the history is locked");
  });

  it("refreshes when another process changes the history (a vote cast in the CLI)", async () => {
    const { backend, lb } = setup();
    const stop = lb.watch();
    await Promise.resolve();
    backend.board = { ...BOARD, verdicts: 10 };
    for (const l of backend.historyListeners) l();
    await vi.waitFor(() => expect(lb.board?.verdicts).toBe(10));
    stop();
    expect(backend.historyListeners).toEqual([]);
  });

  it("exports the leaderboard as filtered as CSV, and says nothing when the dialog is cancelled", async () => {
    const { backend, lb } = setup();
    lb.source = "judges";
    lb.judgeModel = "fake/judge";
    await lb.exportCsv();
    expect(backend.calls.find((c) => c.method === "exportLeaderboard")?.args).toEqual([{ source: "judges", judge_model: "fake/judge" }]);
    expect(lb.notice).toBe("Saved the leaderboard to /tmp/export/roundtable-leaderboard.csv");
    lb.notice = null;
    backend.exportTo = null;
    await lb.exportCsv();
    expect([lb.notice, lb.exporting]).toEqual([null, false]);
  });

  it("gathers the panels (most run first), tags and models of recent runs to pick from", async () => {
    const { backend, lb } = setup();
    backend.runs = [summary("1", ["fake/a", "fake/b"], ["x"]), summary("2", ["fake/c", "fake/a"]), summary("3", ["fake/a", "fake/c"], ["w"]), summary("4", ["fake/a"])].map((s) => ({ summary: s, request: { input: s.input, models: [] }, response: {} as never }));
    await lb.gather();
    expect(lb.knownPanels).toEqual(["fake/a, fake/c", "fake/a, fake/b"]);
    expect(lb.knownTags).toEqual(["w", "x"]);
    expect(lb.knownModels).toEqual(["fake/a", "fake/b", "fake/c"]);
  });
});

describe("the rating plot's geometry", () => {
  it("writes a cost per answer to two significant digits, however small", () => {
    expect([0, 0.0022, 0.000084, 0.5, 12.3].map(costPerAnswer)).toEqual(["$0", "$0.0022", "$0.000084", "$0.50", "$12.30"]);
  });

  it("goes logarithmic when the costs span more than ten times, with free models at the left edge", () => {
    const plot = layoutPlot(BOARD.rows.slice(0, 3), 600, 300);
    expect(plot.log).toBe(true);
    const [pricey, mid, local] = plot.points;
    expect(local.free).toBe(true);
    expect(local.x).toBeLessThan(mid.x);
    expect(mid.x).toBeLessThan(pricey.x);
    expect(plot.xTicks[0]).toEqual({ at: local.x, label: "free" });
    expect(plot.xTicks.map((t) => t.label)).toContain("$0.01");
    // Higher is better: the best rating is drawn highest, its interval around it.
    expect(pricey.y).toBeLessThan(mid.y);
    expect(pricey.yHigh).toBeLessThan(pricey.y);
    expect(pricey.yLow).toBeGreaterThan(pricey.y);
    for (const p of plot.points) {
      expect(p.x).toBeGreaterThanOrEqual(plot.left);
      expect(p.x).toBeLessThanOrEqual(plot.right);
      expect(p.yHigh).toBeGreaterThanOrEqual(plot.top);
      expect(p.yLow).toBeLessThanOrEqual(plot.bottom);
    }
    // Each beats every cheaper one: all three on the frontier.
    expect(plot.points.every((p) => p.frontier)).toBe(true);
    expect(plot.frontier.split(" ")).toHaveLength(3);
    expect(plot.points.map((p) => p.label)).toEqual(["pricey", "mid", "local"]);
  });

  it("stays linear within ten times; a model dearer and worse than another is off the frontier", () => {
    const plot = layoutPlot([row("a/x", 1, 1100, 0.004), row("b/x", 2, 1000, 0.008), row("c/y", 3, 950, 0.002)], 600, 300);
    expect(plot.log).toBe(false);
    expect(plot.points.map((p) => p.frontier)).toEqual([true, false, true]);
    // Two models named alike keep their providers.
    expect(plot.points.map((p) => p.label)).toEqual(["a/x", "b/x", "y"]);
    expect(plot.xTicks[0].label).toBe("$0");
    const labels = plot.points.map((p) => [p.labelX, p.labelY]);
    expect(new Set(labels.map(String)).size).toBe(3);
  });
});

describe("the Leaderboard view", () => {
  it("shows the ranked models, the plot and the unranked apart, and exports", async () => {
    const backend = new FakeBackend();
    backend.board = BOARD;
    render(LeaderboardView, { context: backendContext(backend) });
    await waitFor(() => expect(screen.getAllByTestId("leaderboard-row")).toHaveLength(3));
    const rows = screen.getAllByTestId("leaderboard-row");
    expect(rows.map((r) => r.dataset.model)).toEqual(["fake/pricey", "fake/mid", "fake/local"]);
    expect(rows[0].textContent).toContain("1120");
    expect(rows[0].textContent).toContain("5–2–1");
    expect(rows[0].textContent).toContain("69%");
    expect(screen.getAllByTestId("plot-point")).toHaveLength(3);
    const unranked = screen.getAllByTestId("unranked-row");
    expect(unranked[0].textContent).toContain("not ranked yet (3 of 5 votes)");
    await fireEvent.click(screen.getByTestId("leaderboard-export"));
    await waitFor(() => expect(screen.getByTestId("leaderboard-notice").textContent).toContain("roundtable-leaderboard.csv"));
  });

  it("tells how to vote when there is nothing yet", async () => {
    const backend = new FakeBackend();
    render(LeaderboardView, { context: backendContext(backend) });
    await waitFor(() => expect(screen.getByTestId("leaderboard-empty")).toBeTruthy());
    const text = screen.getByTestId("leaderboard-empty").textContent ?? "";
    expect(text).toContain("blind mode");
    expect(text).toContain("roundtable vote ID --best N");
    expect(screen.queryByTestId("rating-plot")).toBeNull();
    expect((screen.getByTestId("leaderboard-export") as HTMLButtonElement).disabled).toBe(true);
  });
});
