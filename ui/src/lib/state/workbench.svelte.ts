// The workbench's draft (what the next run will ask) and its current run. Kept
// outside the components, so switching views keeps both.
import type { Backend, Resolution, RoundtableRequest, ModelSpec } from "../ipc/backend";
import { errorMessage, isAppError, newHandle } from "../ipc/backend";
import { checkSchema } from "../schema/check";
import { AttachmentTray } from "./attachments.svelte";
import { RunState } from "./run.svelte";
import { draftModel, type ModelDraft } from "./settings.svelte";

/** The most samples a model entry may ask for (the engine's MAX_SAMPLES). */
export const MAX_SAMPLES = 32;

/** The entries expanded from one `samples` entry (numbered 1, 2, … in a row) made one again. */
export function collapseSamples(models: ModelSpec[]): ModelSpec[] {
  const out: ModelSpec[] = [];
  for (const m of models) {
    const last = out[out.length - 1];
    if (m.sample && m.sample > 1 && last && last.name === m.name && (last.samples ?? 1) === m.sample - 1) {
      last.samples = m.sample;
      continue;
    }
    const { sample: _, ...rest } = m;
    out.push(m.sample === 1 ? { ...rest, samples: 1 } : { ...rest });
  }
  return out;
}

export class Workbench {
  input = $state("");
  instructions = $state("");
  panel = $state<ModelDraft[]>([draftModel()]);
  resolution = $state<Resolution>("summary");
  /** Summary mode: also ask for the claims matrix (`consensus`). */
  consensus = $state(false);
  summaryModel = $state("");
  /** The summary model of Settings, used when the draft names none. */
  defaultSummaryModel = $state("");
  choices = $state<string[]>(["", ""]);
  schemaText = $state("");
  maxRetries = $state(1);
  timeoutS = $state(120);
  /** USD the run may cost (`max_cost`); null: no cap. */
  maxCost = $state<number | null>(null);
  run = $state<RunState | null>(null);
  /** Cards picked for Compare, by index. */
  compare = $state<number[]>([]);
  formError = $state<string | null>(null);
  /** Files sent with the prompt; kept after a run, so running again sends them again. */
  readonly attachments = new AttachmentTray();
  /** Where blind mode's shuffles draw from (a seeded one in tests). */
  random: () => number = Math.random;

  /** What is wrong with the draft, or null when it can run. */
  problem(): string | null {
    if (!this.input.trim()) return "Write a prompt first.";
    const models = this.panel.filter((m) => m.name.trim());
    if (models.length === 0) return "Add at least one model to the panel.";
    const bad = models.find((m) => !/^[^/\s]+\/\S+$/.test(m.name.trim()));
    if (bad) return `“${bad.name}” is not provider/model (e.g. openai/gpt-4.1-mini).`;
    if (this.resolution === "multiple_choice" && this.choices.filter((c) => c.trim()).length < 2)
      return "Multiple choice needs at least two choices.";
    if (checkSchema(this.schemaText).state === "invalid") return "Fix the output schema first.";
    if (!Number.isInteger(this.maxRetries) || this.maxRetries < 0 || this.maxRetries > 3)
      return "Max retries is a whole number from 0 to 3.";
    if (!(this.timeoutS >= 1 && this.timeoutS <= 300)) return "The timeout is from 1 to 300 seconds.";
    if (this.maxCost !== null && !(this.maxCost > 0)) return "Max cost is a positive number of USD (or blank).";
    if (this.attachments.busy) return "Wait until the attached files are read.";
    return null;
  }

  request(): RoundtableRequest {
    const models: ModelSpec[] = this.panel
      .filter((m) => m.name.trim())
      .map((m) => {
        const spec: ModelSpec = { name: m.name.trim() };
        if (m.max_tokens) spec.max_tokens = m.max_tokens;
        if (m.reasoning) spec.reasoning = m.reasoning;
        if (m.temperature !== null && !Number.isNaN(m.temperature)) spec.temperature = m.temperature;
        if (m.top_p !== null && !Number.isNaN(m.top_p)) spec.top_p = m.top_p;
        if (m.samples && m.samples > 1) spec.samples = Math.min(MAX_SAMPLES, Math.round(m.samples));
        return spec;
      });
    const req: RoundtableRequest = { input: this.input, models, resolution: this.resolution };
    if (this.instructions.trim()) req.instructions = this.instructions;
    const summary = this.summaryModel.trim() || this.defaultSummaryModel.trim();
    if (this.resolution === "summary" && summary) req.summary_model = summary;
    if (this.resolution === "summary" && this.consensus) req.consensus = true;
    if (this.resolution === "multiple_choice") req.choices = this.choices.map((c) => c.trim()).filter(Boolean);
    const schema = checkSchema(this.schemaText);
    if (schema.state === "valid") req.output_schema = schema.schema as RoundtableRequest["output_schema"];
    if (this.maxRetries !== 1) req.max_retries = this.maxRetries;
    if (this.timeoutS !== 120) req.timeout_ms = Math.round(this.timeoutS * 1000);
    if (this.maxCost !== null && this.maxCost > 0) req.max_cost = this.maxCost;
    if (this.attachments.items.length) req.attachments = this.attachments.toRequest();
    return req;
  }

  /**
   * Starts a run of the draft; resolves when it is over. Blind, its answers are
   * shown in an order of their own and unnamed until the vote.
   */
  async start(backend: Backend, { blind = false }: { blind?: boolean } = {}): Promise<void> {
    this.formError = this.problem();
    if (this.formError) return;
    // A stored run's files, opened from the history: their bytes first (only
    // then a pause before the run starts: a Cancel at once must find it).
    if (!this.attachments.complete) {
      try {
        await this.attachments.ready(backend);
      } catch (e) {
        this.formError = errorMessage(e);
        return;
      }
    }
    const run = new RunState(newHandle(), this.request(), "run");
    if (blind) run.voting.blindfold(this.random);
    await this.track(backend, run, (run) => backend.run(run.handle, run.request, (e) => run.receive(e)));
  }

  /** The run was refused because its worst case is over its `max_cost`. */
  get costRefused(): boolean {
    return this.run?.error?.field === "max_cost" && !this.run.running;
  }

  /** Sends the refused run again, confirming its cost (`confirm_cost`); the cap still stops it. */
  async runAnyway(backend: Backend): Promise<void> {
    const refused = this.run;
    if (!refused || !this.costRefused) return;
    const run = new RunState(newHandle(), { ...refused.request, confirm_cost: true }, "run");
    if (refused.voting.blind) run.voting.blindfold(this.random);
    await this.track(backend, run, (run) => backend.run(run.handle, run.request, (e) => run.receive(e)));
  }

  async track(backend: Backend, run: RunState, go: (run: RunState) => ReturnType<Backend["run"]>): Promise<void> {
    if (this.run?.running) await backend.cancel(this.run.handle);
    this.run = run;
    this.compare = [];
    run.startClock();
    try {
      run.finish(await go(run));
    } catch (e) {
      run.fail(isAppError(e) ? e : { code: "internal", message: errorMessage(e), field: null });
    }
  }

  async cancel(backend: Backend): Promise<void> {
    const run = this.run;
    if (!run?.running) return;
    run.cancelling = true;
    try {
      // A Cancel clicked at once can reach the shell before the run it names is
      // registered there: ask again until it is, or until the run is over.
      while (run.running && !(await backend.cancel(run.handle))) await new Promise((r) => setTimeout(r, 50));
    } catch {
      run.cancelling = false; // the button works again
    }
  }

  /** Fills the draft from a stored request (to edit and run again). */
  load(req: RoundtableRequest): void {
    this.input = req.input;
    this.instructions = req.instructions ?? "";
    // A stored request is the expanded one: its samples are one entry again.
    this.panel = collapseSamples(req.models).map((m) =>
      draftModel(m.name, {
        max_tokens: m.max_tokens ?? null,
        reasoning: (m.reasoning as ModelDraft["reasoning"]) ?? "",
        temperature: m.temperature ?? null,
        top_p: m.top_p ?? null,
        ...(m.samples && m.samples > 1 ? { samples: m.samples } : {}),
      }),
    );
    this.resolution = req.resolution ?? "summary";
    this.consensus = req.consensus === true;
    this.summaryModel = req.summary_model ?? "";
    this.choices = req.choices?.length ? [...req.choices] : ["", ""];
    this.schemaText = req.output_schema ? JSON.stringify(req.output_schema, null, 2) : "";
    this.maxRetries = req.max_retries ?? 1;
    this.timeoutS = (req.timeout_ms ?? 120_000) / 1000;
    this.maxCost = req.max_cost ?? null;
    this.attachments.load(req.attachments);
  }
}
