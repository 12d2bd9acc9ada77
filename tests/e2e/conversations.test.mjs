// End to end, conversations (issue 15): a run followed up in the real window
// against the fake provider. Turn 2 in own context (each model sent its own
// answer; the model that failed turn 1 sent turn 1's resolved answer, and its
// card says so), turn 3 in resolved context (every model sent the resolved
// answers), the model over its context window flagged beside the estimate, the
// earlier turns folded and opened, turn 2 edited and run again as a branch with
// a switcher between the branches, "Continue" with one model (fast), and the
// History's one line per conversation opening the thread at a search hit's turn.
// The fake provider's recorded requests show each model got the multi-turn
// messages.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { artifacts, darkScreenshot, startApp, waitInPage } from "./harness.mjs";

const T1 = "Turn one: name a colour. (e2e-conv)";
const T2 = "Turn two: why that one?";
const T3 = "Turn three: and in French?";
const T2B = "Turn two, edited: why not blue?";
const T4 = "Turn four: just bob, shorter.";
const SCRIPT = {
  // Each panel model answers `Answer from <model>: <the question's first 40 characters>`.
  default: { latency_ms: 40, chunks: 3 },
  models: {
    // Fails turn 1 (its first call): the turns after send it turn 1's resolved answer.
    cy: { latency_ms: 40, faults: [{ kind: "status", status: 400, message: "e2e: cy is down for turn one" }] },
    sum: {
      latency_ms: 40,
      answer_when: [
        ["edited", "Resolved: turn two, edited."],
        ["Turn three", "Resolved: turn three."],
        ["Turn two", "Resolved: turn two."],
        ["Turn one", "Resolved: turn one."],
      ],
    },
  },
};
// cy takes 8 tokens at most: every follow-up sends it more.
const PRICES = { "fake/cy": { input_cost_per_token: 1e-6, output_cost_per_token: 2e-6, max_input_tokens: 8 } };
const PANEL = ["fake/ada", "fake/bob", "fake/cy"];
const answer = (model, question) => `Answer from ${model}: ${question.slice(0, 40)}`;

/** The messages of a recorded OpenAI-format request, as [role, text]. */
function messages(body) {
  return body.messages.map((m) => [m.role, typeof m.content === "string" ? m.content : m.content.map((p) => p.text ?? "").join("")]);
}

describe("conversations", () => {
  let app;
  let browser;
  const requests = async (model) => (await (await fetch(`${app.url}/_fake/requests`)).json()).filter((r) => r.model === model);
  /** The run on screen is `prompt`'s and it is over: its phase. */
  const finished = (prompt) => {
    const line = document.querySelector("[data-testid=run-head] .prompt-line");
    const phase = document.querySelector("[data-testid=run-phase]")?.textContent ?? "";
    return line?.getAttribute("title") === prompt && !phase.includes("Running") ? phase : null;
  };
  const waitFinished = async (prompt) => {
    const phase = await waitInPage(browser, finished, [prompt], { message: `the run of “${prompt}” did not end` });
    assert.match(phase, /Completed/, prompt);
  };
  const liveCards = () =>
    Object.fromEntries(
      [...document.querySelectorAll("[data-testid=cards] [data-testid=model-card]")].map((c) => [
        c.dataset.model,
        { status: c.dataset.status, context: c.querySelector("[data-testid=card-context]")?.textContent ?? null, resolved: c.querySelector("[data-testid=card-context-resolved]")?.textContent ?? null },
      ]),
    );
  const earlierTurns = () =>
    [...document.querySelectorAll("[data-testid=thread-turn]")].map((t) => ({
      turn: t.dataset.turn,
      id: t.dataset.id,
      prompt: t.querySelector("[data-testid=turn-prompt]")?.textContent,
      answer: t.querySelector("[data-testid=turn-answer]")?.innerText.trim(),
      cards: t.querySelectorAll("[data-testid=model-card]").length,
      branch: t.querySelector("[data-testid=branch-label]")?.textContent ?? null,
    }));
  async function followUp(question, context) {
    const input = await browser.$("[data-testid=follow-up-input]");
    await input.waitForDisplayed({ timeout: 10_000 });
    if (context) await (await browser.$(`[data-testid=follow-up-context] button[data-context=${context}]`)).click();
    await input.setValue(question);
  }

  before(async () => {
    app = await startApp(SCRIPT, { top: 'price_files = ["prices.json"]\n', files: { "prices.json": JSON.stringify(PRICES) } });
    browser = app.browser;
    await (await browser.$("[data-testid=prompt]")).waitForDisplayed({ timeout: 30_000 });
  });
  after(async () => {
    await app?.stop();
  });

  it("follows a run up twice, in own then resolved context, each model sent the thread as turns", async () => {
    await (await browser.$("[data-testid=prompt]")).setValue(T1);
    for (const [i, model] of PANEL.entries()) {
      if (i > 0) await (await browser.$("[data-testid=add-model]")).click();
      await (await browser.$$("[data-testid=model-input]"))[i].setValue(model);
    }
    await (await browser.$('input[aria-label="Summary model"]')).setValue("fake/sum");
    await (await browser.$("[data-testid=run]")).click();
    await waitFinished(T1);
    assert.equal((await browser.execute(liveCards))["fake/cy"].status, "failed");

    // Turn 2, own context: cy is over its context window, said before it runs.
    await followUp(T2);
    const flag = await waitInPage(browser, () => {
      const flags = [...document.querySelectorAll("[data-testid=over-context]")].map((f) => [f.dataset.model, f.textContent]);
      return flags.length ? flags : null;
    }, [], { message: "no model flagged over its context window" });
    assert.equal(flag.length, 1, JSON.stringify(flag));
    assert.equal(flag[0][0], "fake/cy");
    assert.match(flag[0][1], /over its context window of 8 tokens/);
    await browser.pause(300);
    await browser.saveScreenshot(join(artifacts, "conversations-follow-up.png"));
    await darkScreenshot(browser, "conversations-follow-up");

    // Multiple choice is offered after a summary turn, with choices to type.
    const resolution = await browser.$("[data-testid=follow-up-resolution]");
    await resolution.selectByAttribute("value", "multiple_choice");
    const choices = await browser.$("[data-testid=follow-up-choices]");
    await choices.waitForDisplayed({ timeout: 5_000 });
    assert.equal(await choices.getValue(), "");
    await choices.setValue("Red");
    const send = await browser.$("[data-testid=follow-up-send]");
    assert.match(await send.getAttribute("title"), /at least two different choices/);
    await choices.setValue("Red, Blue");
    assert.equal(await send.getAttribute("title"), "");
    await browser.execute(() => document.querySelector("[data-testid=follow-up]").scrollIntoView({ block: "end" }));
    await browser.pause(300);
    await browser.saveScreenshot(join(artifacts, "conversations-follow-up-choices.png"));
    await darkScreenshot(browser, "conversations-follow-up-choices");
    await resolution.selectByAttribute("value", "summary");
    await choices.waitForDisplayed({ reverse: true, timeout: 5_000 });

    await send.click();
    await waitFinished(T2);

    let cards = await browser.execute(liveCards);
    assert.equal(cards["fake/cy"].status, "done");
    assert.equal(cards["fake/cy"].resolved, "turn 1: sent the resolved answer");
    assert.equal(cards["fake/ada"].resolved, null);
    assert.match(cards["fake/ada"].context, /^context \S+/);
    let turns = await browser.execute(earlierTurns);
    assert.deepEqual(turns.map((t) => [t.turn, t.prompt, t.cards]), [["1", T1, 0]]);
    assert.match(turns[0].answer, /Resolved: turn one\./);

    // Each model got turn 1 as a user and an assistant message, its own answer
    // (cy, which had none, the resolved one), then turn 2.
    const [ada, cy] = [(await requests("ada")).at(-1), (await requests("cy")).at(-1)];
    assert.deepEqual(messages(ada.body).filter(([r]) => r !== "system"), [["user", T1], ["assistant", answer("ada", T1)], ["user", T2]]);
    assert.deepEqual(messages(cy.body).filter(([r]) => r !== "system"), [["user", T1], ["assistant", "Resolved: turn one."], ["user", T2]]);

    // Turn 3, resolved context: every model gets the resolved answers.
    await followUp(T3, "resolved");
    await (await browser.$("[data-testid=follow-up-send]")).click();
    await waitFinished(T3);
    for (const model of ["ada", "bob", "cy"]) {
      const sent = (await requests(model)).at(-1);
      assert.deepEqual(
        messages(sent.body).filter(([r]) => r !== "system"),
        [["user", T1], ["assistant", "Resolved: turn one."], ["user", T2], ["assistant", "Resolved: turn two."], ["user", T3]],
        model,
      );
    }
    turns = await browser.execute(earlierTurns);
    assert.deepEqual(turns.map((t) => [t.turn, t.prompt]), [["1", T1], ["2", T2]]);
    const live = await browser.execute(() => document.querySelector(".live-turn [data-testid=turn-head]")?.dataset.turn);
    assert.equal(live, "3");

    // An earlier turn opens to its cards, each with the context it was sent.
    await (await browser.$("[data-testid=thread-turn][data-turn='2'] [data-testid=turn-toggle]")).click();
    const opened = await waitInPage(browser, () => {
      const t = document.querySelector("[data-testid=thread-turn][data-turn='2']");
      const cards = [...t.querySelectorAll("[data-testid=model-card]")];
      return cards.length === 3 ? cards.map((c) => [c.dataset.model, c.querySelector("[data-testid=card-context]")?.textContent ?? null]) : null;
    }, [], { message: "turn 2's cards did not open" });
    for (const [model, context] of opened) assert.match(context ?? "", /^context /, model);
    await browser.pause(300);
    await browser.saveScreenshot(join(artifacts, "conversations-thread.png"));
    await darkScreenshot(browser, "conversations-thread");
    await (await browser.$("[data-testid=thread-turn][data-turn='2'] [data-testid=turn-toggle]")).click();
  });

  it("edits turn 2 and runs it again as a branch, and switches between the branches", async () => {
    await (await browser.$("[data-testid=thread-turn][data-turn='2'] [data-testid=turn-edit]")).click();
    const input = await browser.$("[data-testid=thread-turn][data-turn='2'] [data-testid=turn-edit-input]");
    await input.setValue(T2B);
    await (await browser.$("[data-testid=thread-turn][data-turn='2'] [data-testid=turn-edit-run]")).click();
    await waitFinished(T2B);

    // The branch follows turn 1, in own context: turn 3 is not in it.
    const ada = (await requests("ada")).at(-1);
    assert.deepEqual(messages(ada.body).filter(([r]) => r !== "system"), [["user", T1], ["assistant", answer("ada", T1)], ["user", T2B]]);
    const head = await browser.execute(() => {
      const h = document.querySelector(".live-turn [data-testid=turn-head]");
      return { turn: h?.dataset.turn, branch: h?.querySelector("[data-testid=branch-label]")?.textContent };
    });
    assert.deepEqual(head, { turn: "2", branch: "branch 2 of 2" });
    assert.deepEqual((await browser.execute(earlierTurns)).map((t) => t.prompt), [T1]);
    await browser.pause(300);
    await browser.saveScreenshot(join(artifacts, "conversations-branch.png"));
    await darkScreenshot(browser, "conversations-branch");

    // Back to branch 1: its latest turn (turn 3) on screen, turn 2 as it was.
    await (await browser.$(".live-turn [data-testid=branch-prev]")).click();
    await waitFinished(T3);
    const turns = await browser.execute(earlierTurns);
    assert.deepEqual(turns.map((t) => [t.prompt, t.branch]), [[T1, null], [T2, "branch 1 of 2"]]);
    await (await browser.$("[data-testid=thread-turn][data-turn='2'] [data-testid=branch-next]")).click();
    await waitFinished(T2B);
    await (await browser.$(".live-turn [data-testid=branch-prev]")).click();
    await waitFinished(T3);
  });

  it("continues with one model of a finished card, fast, sent the whole thread", async () => {
    const before = { ada: (await requests("ada")).length, bob: (await requests("bob")).length, sum: (await requests("sum")).length };
    await (await browser.$("[data-testid=cards] [data-testid=model-card][data-model='fake/bob'] [data-testid=card-continue]")).click();
    const panel = await waitInPage(browser, () => {
      const p = document.querySelector("[data-testid=follow-up-panel]");
      return p && document.activeElement?.dataset.testid === "follow-up-input" ? p.textContent : null;
    }, [], { message: "Continue did not bring the follow-up box up with one model" });
    assert.equal(panel.trim(), "fake/bob");
    assert.equal(await browser.execute(() => document.querySelector("[data-testid=follow-up-resolution]").value), "fast");
    await followUp(T4);
    await (await browser.$("[data-testid=follow-up-send]")).click();
    await waitFinished(T4);
    assert.deepEqual(Object.keys(await browser.execute(liveCards)), ["fake/bob"]);
    const after = { ada: (await requests("ada")).length, bob: (await requests("bob")).length, sum: (await requests("sum")).length };
    assert.deepEqual(after, { ada: before.ada, bob: before.bob + 1, sum: before.sum }, "only bob was called, and no summary");
    // Turn 3 was in resolved context, and so is this turn: bob gets the resolved answers.
    const bob = (await requests("bob")).at(-1);
    assert.deepEqual(messages(bob.body).filter(([r]) => r !== "system"), [
      ["user", T1], ["assistant", "Resolved: turn one."],
      ["user", T2], ["assistant", "Resolved: turn two."],
      ["user", T3], ["assistant", "Resolved: turn three."],
      ["user", T4],
    ]);
    assert.deepEqual((await browser.execute(earlierTurns)).map((t) => t.turn), ["1", "2", "3"]);
  });

  it("lists the conversation once in the History, and opens it at a search hit's turn", async () => {
    await (await browser.$("[data-testid=nav-history]")).click();
    const lines = await waitInPage(browser, () => {
      const items = [...document.querySelectorAll("[data-testid=history-item]")];
      return items.length ? items.map((li) => [li.querySelector(".input").textContent, li.querySelector("[data-testid=history-turns]")?.textContent ?? null]) : null;
    }, [], { message: "the History lists nothing" });
    assert.deepEqual(lines, [[T4, "5 turns"]]);
    await browser.pause(300);
    await browser.saveScreenshot(join(artifacts, "conversations-history.png"));
    await darkScreenshot(browser, "conversations-history");

    // Its detail: a turn of a conversation; Delete asks how much of it.
    await (await browser.$("[data-testid=history-item] button.item")).click();
    await (await browser.$("[data-testid=detail-turns]")).waitForDisplayed({ timeout: 10_000 });
    assert.equal(await (await browser.$("[data-testid=detail-turns]")).getText(), "conversation · 5 turns");
    await (await browser.$('button[aria-label="Delete this run"]')).click();
    const choices = await browser.execute(() => [...document.querySelectorAll("[data-testid=delete-choices] button")].map((b) => b.textContent.trim()));
    assert.deepEqual(choices, ["Delete this turn and what follows", "Delete the whole conversation", "Keep"]);
    await browser.pause(300);
    await browser.saveScreenshot(join(artifacts, "conversations-history-delete.png"));
    await darkScreenshot(browser, "conversations-history-delete");
    await (await browser.$("button=Keep")).click();

    await (await browser.$("[data-testid=history-search]")).setValue("why that one");
    // A search lists turns, not conversations: turn 2 is among the hits.
    const hit = await waitInPage(browser, (t2) => {
      const items = [...document.querySelectorAll("[data-testid=history-item]")];
      return items.length > 0 && !items.some((li) => li.querySelector("[data-testid=history-turns]") === null) ? items.find((li) => li.querySelector(".input").textContent === t2)?.dataset.id : null;
    }, [T2], { message: "the search did not find turn 2" });
    await (await browser.$(`[data-testid=history-item][data-id="${hit}"] button.item`)).click();
    await (await browser.$("[data-testid=open-run]")).click();
    // The latest turn of its branch is open, turn 2 unfolded (its cards shown).
    await waitFinished(T4);
    const turns = await waitInPage(browser, (t2) => {
      const list = [...document.querySelectorAll("[data-testid=thread-turn]")];
      const two = list.find((t) => t.querySelector("[data-testid=turn-prompt]")?.textContent === t2);
      return list.length === 3 && two?.querySelectorAll("[data-testid=model-card]").length === 3 ? list.map((t) => t.dataset.turn) : null;
    }, [T2], { message: "the thread did not open at turn 2" });
    assert.deepEqual(turns, ["1", "2", "3"]);
    await browser.pause(300);
    await browser.saveScreenshot(join(artifacts, "conversations-opened.png"));
  });
});
