// Conversations on the workbench, against the fake backend (which records each
// run in its history, in the conversation its previous_id names): the shape of
// a thread, follow-ups own and resolved, continuing with one model, folding the
// earlier turns, branching by editing a turn, switching branches, and opening a
// conversation at a turn.
import { describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import WorkbenchView from "../lib/views/WorkbenchView.svelte";
import FollowUpBox from "../lib/components/thread/FollowUpBox.svelte";
import { Settings } from "../lib/state/settings.svelte";
import { backendContext } from "../lib/ipc/backend";
import { Workbench } from "../lib/state/workbench.svelte";
import { FollowUp } from "../lib/state/follow-up.svelte";
import { draftModel } from "../lib/state/settings.svelte";
import { FakeBackend, storedRun } from "../lib/testing/fake-backend";
import { branchPlace, branchThrough, followersOf, pathTo, resolvedTurnsNote } from "../lib/thread";
import type { RoundtableRequest, RunEvent, RunResult, StoredRun } from "../lib/ipc/backend";
import { response, result } from "./fixtures";

/** Each model of the request answers `<model>: <input>`; the summary is `resolved: <input>` (none in fast mode). */
function echo(request: RoundtableRequest): { events: RunEvent[]; result: RunResult } {
  const models = request.models.map((m) => m.name);
  const results = models.map((m, i) => result(i, m, `${m}: ${request.input}`, request.previous_id && i === 1 ? { context_resolved: [1] } : {}));
  const fast = request.resolution === "fast";
  const res = response(results, { data: fast ? null : `resolved: ${request.input}`, meta: { resolution: request.resolution ?? "summary", models_used: models, total_cost: 0.01, total_duration_ms: 10, summary_model: fast ? null : "fake/s" } });
  return {
    events: [{ type: "run_started", id: "pending", trace_uuid: "t", models }, ...results.map((r): RunEvent => ({ type: "model_finished", result: r }))],
    result: { response: res, status: "completed" },
  };
}

function setup() {
  const backend = new FakeBackend();
  backend.keepRuns = true;
  backend.scriptFor = echo;
  const wb = new Workbench();
  wb.input = "Turn one?";
  wb.panel = [draftModel("fake/a"), draftModel("fake/b", { temperature: 0.5 })];
  wb.instructions = "Be brief";
  return { backend, wb };
}

const sent = (backend: FakeBackend) => backend.calls.filter((c) => c.method === "run").map((c) => c.args[1] as RoundtableRequest);

/** Three turns: turn 2 in own context, turn 3 in resolved context. */
async function threeTurns() {
  const { backend, wb } = setup();
  await wb.start(backend);
  wb.followUp.input = "Turn two?";
  await wb.sendFollowUp(backend);
  wb.followUp.input = "Turn three?";
  wb.followUp.context = "resolved";
  await wb.sendFollowUp(backend);
  return { backend, wb };
}

function run(id: string, previous: string | null, at: number): StoredRun {
  return storedRun(id, { input: id, models: [{ name: "fake/a" }], previous_id: previous }, response([result(0, "fake/a", "A")]), { created_at_ms: at, thread_id: "t1" });
}

describe("a thread's shape", () => {
  // t1 ─ t2 ─ t3
  //    └ t2b ─ t3b (newer)
  const runs = [run("t1", null, 1), run("t2", "t1", 2), run("t3", "t2", 3), run("t2b", "t1", 4), run("t3b", "t2b", 5)];

  it("follows a turn back to the first, and a branch on to its latest turn", () => {
    expect(pathTo(runs, "t3").map((r) => r.summary.id)).toEqual(["t1", "t2", "t3"]);
    expect(pathTo(runs, "nope")).toEqual([]);
    expect(branchThrough(runs, "t2").map((r) => r.summary.id)).toEqual(["t1", "t2", "t3"]);
    // Through the first turn: the newest line of turns.
    expect(branchThrough(runs, "t1").map((r) => r.summary.id)).toEqual(["t1", "t2b", "t3b"]);
  });

  it("tells a turn's branches apart", () => {
    expect(followersOf(runs, "t1").map((r) => r.summary.id)).toEqual(["t2", "t2b"]);
    const place = branchPlace(runs, "t2b", "t1");
    expect([place.index, place.count]).toEqual([1, 2]);
    // A run still going is the newest branch.
    expect(branchPlace(runs, null, "t1")).toMatchObject({ index: 2, count: 3 });
    expect(branchPlace(runs, "t3", "t2")).toMatchObject({ index: 0, count: 1 });
  });

  it("says which turns a model was sent the resolved answer for", () => {
    expect(resolvedTurnsNote([])).toBeNull();
    expect(resolvedTurnsNote([2])).toBe("turn 2: sent the resolved answer");
    expect(resolvedTurnsNote([1, 2, 4])).toBe("turns 1, 2 and 4: sent the resolved answers");
  });
});

describe("the follow-up's request", () => {
  const base: RoundtableRequest = { input: "Q1", models: [{ name: "fake/a", temperature: 0.2 }, { name: "fake/b", sample: 1 }, { name: "fake/b", sample: 2 }], resolution: "summary", instructions: "Be brief", summary_model: "fake/s", max_retries: 2 };

  it("follows the run up with its panel, resolution and instructions, previous_id and context", () => {
    const f = new FollowUp();
    expect(f.problem()).toMatch(/finished run/);
    f.follow("rt_1", base);
    expect(f.problem()).toMatch(/question/);
    f.input = "And then?";
    expect(f.problem()).toBeNull();
    expect(f.request()).toEqual({
      input: "And then?",
      models: [{ name: "fake/a", temperature: 0.2 }, { name: "fake/b", samples: 2 }],
      resolution: "summary",
      previous_id: "rt_1",
      context: "own",
      instructions: "Be brief",
      summary_model: "fake/s",
      max_retries: 2,
    });
    f.context = "resolved";
    expect(f.request().context).toBe("resolved");
    // Following the same run again keeps what was typed.
    f.follow("rt_1", base);
    expect(f.input).toBe("And then?");
  });

  it("continues with one model in fast mode, and widens back to the panel", () => {
    const f = new FollowUp();
    f.follow("rt_1", base);
    f.continueWith("rt_1", base, { name: "fake/b", sample: 2, temperature: 0.7 });
    expect(f.single).toBe("fake/b");
    f.input = "Just you";
    expect(f.request()).toMatchObject({ models: [{ name: "fake/b", temperature: 0.7 }], resolution: "fast", previous_id: "rt_1", context: "own" });
    expect(f.request().summary_model).toBeUndefined();
    expect(f.summoned).toBe(1);
    f.widen();
    expect(f.single).toBeNull();
    expect(f.request().models.map((m) => m.name)).toEqual(["fake/a", "fake/b"]);
    expect(f.request().resolution).toBe("summary");
  });

  it("uses the default summary model when the run followed named none", () => {
    const f = new FollowUp();
    f.follow("rt_1", { input: "Q", models: [{ name: "fake/a" }], resolution: "fast" });
    f.input = "x";
    f.resolution = "summary";
    expect(f.request("fake/default").summary_model).toBe("fake/default");
  });

  it("votes among the choices typed, the turn's own to start with, and names fewer than two", () => {
    const f = new FollowUp();
    f.follow("rt_1", { ...base, resolution: "multiple_choice", choices: ["Sydney", "Canberra"] });
    f.input = "And now?";
    expect([f.resolution, f.choicesText]).toEqual(["multiple_choice", "Sydney, Canberra"]);
    f.choicesText = " Perth ,, Darwin, perth , Hobart";
    expect(f.problem()).toBeNull();
    expect(f.request().choices).toEqual(["Perth", "Darwin", "Hobart"]);
    f.choicesText = "Perth, PERTH, ";
    expect(f.problem()).toMatch(/at least two different choices/);
    // Carrying on with one model is fast; the whole panel again is the turn's resolution and choices.
    f.continueWith("rt_1", f.base!, { name: "fake/a" });
    expect([f.resolution, f.request().choices]).toEqual(["fast", undefined]);
    f.widen();
    expect([f.resolution, f.choicesText]).toEqual(["multiple_choice", "Sydney, Canberra"]);
    // A summary turn has no choices: multiple choice starts empty.
    f.follow("rt_2", base);
    f.resolution = "multiple_choice";
    expect([f.choicesText, f.problem()]).toEqual(["", expect.stringMatching(/at least two/)]);
  });
});

describe("a conversation on the workbench", () => {
  it("sends turn 2 in own context and turn 3 in resolved context, each following the run before", async () => {
    const { backend, wb } = await threeTurns();
    const [one, two, three] = sent(backend);
    expect(one.previous_id).toBeUndefined();
    expect(two).toMatchObject({ input: "Turn two?", previous_id: "rt_1", context: "own", instructions: "Be brief", models: [{ name: "fake/a" }, { name: "fake/b", temperature: 0.5 }] });
    expect(three).toMatchObject({ input: "Turn three?", previous_id: "rt_2", context: "resolved" });
    expect(wb.run?.runId).toBe("rt_3");
    expect(wb.run?.origin).toBe("follow-up");
    // The turns before it, read from the history, first to last.
    expect(wb.conversation.earlier(wb.run?.request.previous_id).map((r) => r.request.input)).toEqual(["Turn one?", "Turn two?"]);
    expect(backend.runs.map((r) => [r.summary.id, r.summary.thread_id, r.summary.turns])).toEqual([["rt_1", "rt_1", 3], ["rt_2", "rt_1", 3], ["rt_3", "rt_1", 3]]);
    // The box is empty again, following the latest turn with its context.
    expect([wb.followUp.previousId, wb.followUp.input, wb.followUp.context]).toEqual(["rt_3", "", "resolved"]);
    // A card sent a turn's resolved answer says so.
    expect(wb.run?.cards[1].contextResolved).toEqual([1]);
  });

  it("folds the earlier turns until one is opened, its cards made from the history", async () => {
    const { wb } = await threeTurns();
    expect(wb.conversation.isOpen("rt_1")).toBe(false);
    wb.conversation.toggle("rt_1");
    expect(wb.conversation.isOpen("rt_1")).toBe(true);
    const cards = wb.conversation.cardsOf(wb.conversation.get("rt_1")!);
    expect(cards.cards.map((c) => [c.model, c.status, c.text])).toEqual([["fake/a", "done", "fake/a: Turn one?"], ["fake/b", "done", "fake/b: Turn one?"]]);
    expect(wb.conversation.cardsOf(wb.conversation.get("rt_1")!)).toBe(cards); // made once
    wb.conversation.toggle("rt_1");
    expect(wb.conversation.isOpen("rt_1")).toBe(false);
  });

  it("carries on with one model of a finished card, fast, following that card's run", async () => {
    const { backend, wb } = await threeTurns();
    const live = wb.run!;
    wb.followUp.continueWith(live.runId!, live.request, live.panel[1]);
    wb.followUp.input = "Only b";
    await wb.sendFollowUp(backend);
    expect(sent(backend)[3]).toMatchObject({ input: "Only b", models: [{ name: "fake/b", temperature: 0.5 }], resolution: "fast", previous_id: "rt_3", context: "resolved" });
    expect(wb.run?.cards.map((c) => c.model)).toEqual(["fake/b"]);
    // The next turn starts from that one model; it widens back by editing the panel.
    expect(wb.followUp.request().models).toEqual([{ name: "fake/b", temperature: 0.5 }]);
    wb.followUp.addModel("fake/a");
    wb.followUp.resolution = "summary";
    wb.followUp.input = "Both again";
    await wb.sendFollowUp(backend);
    expect(sent(backend)[4]).toMatchObject({ models: [{ name: "fake/b", temperature: 0.5 }, { name: "fake/a" }], resolution: "summary", previous_id: "rt_4" });
  });

  it("runs an edited turn again as a branch, and switches between the branches", async () => {
    const { backend, wb } = await threeTurns();
    const turn2 = wb.conversation.get("rt_2")!;
    wb.conversation.edit(turn2);
    expect([wb.conversation.editing, wb.conversation.editText]).toEqual(["rt_2", "Turn two?"]);
    await wb.branchFrom(backend, turn2, "Turn two, edited?");
    expect(sent(backend)[3]).toMatchObject({ input: "Turn two, edited?", previous_id: "rt_1", context: "own" });
    expect(wb.conversation.editing).toBeNull();
    // The branch on screen: turn 1, then the edited turn 2.
    expect(wb.run?.runId).toBe("rt_4");
    expect(wb.conversation.earlier(wb.run?.request.previous_id).map((r) => r.summary.id)).toEqual(["rt_1"]);
    expect(wb.conversation.place("rt_4", "rt_1")).toMatchObject({ index: 1, count: 2 });

    // Back to branch 1: its latest turn (turn 3) on screen, turns 1 and 2 before it.
    wb.switchBranch("rt_2");
    expect(wb.run?.runId).toBe("rt_3");
    expect(wb.run?.origin).toBe("history");
    expect(wb.conversation.earlier(wb.run?.request.previous_id).map((r) => r.summary.id)).toEqual(["rt_1", "rt_2"]);
    expect(wb.followUp.previousId).toBe("rt_3");
    wb.switchBranch("rt_4");
    expect(wb.run?.runId).toBe("rt_4");
  });

  it("edits the first turn into a conversation of its own", async () => {
    const { backend, wb } = await threeTurns();
    await wb.branchFrom(backend, wb.conversation.get("rt_1")!, "Another start?");
    const req = sent(backend)[3];
    expect(req.previous_id).toBeUndefined();
    expect(req.context).toBeUndefined();
    expect(wb.conversation.runs).toEqual([]);
  });

  it("opens a conversation at a turn: the latest turn of its branch open, that turn unfolded and in view", async () => {
    const { backend } = await threeTurns();
    const wb = new Workbench();
    await wb.open(backend, backend.runs[1]);
    expect(wb.run?.runId).toBe("rt_3");
    expect(wb.conversation.unfolded).toEqual(["rt_2"]);
    expect(wb.conversation.focus).toBe("rt_2");
    expect(wb.followUp.previousId).toBe("rt_3");
    // Opened at its latest turn, that turn is the one brought into view.
    await wb.open(backend, backend.runs[2]);
    expect([wb.run?.runId, wb.conversation.unfolded, wb.conversation.focus]).toEqual(["rt_3", [], "rt_3"]);
    // A run of no conversation opens alone, without reading a thread.
    const reads = backend.calls.filter((c) => c.method === "thread").length;
    backend.addRun(storedRun("rt_solo", { input: "Solo", models: [{ name: "fake/a" }] }, response([result(0, "fake/a", "A")])));
    await wb.open(backend, backend.runs.at(-1)!);
    expect([wb.run?.runId, wb.conversation.runs.length]).toEqual(["rt_solo", 0]);
    expect(backend.calls.filter((c) => c.method === "thread")).toHaveLength(reads);
  });

  it("reads the conversation again when the history changes: a turn added elsewhere, the thread deleted", async () => {
    const { backend, wb } = await threeTurns();
    // The CLI follows turn 2 up: turn 3 now has a sibling.
    backend.addRun(storedRun("rt_cli", { input: "From the CLI", models: [{ name: "fake/a" }], previous_id: "rt_2" }, response([result(0, "fake/a", "A")]), { created_at_ms: Date.now() + 1000 }));
    await wb.refreshThread(backend);
    expect(wb.conversation.place("rt_3", "rt_2")).toMatchObject({ index: 0, count: 2 });
    await backend.deleteThread("rt_1");
    await wb.refreshThread(backend);
    expect([wb.conversation.runs.length, wb.conversation.error]).toEqual([0, null]);
    expect(wb.run?.runId).toBe("rt_3"); // still on screen, as a deleted run opened is
  });

  it("refuses a follow-up of a run the history does not have, naming the field", async () => {
    const { backend, wb } = setup();
    await wb.start(backend);
    wb.followUp.previousId = "rt_gone";
    wb.followUp.input = "Hello?";
    await wb.sendFollowUp(backend);
    expect(wb.run?.error).toMatchObject({ field: "previous_id" });
  });
});

describe("the thread view", () => {
  it("offers multiple choice after a summary turn, with the choices to type, and the next follow-up starts from the ones sent", async () => {
    const { backend, wb } = setup();
    await wb.start(backend);
    render(FollowUpBox, { props: { wb, backend, settings: new Settings(), suggestions: [] } });
    const select = screen.getByTestId("follow-up-resolution") as HTMLSelectElement;
    expect([...select.options].map((o) => o.value)).toEqual(["summary", "fast", "multiple_choice"]);
    expect(screen.queryByTestId("follow-up-choices")).toBeNull();
    await fireEvent.change(select, { target: { value: "multiple_choice" } });
    const choices = screen.getByLabelText("Choices to vote among") as HTMLInputElement;
    expect([choices.dataset.testid, choices.value]).toEqual(["follow-up-choices", ""]);
    await fireEvent.input(screen.getByTestId("follow-up-input"), { target: { value: "Which?" } });
    await fireEvent.input(choices, { target: { value: "Yes" } });
    expect(screen.getByTestId("follow-up-send").title).toMatch(/at least two different choices/);
    await fireEvent.click(screen.getByTestId("follow-up-send"));
    expect(screen.getByTestId("follow-up-error").textContent).toMatch(/at least two different choices/);
    expect(sent(backend)).toHaveLength(1);
    await fireEvent.input(choices, { target: { value: "Yes, No" } });
    await fireEvent.click(screen.getByTestId("follow-up-send"));
    await waitFor(() => expect(wb.followUp.previousId).toBe("rt_2"));
    expect(sent(backend)[1]).toMatchObject({ resolution: "multiple_choice", choices: ["Yes", "No"], previous_id: "rt_1" });
    // The next turn follows the one just sent: multiple choice, its choices prefilled.
    expect(select.value).toBe("multiple_choice");
    expect((screen.getByTestId("follow-up-choices") as HTMLInputElement).value).toBe("Yes, No");
  });

  it("shows the earlier turns folded, opens one's cards, says which turns a card got the resolved answer for, and sends a follow-up", async () => {
    const { backend, wb } = await threeTurns();
    render(WorkbenchView, { props: { wb, settings: new Settings(), suggestions: [], oncompare: vi.fn() }, context: backendContext(backend) });
    const turns = screen.getAllByTestId("thread-turn");
    expect(turns.map((t) => [t.dataset.turn, t.querySelector("[data-testid=turn-prompt]")?.textContent])).toEqual([["1", "Turn one?"], ["2", "Turn two?"]]);
    expect(turns[0].querySelector("[data-testid=turn-answer]")?.textContent).toContain("resolved: Turn one?");
    expect(turns[0].querySelectorAll("[data-testid=model-card]")).toHaveLength(0);
    // The turn on screen is turn 3; its cards say what context they were sent.
    expect(document.querySelector(".live-turn [data-testid=turn-head]")?.getAttribute("data-turn")).toBe("3");
    const live = screen.getByTestId("cards");
    expect(live.querySelector("[data-model='fake/b'] [data-testid=card-context-resolved]")?.textContent).toBe("turn 1: sent the resolved answer");
    expect(live.querySelector("[data-model='fake/a'] [data-testid=card-context]")?.textContent).toBe("context 20");

    // Before it runs: a model the thread would overflow is flagged beside the estimate.
    backend.contextWindows = { "fake/b": 5 };
    await fireEvent.input(screen.getByTestId("follow-up-input"), { target: { value: "Next?" } });
    const flag = await screen.findByTestId("over-context", {}, { timeout: 2000 });
    expect([flag.dataset.model, flag.textContent]).toEqual(["fake/b", expect.stringMatching(/fake\/b is over its context window of 5 tokens \(\d+ to send\)/)]);
    expect(backend.calls.filter((c) => c.method === "estimateRun").at(-1)?.args[0]).toMatchObject({ previous_id: "rt_3", input: "Next?" });

    await fireEvent.click(turns[1].querySelector("[data-testid=turn-toggle]")!);
    await waitFor(() => expect(turns[1].querySelectorAll("[data-testid=model-card]")).toHaveLength(2));

    // Continue on turn 2's card: the box follows turn 2 (a new branch) with that model.
    await fireEvent.click(turns[1].querySelector("[data-model='fake/a'] [data-testid=card-continue]")!);
    expect(screen.getByTestId("follow-up-branch").textContent).toBe("from turn 2: a new branch");
    expect(screen.getByTestId("follow-up-panel").textContent?.trim()).toBe("fake/a");
    await fireEvent.click(screen.getByTestId("follow-up-widen"));
    await fireEvent.input(screen.getByTestId("follow-up-input"), { target: { value: "Turn four?" } });
    await fireEvent.click(screen.getByTestId("follow-up-send"));
    await waitFor(() => expect(wb.run?.request.input).toBe("Turn four?"));
    expect(sent(backend)[3]).toMatchObject({ previous_id: "rt_2", context: "own", models: [{ name: "fake/a" }, { name: "fake/b", temperature: 0.5 }] });
    // The branch on screen: turns 1 and 2, then turn 3 of a second branch.
    await waitFor(() => expect(document.querySelector(".live-turn [data-testid=branch-label]")?.textContent).toBe("branch 2 of 2"));
    expect(screen.getAllByTestId("thread-turn").map((t) => t.dataset.id)).toEqual(["rt_1", "rt_2"]);
  });
});
