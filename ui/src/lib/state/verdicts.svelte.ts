// What was thought of a stored run, as History shows it: the person's vote (to
// change or withdraw, names shown) and the judges' rankings, with a judge model
// to ask for another.
import type { Backend, Judgement, StoredRun } from "../ipc/backend";
import { errorMessage } from "../ipc/backend";
import { fullLabel, labels } from "../labels";
import { outcomeOf } from "../outcome";
import { Voting } from "./voting.svelte";

export class Verdicts {
  readonly runId: string;
  readonly voting: Voting;
  judgements = $state<Judgement[]>([]);
  /** The judge model typed. */
  judgeModel = $state("");
  judging = $state(false);
  judgeError = $state<string | null>(null);
  loaded = $state(false);
  error = $state<string | null>(null);
  readonly #backend: Backend;
  readonly #names: Map<number, string>;

  constructor(backend: Backend, run: StoredRun) {
    this.#backend = backend;
    this.runId = run.summary.id;
    const named = labels(run.request.models);
    this.#names = new Map(run.response.model_results.map((r) => [r.index, named[r.index] ? fullLabel(named[r.index]) : r.model]));
    const entries = run.response.model_results.map((r) => ({
      index: r.index,
      name: this.nameOf(r.index),
      answered: outcomeOf(r) === "answered" && r.data !== "",
    }));
    const finished = run.summary.status !== "running";
    this.voting = new Voting(() => ({ runId: this.runId, entries, finished }));
  }

  /** The model of the answer `index`, as its card names it. */
  nameOf(index: number): string {
    return this.#names.get(index) ?? `answer ${index + 1}`;
  }

  /** Reads the run's vote and judges' rankings. */
  async load(): Promise<void> {
    try {
      const v = await this.#backend.runVerdicts(this.runId);
      this.voting.vote = v.vote;
      this.judgements = v.judgements;
      this.error = null;
    } catch (e) {
      this.error = errorMessage(e);
    } finally {
      this.loaded = true;
    }
  }

  /** Has the model typed rank the run's answers; its ranking joins the others. */
  async judge(): Promise<void> {
    const model = this.judgeModel.trim();
    if (!model || this.judging) return;
    this.judging = true;
    this.judgeError = null;
    try {
      const j = await this.#backend.judgeRun(this.runId, model);
      this.judgements = [...this.judgements.filter((x) => x.judge_model !== j.judge_model), j].sort((a, b) => a.judge_model.localeCompare(b.judge_model));
    } catch (e) {
      this.judgeError = errorMessage(e);
    } finally {
      this.judging = false;
    }
  }
}
