// A run as the UI sees it: one card per model of the panel, filled by the run's
// events as they stream in, and the resolved answer.
import type {
  AppError,
  ModelOutcome,
  ModelResult,
  RoundtableRequest,
  RoundtableResponse,
  RunEvent,
  RunResult,
  RunStatus,
  StoredRun,
  Usage,
  VoteRead,
} from "../ipc/backend";
import { expandPanel } from "../agreement";
import type { ModelSpec } from "../ipc/backend";
import { fullLabel, labels } from "../labels";
import { outcomeOf } from "../outcome";
import { Voting } from "./voting.svelte";

/**
 * How often a running run's cards, timers and resolved answer update (ms).
 * Without a GPU, WebKitGTK 2.50 paints the whole window again for every update,
 * whatever changed (about 13 ms of CPU on the 2-core machine: one timer ticking
 * every 100 ms cost the web process 13 % of a core), so the update rate sets much
 * of what a streaming run costs: 4 updates a second rather than 10.
 */
export const TICK_MS = 250;

// Updates are made in an animation frame: right before the window paints, and
// not at all while it is hidden (a minimised window's run costs no rendering).
const requestFrame: (f: () => void) => number =
  typeof requestAnimationFrame === "function" ? (f) => requestAnimationFrame(f) : (f) => setTimeout(f, 0) as unknown as number;
const cancelFrame: (id: number) => void =
  typeof cancelAnimationFrame === "function" ? (id) => cancelAnimationFrame(id) : (id) => clearTimeout(id);

/** A spinner's turn at `now`: an eighth of a turn per tick of the run's clock. */
export function spinnerTurn(now: number): string {
  return `rotate(${(Math.floor(now / TICK_MS) % 8) * 45}deg)`;
}

/** Whether a streaming caret is dimmed at `now`: it blinks once a second. */
export function caretDim(now: number): boolean {
  return Math.floor(now / 500) % 2 === 1;
}

export type CardStatus = "waiting" | "queued" | "streaming" | "retrying" | "done" | "failed" | "cancelled";
export type RunPhase = "running" | "completed" | "failed" | "interrupted" | "error";

export class CardState {
  readonly index: number;
  readonly model: string;
  status = $state<CardStatus>("waiting");
  text = $state("");
  thinking = $state("");
  startedAt = $state<number | null>(null);
  endedAt = $state<number | null>(null);
  durationMs = $state<number | null>(null);
  /** How long it waited for a free slot of its provider before its call. */
  queuedMs = $state<number | null>(null);
  usage = $state<Usage | null>(null);
  cost = $state<number | null>(null);
  attempts = $state(1);
  retry = $state<{ attempt: number; delayMs: number; reason: string } | null>(null);
  error = $state<string | null>(null);
  schemaValid = $state<boolean | null>(null);
  schemaError = $state<string | null>(null);
  vote = $state<string | null>(null);
  /** How its call ended, once it did. */
  outcome = $state<ModelOutcome | null>(null);
  voteRead = $state<VoteRead | null>(null);
  /** JSON mode stood in for the JSON Schema output the server refused. */
  schemaFallback = $state(false);
  /** A follow-up: the earlier turns (1-based) it had no answer of its own in, so it was sent the resolved one. */
  contextResolved = $state<number[]>([]);

  constructor(index: number, model: string) {
    this.index = index;
    this.model = model;
  }

  /** Milliseconds this model has taken, ticking while it runs. */
  elapsed(now: number): number {
    if (this.durationMs !== null) return this.durationMs;
    if (this.startedAt === null) return 0;
    return Math.max(0, (this.endedAt ?? now) - this.startedAt);
  }

  get active(): boolean {
    return (
      this.status === "waiting" ||
      this.status === "queued" ||
      this.status === "streaming" ||
      this.status === "retrying"
    );
  }

  applyResult(r: ModelResult, now: number): void {
    this.text = r.data || this.text;
    if (r.thinking) this.thinking = r.thinking;
    this.durationMs = r.duration_ms;
    this.queuedMs = r.queued_ms ?? null;
    this.endedAt ??= now;
    this.usage = r.usage ?? this.usage;
    this.cost = r.cost ?? null;
    this.attempts = r.attempts ?? this.attempts;
    this.error = r.error ?? null;
    this.outcome = outcomeOf(r);
    this.status = this.outcome === "answered" ? "done" : this.outcome === "cancelled" ? "cancelled" : "failed";
    this.retry = null;
    this.schemaValid = r.schema_valid ?? null;
    this.schemaError = r.schema_error ?? null;
    this.vote = r.vote ?? null;
    this.voteRead = r.vote_read ?? null;
    this.schemaFallback = r.schema_fallback === true;
    this.contextResolved = r.context_resolved ?? [];
  }
}

export interface Consolidation {
  model: string;
  text: string;
  active: boolean;
}

export class RunState {
  readonly handle: string;
  readonly request: RoundtableRequest;
  /**
   * The panel as run: the request's, each entry with `samples` expanded into
   * that many (a result's `index` is a position in it, as in RunStarted.models).
   */
  panel = $state.raw<ModelSpec[]>([]);
  /** What started it: a new run, a re-run or a re-resolve of `parentId`, a follow-up of `request.previous_id`. */
  readonly origin: "run" | "rerun" | "resolve" | "history" | "follow-up";
  runId = $state<string | null>(null);
  phase = $state<RunPhase>("running");
  cards = $state<CardState[]>([]);
  consolidation = $state<Consolidation | null>(null);
  response = $state<RoundtableResponse | null>(null);
  error = $state<AppError | null>(null);
  startedAt: number;
  now = $state(0);
  cancelling = $state(false);
  /** The person's vote on its answers, and whether they are shown blind. */
  readonly voting: Voting;
  #timer: ReturnType<typeof setInterval> | null = null;
  /** The frame a tick waits for, if any. */
  #frame: number | null = null;
  /** Events received since the last tick, each with when it came. */
  #pending: [RunEvent, number][] = [];
  #clock: () => number;

  constructor(
    handle: string,
    request: RoundtableRequest,
    origin: RunState["origin"] = "run",
    clock: () => number = Date.now,
  ) {
    this.handle = handle;
    this.request = request;
    this.origin = origin;
    this.#clock = clock;
    this.startedAt = clock();
    this.now = this.startedAt;
    this.panel = expandPanel(request.models);
    this.cards = this.panel.map((m, i) => new CardState(i, m.name));
    this.voting = new Voting(() => ({
      runId: this.runId,
      finished: !this.running,
      entries: ((named) => this.cards.map((c) => ({
        index: c.index,
        name: named[c.index] ? fullLabel(named[c.index]) : c.model,
        answered: c.status === "done",
      })))(labels(this.panel)),
    }));
  }

  /** A stored run, opened back from the history. */
  static fromStored(stored: StoredRun): RunState {
    const run = new RunState(`stored-${stored.summary.id}`, stored.request, "history");
    run.runId = stored.summary.id;
    run.startedAt = stored.summary.created_at_ms;
    const byIndex = new Map(stored.response.model_results.map((r) => [r.index, r]));
    for (const card of run.cards) {
      const r = byIndex.get(card.index);
      if (r) card.applyResult(r, run.now);
      else card.status = stored.summary.status === "running" ? "waiting" : "cancelled";
    }
    run.response = stored.response;
    if (stored.response.meta.summary_model && stored.response.data !== null) {
      run.consolidation = { model: stored.response.meta.summary_model, text: stored.response.data, active: false };
    }
    run.phase = phaseOf(stored.summary.status);
    return run;
  }

  get running(): boolean {
    return this.phase === "running";
  }

  /**
   * Starts the clock. Each tick applies the events that came in since the last
   * one and moves the timers, all in one update: ten models streaming dozens of
   * deltas a second then cost the page one render per tick, not one per delta
   * (without a GPU, each render is painted on the CPU). A tick's update waits
   * for the next animation frame; ticks that come while it waits add nothing.
   */
  startClock(intervalMs = TICK_MS): void {
    this.stopClock();
    this.#timer = setInterval(() => {
      this.#frame ??= requestFrame(() => {
        this.#frame = null;
        this.flush();
        this.now = this.#clock();
      });
    }, intervalMs);
  }

  stopClock(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    if (this.#frame !== null) cancelFrame(this.#frame);
    this.#frame = null;
    this.flush();
    this.now = this.#clock();
  }

  /** An event from the run's channel: applied at the clock's next tick, or now when it is not running. */
  receive(event: RunEvent): void {
    if (this.#timer === null) this.apply(event);
    else this.#pending.push([event, this.#clock()]);
  }

  /** Applies the events received since the last tick, in order. */
  flush(): void {
    const pending = this.#pending;
    this.#pending = [];
    for (const [event, at] of pending) this.apply(event, at);
  }

  card(index: number): CardState | undefined {
    return this.cards[index];
  }

  /** Applies `event`, which came at `now`. */
  apply(event: RunEvent, now = this.#clock()): void {
    // The command's result carries the whole response: an event delivered after
    // it has nothing to add (and a late delta would double text).
    if (this.phase !== "running") return;
    switch (event.type) {
      case "run_started":
        this.runId = event.id;
        // The engine's panel is the one run: should it differ from ours, its cards.
        if (event.models.length !== this.cards.length || event.models.some((m, i) => m !== this.cards[i].model)) {
          this.panel = event.models.map((name, i) => this.panel[i]?.name === name ? this.panel[i] : { name });
          this.cards = this.panel.map((m, i) => new CardState(i, m.name));
        }
        break;
      case "model_queued": {
        const c = this.card(event.index);
        if (c) c.status = "queued";
        break;
      }
      case "model_started": {
        const c = this.card(event.index);
        if (c) {
          c.status = "streaming";
          c.startedAt ??= now;
        }
        break;
      }
      case "text_delta": {
        const c = this.card(event.index);
        if (c) {
          c.startedAt ??= now;
          if (c.status !== "streaming") c.status = "streaming";
          c.text += event.delta;
        }
        break;
      }
      case "thinking_delta": {
        const c = this.card(event.index);
        if (c) c.thinking += event.delta;
        break;
      }
      case "model_retrying": {
        const c = this.card(event.index);
        if (c) {
          c.status = "retrying";
          c.text = "";
          c.thinking = "";
          c.attempts = event.attempt + 1;
          c.retry = { attempt: event.attempt, delayMs: event.delay_ms, reason: event.reason };
        }
        break;
      }
      case "model_usage": {
        const c = this.card(event.index);
        if (c) c.usage = event.usage;
        break;
      }
      case "model_finished":
      case "model_failed":
        this.card(event.result.index)?.applyResult(event.result, now);
        break;
      case "consolidation_started":
        this.consolidation = { model: event.model, text: "", active: true };
        break;
      case "consolidation_delta":
        if (this.consolidation) this.consolidation.text += event.delta;
        else this.consolidation = { model: event.model, text: event.delta, active: true };
        break;
      case "done":
        this.applyResponse(event.response);
        break;
    }
  }

  applyResponse(response: RoundtableResponse): void {
    const now = this.#clock();
    this.response = response;
    this.runId = response.id;
    for (const r of response.model_results) this.card(r.index)?.applyResult(r, now);
    if (response.meta.summary_model || this.consolidation) {
      this.consolidation = {
        model: response.meta.summary_model ?? this.consolidation?.model ?? "",
        text: response.data ?? this.consolidation?.text ?? "",
        active: false,
      };
    }
  }

  finish(result: RunResult): void {
    this.flush();
    this.applyResponse(result.response);
    this.phase = phaseOf(result.status);
    for (const c of this.cards) if (c.active) c.status = "cancelled";
    this.stopClock();
  }

  fail(error: AppError): void {
    this.flush();
    this.error = error;
    this.phase = "error";
    for (const c of this.cards) if (c.active) c.status = "cancelled";
    this.stopClock();
  }

  /** Total elapsed, ticking while running. */
  elapsed(): number {
    if (this.response) return this.response.meta.total_duration_ms;
    return Math.max(0, this.now - this.startedAt);
  }

  totalCost(): number {
    if (this.response) return this.response.meta.total_cost;
    return this.cards.reduce((sum, c) => sum + (c.cost ?? 0), 0);
  }
}

export function phaseOf(status: RunStatus): RunPhase {
  return status;
}
