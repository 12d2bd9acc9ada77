// History's verdicts of a run (issue 16): its vote, changed and withdrawn with
// the names shown, and judges' rankings, against the fake backend.
import { describe, expect, it } from "vitest";
import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import HistoryView from "../lib/views/HistoryView.svelte";
import { History } from "../lib/state/history.svelte";
import { Verdicts } from "../lib/state/verdicts.svelte";
import { backendContext, type ModelResult, type ModelSpec, type StoredRun } from "../lib/ipc/backend";
import { FakeBackend } from "../lib/testing/fake-backend";
import { response, result } from "./fixtures";

function stored(id: string, results: ModelResult[], models: ModelSpec[] = results.map((r) => ({ name: r.model }))): StoredRun {
  return {
    summary: { id, created_at: new Date().toISOString(), created_at_ms: Date.now(), status: "completed", input: `Question ${id}`, resolution: "summary", models: models.map((m) => m.name), total_cost: 0, duration_ms: 10, starred: false, tags: [], parent_id: null, parent_kind: null, previous_id: null, thread_id: id, turns: 1, data_preview: null },
    request: { input: `Question ${id}`, models },
    response: response(results, { id }),
  };
}

const THREE = [result(0, "fake/a", "A"), result(1, "fake/b", "B"), result(2, "fake/a", "C", { error: "HTTP 500", outcome: "failed" })];

describe("Verdicts (state)", () => {
  it("reads the vote and the judges, names answers as their cards do, and votes only on answers", async () => {
    const backend = new FakeBackend();
    const run = stored("rt_1", THREE, [{ name: "fake/a" }, { name: "fake/b" }, { name: "fake/a", temperature: 0.5 }]);
    backend.runs = [run];
    backend.votes.set("rt_1", { kind: "best", ranking: [[1]], blind: true, cast_at_ms: 1, changed_at_ms: null });
    const v = new Verdicts(backend, run);
    await v.load();
    expect(v.voting.vote?.kind).toBe("best");
    expect(v.voting.hidden).toBe(false);
    expect(v.voting.describe()).toBe("Best: fake/b (blind)");
    expect([0, 1, 2].map((i) => v.nameOf(i))).toEqual(["fake/a #1", "fake/b", "fake/a #2 (temperature 0.5)"]);
    expect(v.voting.votable.map((e) => e.index)).toEqual([0, 1]);
    expect(v.voting.pair("a")).toEqual({ kind: "pairwise", ranking: [[0], [1]], blind: false });
  });

  it("judges with the model typed, replacing that judge's earlier ranking, and says why it failed", async () => {
    const backend = new FakeBackend();
    const run = stored("rt_1", THREE);
    backend.runs = [run];
    const v = new Verdicts(backend, run);
    v.judgeModel = " fake/judge ";
    await v.judge();
    await v.judge();
    expect(backend.calls.filter((c) => c.method === "judgeRun").map((c) => c.args)).toEqual([["rt_1", "fake/judge"], ["rt_1", "fake/judge"]]);
    expect(v.judgements.map((j) => j.judge_model)).toEqual(["fake/judge"]);
    backend.judgeRun = async () => {
      throw { code: "unknown_provider", message: "unknown provider 'nope'", field: null };
    };
    v.judgeModel = "nope/x";
    await v.judge();
    expect(v.judgeError).toBe("unknown provider 'nope'");
    expect(v.judging).toBe(false);
  });

  it("comes with the run History focuses, afresh for another run", async () => {
    const backend = new FakeBackend();
    backend.runs = [stored("rt_1", THREE), stored("rt_2", THREE)];
    backend.votes.set("rt_2", { kind: "all_bad", ranking: [], blind: false, cast_at_ms: 1, changed_at_ms: null });
    const history = new History(backend);
    await history.focus("rt_1");
    const first = history.verdicts!;
    await waitFor(() => expect(first.loaded).toBe(true));
    expect(first.voting.vote).toBeNull();
    await history.focus("rt_1");
    expect(history.verdicts).toBe(first);
    await history.focus("rt_2");
    await waitFor(() => expect(history.verdicts?.voting.vote?.kind).toBe("all_bad"));
  });
});

describe("HistoryView's verdicts", () => {
  it("shows the vote, changes it, withdraws it, and shows a judge's ranking with reasons", async () => {
    const backend = new FakeBackend();
    backend.runs = [stored("rt_1", [result(0, "fake/a", "A"), result(1, "fake/b", "B"), result(2, "fake/c", "C")])];
    backend.votes.set("rt_1", { kind: "best", ranking: [[2]], blind: true, cast_at_ms: Date.now(), changed_at_ms: null });
    render(HistoryView, { props: { info: null, onopen: () => {}, onrerun: () => {}, onresolve: () => {}, suggestions: ["fake/judge"] }, context: backendContext(backend) });
    await fireEvent.click(await screen.findByText("Question rt_1"));
    await waitFor(() => expect(screen.getByTestId("vote-summary").textContent).toContain("Best: fake/c (blind)"));
    expect(screen.getByTestId("vote-when").textContent).toMatch(/Cast blind/);

    await fireEvent.click(screen.getByRole("button", { name: "Change" }));
    await fireEvent.click(screen.getAllByTestId("vote-best")[0]);
    await waitFor(() => expect(screen.getByTestId("vote-summary").textContent).toContain("Best: fake/a"));
    expect(backend.votes.get("rt_1")).toMatchObject({ kind: "best", ranking: [[0]], blind: false });

    await fireEvent.click(screen.getByTestId("vote-withdraw"));
    await waitFor(() => expect(screen.getByTestId("vote-open")).toBeTruthy());
    expect(backend.votes.has("rt_1")).toBe(false);

    expect(document.querySelector("#judge-suggestions option")?.getAttribute("value")).toBe("fake/judge");
    await fireEvent.input(screen.getByTestId("judge-model"), { target: { value: "fake/judge" } });
    await fireEvent.click(screen.getByTestId("judge"));
    const j = await screen.findByTestId("judgement");
    expect(j.textContent).toContain("fake/judge");
    expect([...j.querySelectorAll("li")].map((li) => li.textContent)).toEqual(["fake/a — fine", "fake/b — fine", "fake/c — fine"]);
  });
});
