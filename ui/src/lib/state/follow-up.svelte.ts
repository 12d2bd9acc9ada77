// The follow-up box under a finished run: the next question of the
// conversation, to the same panel unless edited, each model sent its own
// earlier answers (`own`) or the resolved ones (`resolved`). "Continue with
// this model" makes it a follow-up with that one model, in `fast` mode; its
// panel can be widened back at the next turn. Multiple choice votes among the
// choices typed, the earlier turn's to start with.
import type { Context, ModelSpec, Resolution, RoundtableRequest } from "../ipc/backend";
import { draftModel, type ModelDraft } from "./settings.svelte";
import { draftsOf, panelProblem, specsOf } from "./panel";
import { parseChoices } from "./choices";

export class FollowUp {
  input = $state("");
  context = $state<Context>("own");
  panel = $state<ModelDraft[]>([]);
  resolution = $state<Resolution>("summary");
  /** The choices to vote among in multiple choice, comma-separated. */
  choicesText = $state("");
  /** The panel's editor is open (else the panel shows as its models' names). */
  editingPanel = $state(false);
  /** The run this follows up; null until a run has finished. */
  previousId = $state<string | null>(null);
  /** The request of the run it follows: its instructions and summary model carry over. */
  base = $state.raw<RoundtableRequest | null>(null);
  /** Set by "Continue with this model": the one model it carries on with. */
  single = $state<string | null>(null);
  /** Bumped to bring the box into view and its prompt into focus. */
  summoned = $state(0);

  /** Follows up `runId`, whose request was `from`: its panel, resolution, choices and context, a new prompt. */
  follow(runId: string, from: RoundtableRequest): void {
    if (this.previousId === runId && this.single === null) return;
    this.previousId = runId;
    this.base = from;
    this.panel = draftsOf(from.models);
    this.resolution = from.resolution ?? "summary";
    this.choicesText = (from.choices ?? []).join(", ");
    this.context = from.context ?? "own";
    this.single = null;
    this.editingPanel = false;
  }

  /** Carries on from `runId` with the one model `spec` (its options kept), in fast mode. */
  continueWith(runId: string, from: RoundtableRequest, spec: ModelSpec): void {
    const { sample: _s, samples: _n, ...one } = spec;
    this.previousId = runId;
    this.base = from;
    this.panel = draftsOf([one]);
    this.resolution = "fast";
    this.choicesText = (from.choices ?? []).join(", ");
    this.context = from.context ?? "own";
    this.single = one.name;
    this.editingPanel = false;
    this.summoned++;
  }

  /** Back to the whole panel of the run it follows. */
  widen(): void {
    if (!this.base || !this.previousId) return;
    const at = this.previousId;
    this.previousId = null;
    this.follow(at, this.base);
  }

  addModel(name = ""): void {
    this.panel = [...this.panel, draftModel(name)];
    this.editingPanel = true;
  }

  /** What is wrong with the follow-up, or null when it can be sent. */
  problem(): string | null {
    if (!this.previousId) return "A follow-up needs a finished run.";
    if (!this.input.trim()) return "Write the follow-up question first.";
    if (this.resolution === "multiple_choice" && parseChoices(this.choicesText).length < 2)
      return "Multiple choice needs at least two different choices, comma-separated.";
    return panelProblem(this.panel);
  }

  /**
   * The request the follow-up sends: `previous_id` the run it follows, its
   * `context`, the panel as edited; the instructions, summary model (else
   * `defaultSummary`), retries and timeout of the run it follows; the choices typed.
   */
  request(defaultSummary = ""): RoundtableRequest {
    const base = this.base;
    const req: RoundtableRequest = {
      input: this.input,
      models: specsOf(this.panel),
      resolution: this.resolution,
      previous_id: this.previousId,
      context: this.context,
    };
    if (base?.instructions?.trim()) req.instructions = base.instructions;
    const summary = base?.summary_model?.trim() || defaultSummary.trim();
    if (this.resolution === "summary" && summary) req.summary_model = summary;
    if (this.resolution === "multiple_choice") req.choices = parseChoices(this.choicesText);
    if (base?.max_retries !== undefined && base.max_retries !== null) req.max_retries = base.max_retries;
    if (base?.timeout_ms) req.timeout_ms = base.timeout_ms;
    return req;
  }

  /** Sent: the box is empty again for the next turn, which follows `runId` (the run just made). */
  sent(runId: string, request: RoundtableRequest): void {
    this.input = "";
    this.previousId = null;
    this.follow(runId, request);
  }
}
