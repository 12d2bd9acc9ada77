// A blind run's failure notes (the summary's, the claims') name no model
// before the vote: the engine and the providers write them with names in any
// form, so they are withheld whole until the names are revealed (issue 24, 23).
import { describe, expect, it } from "vitest";
import { render, screen } from "@testing-library/svelte";
import { flushSync } from "svelte";
import AgreementPanel from "../lib/components/AgreementPanel.svelte";
import ResolvedPanel from "../lib/components/ResolvedPanel.svelte";
import type { Meta } from "../lib/ipc/types/Meta";
import { RunState } from "../lib/state/run.svelte";
import { WHY_LATER } from "../lib/state/voting.svelte";
import { response, result } from "./fixtures";

const MODELS = ["openai/gpt-4.1", "anthropic/claude-sonnet-4"];
/** Every form a name took in the notes: the panel's, a default summary model the page never saw, a bare id in a provider's body. */
const NAMES = [...MODELS, "gpt-4.1", "claude-sonnet-4", "google/gemini-2.5-pro", "gemini-2.5-pro"];

function blindRun(meta: Partial<Meta>, data: string): RunState {
  const run = new RunState("h", { input: "q", models: MODELS.map((name) => ({ name })), consensus: true });
  run.voting.blindfold(() => 0.3);
  const results = [result(0, MODELS[0], "A"), result(1, MODELS[1], "B")];
  const full: Meta = { resolution: "summary", models_used: MODELS, total_cost: 0, total_duration_ms: 10, summary_model: MODELS[1], ...meta };
  run.finish({ response: response(results, { data, meta: full }), status: "completed" });
  return run;
}

function render2(run: RunState): HTMLElement {
  const box = document.createElement("div");
  document.body.appendChild(box);
  render(ResolvedPanel, { props: { run }, target: box });
  render(AgreementPanel, { props: { run }, target: box });
  return box;
}

const SUMMARY_FELL_BACK =
  "the summary by google/gemini-2.5-pro failed, so anthropic/claude-sonnet-4 wrote it: google/gemini-2.5-pro: HTTP 404: models/gemini-2.5-pro is not found";
const CLAIMS_FAILED = "the claims call to openai/gpt-4.1 failed: HTTP 400: The model `gpt-4.1` does not support json_schema";

describe("a blind run's failure notes", () => {
  it("name no model before the vote, and show whole once the models are revealed", () => {
    const run = blindRun({ summary_error: SUMMARY_FELL_BACK, claims_error: CLAIMS_FAILED }, "Both.");
    const box = render2(run);
    for (const name of NAMES) expect(box.innerHTML).not.toContain(name);
    expect(screen.getByTestId("summary-note").textContent).toBe(`Note: the summary was not written as asked; ${WHY_LATER}.`);
    expect(screen.getByTestId("claims-note").textContent).toBe(`No claims matrix; ${WHY_LATER}.`);

    run.voting.revealed = true;
    flushSync();
    expect(screen.getByTestId("summary-note").textContent).toBe(`Note: ${SUMMARY_FELL_BACK}`);
    expect(screen.getByTestId("claims-note").textContent).toBe(`No claims matrix: ${CLAIMS_FAILED}`);
  });

  it("withhold why the consolidation failed when no summary was written", () => {
    const run = blindRun({ summary_error: `no model could write the summary: ${MODELS[0]}: HTTP 500; ${MODELS[1]}: HTTP 500` }, "");
    const box = render2(run);
    for (const name of NAMES) expect(box.innerHTML).not.toContain(name);
    expect(screen.getByRole("alert").textContent).toBe(`The consolidation failed; ${WHY_LATER}.`);
  });
});
