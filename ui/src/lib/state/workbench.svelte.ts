// The workbench's draft (what the next run will ask) and its current run. Kept
// outside the components, so switching views keeps both.
import type { Attachment, Backend, Resolution, RoundtableRequest, StoredRun } from "../ipc/backend";
import { errorMessage, isAppError, newHandle } from "../ipc/backend";
import { checkSchema } from "../schema/check";
import { AttachmentTray } from "./attachments.svelte";
import { RunState } from "./run.svelte";
import { draftModel, type ModelDraft } from "./settings.svelte";
import { draftsOf, panelProblem, specsOf } from "./panel";
import { Conversation } from "./conversation.svelte";
import { FollowUp } from "./follow-up.svelte";
import { inConversation } from "../thread";

export { MAX_SAMPLES, collapseSamples } from "./panel";

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
  /** The conversation the run on screen is the latest turn of (empty: none). */
  readonly conversation = new Conversation();
  /** The next question of that conversation, under the run once it has finished. */
  readonly followUp = new FollowUp();
  followUpError = $state<string | null>(null);
  /** Where blind mode's shuffles draw from (a seeded one in tests). */
  random: () => number = Math.random;

  /** What is wrong with the draft, or null when it can run. */
  problem(): string | null {
    if (!this.input.trim()) return "Write a prompt first.";
    const panel = panelProblem(this.panel);
    if (panel) return panel;
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
    const models = specsOf(this.panel);
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

  /**
   * Puts `run` on screen and runs it. A run that follows another shows the
   * turns before it (their thread read from the history); once it is
   * recorded, its thread is read again (it is a turn of it now) and the
   * follow-up box follows it up.
   */
  async track(backend: Backend, run: RunState, go: (run: RunState) => ReturnType<Backend["run"]>): Promise<void> {
    if (this.run?.running) await backend.cancel(this.run.handle);
    this.run = run;
    this.compare = [];
    const previous = run.request.previous_id;
    this.conversation.editing = null;
    if (!previous) this.conversation.clear();
    else if (!this.conversation.has(previous)) void this.conversation.load(backend, previous);
    run.startClock();
    try {
      run.finish(await go(run));
    } catch (e) {
      run.fail(isAppError(e) ? e : { code: "internal", message: errorMessage(e), field: null });
    }
    if (this.run !== run || !run.runId || run.phase === "error") return;
    if (previous) await this.conversation.load(backend, run.runId);
    this.followUp.sent(run.runId, run.request);
  }

  /**
   * Opens a stored run back into its cards. A turn of a conversation shows
   * its thread: the latest turn of its branch open and brought into view, the
   * turns before folded, and its own turn unfolded and brought into view
   * instead when it is an earlier one.
   */
  async open(backend: Backend, stored: StoredRun): Promise<void> {
    // Like a new run, an opened one takes the place of a run still going: that one stops.
    void this.cancel(backend);
    this.compare = [];
    this.conversation.clear();
    this.#show(stored);
    if (!inConversation(stored.summary)) return;
    await this.conversation.load(backend, stored.summary.id);
    const latest = this.conversation.latestThrough(stored.summary.id);
    if (this.run?.runId !== stored.summary.id || !latest) return;
    this.conversation.focus = latest.summary.id;
    if (latest.summary.id === stored.summary.id) return;
    this.#show(latest);
    this.conversation.unfolded = [stored.summary.id];
    this.conversation.focus = stored.summary.id;
  }

  /**
   * The history changed (a turn deleted in the History, a follow-up made by
   * the CLI): the conversation on screen is read again, unless a run is going.
   */
  async refreshThread(backend: Backend): Promise<void> {
    const id = this.run?.runId;
    if (!id || this.run?.running || !this.conversation.runs.length) return;
    await this.conversation.load(backend, id);
  }

  /** Shows the branch through `id` (a turn's other branch), its latest turn open. */
  switchBranch(id: string): void {
    const latest = this.conversation.latestThrough(id);
    if (this.run?.running || !latest) return;
    this.compare = [];
    this.conversation.editing = null;
    this.#show(latest);
  }

  #show(stored: StoredRun): void {
    this.run = RunState.fromStored(stored);
    this.followUpError = null;
    this.followUp.sent(stored.summary.id, stored.request);
  }

  /** Sends the follow-up box's question: a run following the run it names. */
  async sendFollowUp(backend: Backend): Promise<void> {
    this.followUpError = this.followUp.problem();
    if (this.followUpError) return;
    const request = this.followUp.request(this.defaultSummaryModel);
    await this.track(backend, new RunState(newHandle(), request, "follow-up"), (run) => backend.run(run.handle, run.request, (e) => run.receive(e)));
  }

  /**
   * Runs a turn again with its prompt edited: a new run following what that
   * turn followed, so a branch beside it (the first turn's: a new conversation).
   * Its files go again, their bytes read back from the history.
   */
  async branchFrom(backend: Backend, turn: { request: RoundtableRequest }, input: string): Promise<void> {
    if (!input.trim()) return;
    const { previous_id, context, attachments, ...rest } = turn.request;
    const request: RoundtableRequest = { ...rest, input };
    if (previous_id) Object.assign(request, { previous_id, context: context ?? "own" });
    try {
      if (attachments?.length) request.attachments = await Promise.all(attachments.map((a) => this.#withBytes(backend, a)));
    } catch (e) {
      this.conversation.error = `The turn's files could not be read back: ${errorMessage(e)}`;
      return;
    }
    await this.track(backend, new RunState(newHandle(), request, "follow-up"), (run) => backend.run(run.handle, run.request, (e) => run.receive(e)));
  }

  async #withBytes(backend: Backend, a: Attachment): Promise<Attachment> {
    if (a.data || !a.sha256) return a;
    const full = await backend.attachmentData(a.sha256);
    return { name: a.name, media_type: a.media_type, data: full.data };
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
    this.panel = draftsOf(req.models);
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
