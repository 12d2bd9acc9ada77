// The conversation on the workbench: every run of its thread (every branch),
// read from the history, and how its earlier turns show. The run on screen
// (`Workbench.run`) is its latest turn; the turns before it are the path back
// through `previous_id`, each folded to its resolved answer until opened.
import type { Backend, StoredRun } from "../ipc/backend";
import { errorMessage, isAppError } from "../ipc/backend";
import { branchPlace, branchThrough, pathTo, type BranchPlace } from "../thread";
import { RunState } from "./run.svelte";

export class Conversation {
  /** Every run of the thread, oldest first; empty: the run on screen is no conversation. */
  runs = $state.raw<StoredRun[]>([]);
  /** Earlier turns whose cards are shown, by run id. */
  unfolded = $state<string[]>([]);
  /** A turn to bring into view once: the latest of a conversation opened from the History, or the earlier turn a search hit opened. */
  focus = $state<string | null>(null);
  /** The turn whose prompt is being edited (to run it again as a branch), and the text. */
  editing = $state<string | null>(null);
  editText = $state("");
  error = $state<string | null>(null);
  /** Cards of the earlier turns, made once per run. */
  #cards = new Map<string, RunState>();
  #seq = 0;

  /** Reads the thread `id` is a turn of; a later read overtakes an earlier one. */
  async load(backend: Backend, id: string): Promise<void> {
    const mine = ++this.#seq;
    try {
      const runs = await backend.thread(id);
      if (mine !== this.#seq) return;
      this.runs = runs;
      this.error = null;
    } catch (e) {
      if (mine !== this.#seq) return;
      // Deleted meanwhile (the History, the CLI): no earlier turns to show.
      if (isAppError(e) && e.code === "not_found") this.runs = [];
      else this.error = `The conversation could not be read: ${errorMessage(e)}`;
    }
  }

  clear(): void {
    this.#seq++;
    this.runs = [];
    this.unfolded = [];
    this.focus = null;
    this.editing = null;
    this.#cards.clear();
  }

  has(id: string | null | undefined): boolean {
    return !!id && this.runs.some((r) => r.summary.id === id);
  }

  get(id: string): StoredRun | undefined {
    return this.runs.find((r) => r.summary.id === id);
  }

  /** The turns before a run that follows `previousId`, first to last. */
  earlier(previousId: string | null | undefined): StoredRun[] {
    return pathTo(this.runs, previousId);
  }

  /** The latest turn of the branch through `id` (itself when nothing follows it). */
  latestThrough(id: string): StoredRun | undefined {
    return branchThrough(this.runs, id).at(-1) ?? this.get(id);
  }

  /** Where the run `id` (following `previousId`) stands among its branches. */
  place(id: string | null, previousId: string | null): BranchPlace {
    return branchPlace(this.runs, id, previousId);
  }

  /** Whether the earlier turn `id` shows its cards. */
  isOpen(id: string): boolean {
    return this.unfolded.includes(id);
  }

  toggle(id: string): void {
    this.unfolded = this.isOpen(id) ? this.unfolded.filter((x) => x !== id) : [...this.unfolded, id];
  }

  /** An earlier turn's cards, as a run opened from the history shows them. */
  cardsOf(run: StoredRun): RunState {
    let state = this.#cards.get(run.summary.id);
    if (!state) {
      state = RunState.fromStored(run);
      this.#cards.set(run.summary.id, state);
    }
    return state;
  }

  /** Starts editing the prompt of the turn `run`. */
  edit(run: StoredRun | { id: string; input: string }): void {
    const [id, input] = "summary" in run ? [run.summary.id, run.request.input] : [run.id, run.input];
    this.editing = id;
    this.editText = input;
  }
}
