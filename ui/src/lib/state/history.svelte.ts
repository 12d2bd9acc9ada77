// The History view's state: its filters, the runs they found, the selection to
// export, the run in focus and what can be done with it. Made by the view when
// it opens (filters and focus start afresh each time, as before).
import type { Backend, ExportFormat, HistoryQuery, Resolution, RunStatus, RunSummary, StoredRun } from "../ipc/backend";
import { errorMessage, isAppError, whileHistoryChanges } from "../ipc/backend";
import { periodStart, type Period } from "../format";
import { Verdicts } from "./verdicts.svelte";

/** How long after the last change of a filter the history is searched (ms). */
export const SEARCH_DELAY_MS = 250;

export class History {
  text = $state("");
  model = $state("");
  status = $state<"" | RunStatus>("");
  starredOnly = $state(false);
  tag = $state("");
  period = $state<Period>("");
  /** Every tag seen so far, for the tag filter's suggestions. */
  knownTags = $state<string[]>([]);
  runs = $state<RunSummary[]>([]);
  loading = $state(true);
  error = $state<string | null>(null);
  /** Runs ticked for export, by id. */
  selected = $state<string[]>([]);
  focused = $state<StoredRun | null>(null);
  /** The focused run's vote and judges' rankings. */
  verdicts = $state<Verdicts | null>(null);
  format = $state<ExportFormat>("md");
  notice = $state<string | null>(null);
  /** The tag being typed for the focused run. */
  newTag = $state("");
  reresolveAs = $state<Resolution>("summary");
  /** Re-resolving as summary: also ask for the claims matrix (`consensus`). */
  reresolveClaims = $state(false);
  /** The choices of a re-resolve as multiple choice: the run's own, to edit. */
  choicesText = $state("");
  confirmDelete = $state(false);
  readonly #backend: Backend;
  #seq = 0;
  #focusSeq = 0;

  constructor(backend: Backend) {
    this.#backend = backend;
  }

  /** The choices typed for a re-resolve, comma-separated. */
  get reresolveChoices(): string[] {
    return this.choicesText
      .split(",")
      .map((c) => c.trim())
      .filter(Boolean);
  }

  /** Whether a re-resolve as chosen can start (multiple choice needs two choices). */
  get canReresolve(): boolean {
    return this.reresolveAs !== "multiple_choice" || this.reresolveChoices.length >= 2;
  }

  /** The choices a re-resolve is asked with: null unless multiple choice. */
  reresolveArgs(): string[] | null {
    return this.reresolveAs === "multiple_choice" ? this.reresolveChoices : null;
  }

  /** Whether any filter narrows the list (an empty list then says "Nothing matches"). */
  get filtering(): boolean {
    return !!(this.text || this.model || this.status || this.starredOnly || this.tag.trim() || this.period);
  }

  query(): HistoryQuery {
    return {
      text: this.text.trim() || undefined,
      model: this.model.trim() || undefined,
      status: this.status || undefined,
      starred: this.starredOnly ? true : undefined,
      tag: this.tag.trim().replace(/^#/, "") || undefined,
      since_ms: periodStart(this.period),
      limit: 200,
    };
  }

  /**
   * Searches `delayMs` after now; returns what cancels it. Called in an
   * `$effect`, which reruns (cancelling the last one) whenever a filter changes:
   * typing searches once, after the last key.
   */
  searchSoon(delayMs = SEARCH_DELAY_MS): () => void {
    void [this.text, this.model, this.status, this.starredOnly, this.tag, this.period];
    const timer = setTimeout(() => void this.refresh(), delayMs);
    return () => clearTimeout(timer);
  }

  /** Refreshes the list whenever any process changes the history, until the returned function is called. */
  watch(): () => void {
    return whileHistoryChanges(this.#backend, () => void this.refresh());
  }

  /** Lists the runs the filters find; an answer overtaken by a later search is dropped. */
  async refresh(): Promise<void> {
    const mine = ++this.#seq;
    try {
      const found = await this.#backend.listRuns(this.query());
      if (mine !== this.#seq) return;
      this.runs = found;
      this.knownTags = [...new Set([...this.knownTags, ...found.flatMap((r) => r.tags)])].sort();
      this.error = null;
      this.selected = this.selected.filter((id) => found.some((r) => r.id === id));
      if (this.focused) {
        const id = this.focused.summary.id;
        if (found.some((r) => r.id === id)) await this.focus(id);
        // Filtered out, it stays open; deleted (here or by the CLI), it goes.
        else if ((await this.#deleted(id)) && this.focused?.summary.id === id) this.focused = null;
      }
    } catch (e) {
      if (mine === this.#seq) this.error = errorMessage(e);
    } finally {
      if (mine === this.#seq) this.loading = false;
    }
  }

  /** Whether the run `id` is no longer in the history (not merely filtered out). */
  async #deleted(id: string): Promise<boolean> {
    try {
      await this.#backend.getRun(id);
      return false;
    } catch (e) {
      return isAppError(e) && e.code === "not_found";
    }
  }

  /** Opens the run `id` in the detail pane. */
  async focus(id: string): Promise<void> {
    const mine = ++this.#focusSeq;
    try {
      const run = await this.#backend.getRun(id);
      if (mine !== this.#focusSeq) return; // another run was picked meanwhile
      if (this.focused?.summary.id !== id) {
        // Another run: its own choices to vote among, and no delete half-confirmed.
        this.confirmDelete = false;
        this.choicesText = (run.request.choices ?? []).join(", ");
        this.verdicts = new Verdicts(this.#backend, run);
      }
      this.focused = run;
      // Read again on each refresh: a vote or a judge of the CLI's shows too.
      void this.verdicts?.load();
    } catch (e) {
      if (mine === this.#focusSeq) this.error = errorMessage(e);
    }
  }

  toggle(id: string): void {
    this.selected = this.selected.includes(id) ? this.selected.filter((x) => x !== id) : [...this.selected, id];
  }

  /** Does `what`, then refreshes the list; a failure shows as the error. */
  async #act(what: () => Promise<unknown>): Promise<void> {
    try {
      await what();
      await this.refresh();
    } catch (e) {
      this.error = errorMessage(e);
    }
  }

  async toggleStar(): Promise<void> {
    const s = this.focused?.summary;
    if (s) await this.#act(() => this.#backend.setStarred(s.id, !s.starred));
  }

  async deleteFocused(): Promise<void> {
    const s = this.focused?.summary;
    if (s)
      await this.#act(async () => {
        await this.#backend.deleteRun(s.id);
        this.focused = null;
      });
  }

  /** Adds the tag typed (`newTag`) to the focused run. */
  async addTag(): Promise<void> {
    const s = this.focused?.summary;
    const t = this.newTag.trim();
    if (s && t)
      await this.#act(async () => {
        await this.#backend.addTag(s.id, t);
        this.newTag = "";
      });
  }

  async removeTag(tag: string): Promise<void> {
    const s = this.focused?.summary;
    if (s) await this.#act(() => this.#backend.removeTag(s.id, tag));
  }

  /** Exports the runs ticked, else the one in focus; the shell asks where (its own save dialog). */
  async export(): Promise<void> {
    const ids = this.selected.length ? this.selected : this.focused ? [this.focused.summary.id] : [];
    if (!ids.length) return;
    try {
      const done = await this.#backend.exportRuns(ids, this.format);
      if (!done) return;
      this.notice = `Exported ${ids.length} run${ids.length > 1 ? "s" : ""} to ${done.path}`;
      this.error = null;
    } catch (e) {
      this.error = errorMessage(e);
    }
  }
}
