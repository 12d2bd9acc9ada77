// Blind mode and votes (issue 16): the shuffle and its labels, the ballots as
// model-result indices, and no model's name in the page before the vote.
import { beforeEach, describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import WorkbenchView from "../lib/views/WorkbenchView.svelte";
import ResolvedPanel from "../lib/components/ResolvedPanel.svelte";
import { Workbench } from "../lib/state/workbench.svelte";
import { RunState } from "../lib/state/run.svelte";
import { Settings, draftModel } from "../lib/state/settings.svelte";
import { describeVote, letter, placeOf, shuffle } from "../lib/state/voting.svelte";
import { backendContext, type ModelResult, type StoredRun } from "../lib/ipc/backend";
import { FakeBackend } from "../lib/testing/fake-backend";
import { response, result } from "./fixtures";

const MODELS = ["fake/alpha", "fake/beta", "fake/gamma"];

/** A seeded generator (mulberry32): the same shuffle every time. */
function seeded(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function stored(id: string, results: ModelResult[]): StoredRun {
  const models = results.map((r) => r.model);
  return {
    summary: { id, created_at: "", created_at_ms: 1, status: "completed", input: "Q", resolution: "summary", models, total_cost: 0.01, duration_ms: 10, starred: false, tags: [], parent_id: null, parent_kind: null, previous_id: null, thread_id: id, turns: 1, data_preview: null },
    request: { input: "Q", models: models.map((name) => ({ name })) },
    response: response(results, { id }),
  };
}

/** A workbench whose next run answers with `models` (each its own answer), and the backend. */
function setup(models = MODELS, seed = 7) {
  const backend = new FakeBackend();
  const results = models.map((m, i) => result(i, m, `Answer ${i + 1}.`, { cost: 0.5 + i, duration_ms: 1234 + i }));
  backend.script = {
    events: [{ type: "run_started", id: "rt_1", trace_uuid: "t", models }],
    result: { response: response(results), status: "completed" },
  };
  backend.runs = [stored("rt_1", results)];
  const wb = new Workbench();
  wb.input = "Q";
  wb.panel = models.map((m) => draftModel(m));
  wb.random = seeded(seed);
  return { backend, wb };
}

beforeEach(() => localStorage.clear());

describe("letters and the shuffle", () => {
  it("labels answers A…Z, then AA", () => {
    expect([0, 1, 25, 26, 27, 51, 52].map(letter)).toEqual(["A", "B", "Z", "AA", "AB", "AZ", "BA"]);
  });

  it("shuffles into a permutation, the same one for the same draws", () => {
    const items = [0, 1, 2, 3, 4, 5, 6, 7];
    const a = shuffle(items, seeded(1));
    expect([...a].sort()).toEqual(items);
    expect(shuffle(items, seeded(1))).toEqual(a);
    expect(a).not.toEqual(items);
    expect(items).toEqual([0, 1, 2, 3, 4, 5, 6, 7]); // not in place
    // Each of the 6 orders of 3 comes up.
    const seen = new Set<string>();
    const random = seeded(3);
    for (let i = 0; i < 200; i++) seen.add(shuffle([0, 1, 2], random).join(""));
    expect(seen.size).toBe(6);
  });
});

describe("a blind run", () => {
  it("shows its answers shuffled as Response A, B, C, a fresh shuffle each run", async () => {
    const { backend, wb } = setup();
    const orders = new Set<string>();
    for (let i = 0; i < 12; i++) {
      await wb.start(backend, { blind: true });
      const v = wb.run!.voting;
      expect(v.hidden).toBe(true);
      expect([...v.entries.map((e) => e.index)].sort()).toEqual([0, 1, 2]);
      orders.add(v.entries.map((e) => e.index).join(""));
      expect(v.entries.map((e) => v.nameOf(e.index))).toEqual(["Response A", "Response B", "Response C"]);
    }
    expect(orders.size).toBeGreaterThan(1);
  });

  it("casts a ballot of model-result indices, blind, then names the models with the vote marked", async () => {
    const { backend, wb } = setup();
    await wb.start(backend, { blind: true });
    const v = wb.run!.voting;
    const b = v.entries[1]; // shown second: "Response B"
    expect(v.open).toBe(true);
    expect(await v.cast(backend, v.best(b.index))).toBe(true);
    expect(backend.calls.find((c) => c.method === "castVote")?.args).toEqual(["rt_1", { kind: "best", ranking: [[b.index]], blind: true }]);
    expect(v.hidden).toBe(false);
    expect(v.nameOf(b.index)).toBe(MODELS[b.index]);
    expect(v.markOf(b.index)).toBe("Your pick");
    expect(v.markOf(v.entries[0].index)).toBeNull();
    expect(v.describe()).toBe(`Best: ${MODELS[b.index]} (blind)`);
    // Changed with the names shown, it is no longer blind.
    v.edit();
    await v.cast(backend, v.allBad());
    expect(backend.votes.get("rt_1")).toMatchObject({ kind: "all_bad", ranking: [], blind: false });
    expect(v.markOf(0)).toBe("All bad");
    await v.withdraw(backend);
    expect(v.vote).toBeNull();
    expect(backend.votes.has("rt_1")).toBe(false);
  });

  it("builds a ranking with ties by clicks, best first", async () => {
    const { backend, wb } = setup();
    await wb.start(backend, { blind: true });
    const v = wb.run!.voting;
    const [x, y, z] = v.entries.map((e) => e.index);
    v.rank(y);
    v.tieNext = true;
    v.rank(x);
    v.rank(z);
    expect(v.draft).toEqual([[y, x], [z]]);
    expect([placeOf(v.draft, y), placeOf(v.draft, z)]).toEqual(["tied #1", "#3"]);
    v.rank(x); // out again
    expect(v.ranking()).toEqual({ kind: "ranking", ranking: [[y], [z]], blind: true });
    await v.cast(backend, v.ranking());
    expect(v.markOf(z)).toBe("#2");
    expect(v.markOf(x)).toBeNull(); // left out: below those ranked
    v.edit();
    expect([v.mode, v.draft]).toEqual(["rank", [[y], [z]]]);
  });

  it("offers A / B / tie / both bad for two answers, A being the first shown", async () => {
    const { backend, wb } = setup(["fake/alpha", "fake/beta"]);
    await wb.start(backend, { blind: true });
    const v = wb.run!.voting;
    const [a, b] = v.entries.map((e) => e.index);
    expect(v.pairwise).toBe(true);
    expect(v.pair("a").ranking).toEqual([[a], [b]]);
    expect(v.pair("b").ranking).toEqual([[b], [a]]);
    expect(v.pair("tie")).toEqual({ kind: "pairwise", ranking: [[a, b]], blind: true });
    expect(v.pair("bad")).toEqual({ kind: "all_bad", ranking: [], blind: true });
  });

  it("only votes on answers, once the run is over", () => {
    const run = new RunState("h", { input: "Q", models: MODELS.map((name) => ({ name })) });
    expect(run.voting.open).toBe(false);
    run.finish({ response: response([result(0, MODELS[0], "A"), result(1, MODELS[1], "", { error: "HTTP 500", outcome: "failed" }), result(2, MODELS[2], "C")]), status: "completed" });
    expect(run.voting.votable.map((e) => e.index)).toEqual([0, 2]);
    expect(run.voting.open).toBe(true);
    expect(run.voting.pairwise).toBe(true);
  });

  it("words a stored vote", () => {
    const name = (i: number) => MODELS[i];
    expect(describeVote({ kind: "ranking", ranking: [[2], [0, 1]], blind: false, cast_at_ms: 1, changed_at_ms: null }, name)).toBe("Ranking: fake/gamma > fake/alpha = fake/beta");
    expect(describeVote({ kind: "all_bad", ranking: [], blind: true, cast_at_ms: 1, changed_at_ms: null }, name)).toBe("All bad (blind)");
  });
});

describe("a run with names", () => {
  it("keeps the panel's order and votes not blind, from a card's Best", async () => {
    const { backend, wb } = setup();
    await wb.start(backend);
    const v = wb.run!.voting;
    expect(v.hidden).toBe(false);
    expect(v.entries.map((e) => e.index)).toEqual([0, 1, 2]);
    render(WorkbenchView, { props: { wb, settings: new Settings(), suggestions: [], oncompare: vi.fn() }, context: backendContext(backend) });
    await fireEvent.click(screen.getAllByTestId("card-pick")[2]);
    await waitFor(() => expect(backend.votes.get("rt_1")).toMatchObject({ kind: "best", ranking: [[2]], blind: false }));
    await waitFor(() => expect(screen.getAllByTestId("card-mark").map((e) => e.textContent)).toEqual(["Your pick"]));
  });
});

describe("the blind workbench in the page", () => {
  it("names no model anywhere before the vote, in the shuffled order, and reveals after", async () => {
    const { backend, wb } = setup();
    const settings = new Settings();
    settings.setBlind(true);
    const { container } = render(WorkbenchView, { props: { wb, settings, suggestions: [], oncompare: vi.fn() }, context: backendContext(backend) });
    await fireEvent.click(screen.getByTestId("run"));
    await waitFor(() => expect(wb.run?.phase).toBe("completed"));
    await waitFor(() => expect(screen.getByTestId("vote-panel")).toBeTruthy());
    const results = container.querySelector("section.results")!;
    const html = results.innerHTML;
    for (const m of [...MODELS, "alpha", "beta", "gamma", "fake/"]) expect(html).not.toContain(m);
    // No cost or timing either (the fixture's are $0.5…, 1234 ms…).
    expect(results.textContent).not.toMatch(/\$|1\.2 s|1234/);
    const cards = screen.getAllByTestId("model-card");
    expect(cards.map((c) => c.dataset.letter)).toEqual(["A", "B", "C"]);
    expect(cards.map((c) => c.getAttribute("aria-label"))).toEqual(["Answer of Response A", "Answer of Response B", "Answer of Response C"]);
    const shown = wb.run!.voting.entries.map((e) => e.index);
    expect(cards.map((c) => c.textContent)).toEqual(shown.map((i) => expect.stringContaining(`Answer ${i + 1}.`)));

    await fireEvent.click(screen.getAllByTestId("vote-best")[0]); // Response A
    await waitFor(() => expect(cards[0].dataset.model).toBe(MODELS[shown[0]]));
    expect(backend.votes.get("rt_1")).toMatchObject({ kind: "best", ranking: [[shown[0]]], blind: true });
    expect(screen.getAllByTestId("card-mark").map((e) => e.textContent)).toEqual(["Your pick"]);
    expect(screen.getByTestId("vote-summary").textContent).toContain(MODELS[shown[0]]);
    expect(results.textContent).toMatch(/\$/);
  });

  it("counts a blind multiple-choice vote with its voters unnamed", () => {
    const run = new RunState("h", { input: "Capital?", models: MODELS.map((name) => ({ name })), resolution: "multiple_choice", choices: ["Paris", "Lyon"] });
    run.voting.blindfold(seeded(5));
    const results = [result(0, MODELS[0], "Paris", { vote: "Paris" }), result(1, MODELS[1], "Lyon", { vote: "Lyon" }), result(2, MODELS[2], "Paris", { vote: "Paris" })];
    run.finish({ response: response(results, { data: "Paris", meta: { resolution: "multiple_choice", models_used: MODELS, total_cost: 0, total_duration_ms: 1, votes: { Paris: 2, Lyon: 1 } } }), status: "completed" });
    const { container } = render(ResolvedPanel, { props: { run } });
    const who = screen.getAllByTestId("voters").map((e) => e.textContent);
    const letterOf = (i: number) => `Response ${run.voting.letterOf(i)}`;
    expect(who).toEqual([[letterOf(0), letterOf(2)].sort().join(", "), letterOf(1)]);
    for (const m of MODELS) expect(container.innerHTML).not.toContain(m);
  });

  it("offers to reveal a blind run with fewer than two answers", async () => {
    const { backend, wb } = setup(["fake/alpha"]);
    const settings = new Settings();
    settings.setBlind(true);
    const { container } = render(WorkbenchView, { props: { wb, settings, suggestions: [], oncompare: vi.fn() }, context: backendContext(backend) });
    await fireEvent.click(screen.getByTestId("run"));
    await fireEvent.click(await screen.findByTestId("reveal"));
    expect(container.querySelector("[data-testid=model-card]")?.getAttribute("data-model")).toBe("fake/alpha");
  });

  it("remembers blind mode as last used and per saved panel, and loads panels saved before it", () => {
    localStorage.setItem("roundtable.settings.v1", JSON.stringify({ savedPanels: [{ name: "old", models: [{ name: "fake/a" }] }] }));
    const s = new Settings();
    expect(s.savedPanels[0].blind).toBe(false);
    s.setBlind(true);
    s.savePanel("blind pair", [draftModel("fake/a"), draftModel("fake/b")]);
    const again = new Settings();
    expect(again.blind).toBe(true);
    expect(again.usePanel("old")?.models.map((m) => m.name)).toEqual(["fake/a"]);
    expect(again.blind).toBe(false);
    expect(again.usePanel("blind pair")?.blind).toBe(true);
    expect(new Settings().blind).toBe(true);
  });
});
