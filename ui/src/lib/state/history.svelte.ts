// The History view's state: its filters, the runs they found, the selection to
// export, the run in focus and what can be done with it. Made by the view when
// it opens (filters and focus start afresh each time, as before).
import type { Backend, ExportFormat, HistoryQuery, Resolution, RunStatus, RunSummary, StoredRun } from "../ipc/backend";
import { errorMessage, isAppError, whileHistoryChanges } from "../ipc/backend";
import { periodStart, type Period } from "../format";
import { Verdicts } from "./verdicts.svelte";
import { parseChoices } from "./choices";

/** How long after the last change of a filter the history is searched (ms). */
export const SEARCH_DELAY_MS = 250;

/** How many history lines one page asks for; more page in as the list is scrolled. */
export const PAGE = 100;

/**
 * `loaded` with `page` (the list's first lines, read again) in front: the
 * lines `page` has are dropped from the rest, and in a list of conversations
 * any other line of a conversation it has (its latest turn changed).
 */
export function mergeFirstPage(page: RunSummary[], loaded: RunSummary[], threads: boolean): RunSummary[] {
  const ids = new Set(page.map((r) => r.id));
  const convs = new Set(threads ? page.map((r) => r.thread_id) : []);
  return [...page, ...loaded.filter((r) => !ids.has(r.id) && !convs.has(r.thread_id))];
}

export class History {
  text = $state("");
  model = $state("");
  status = $state<"" | RunStatus>("");
  starredOnly = $state(false);
  tag = $state("");
  period = $state<Period>("");
  /** Every tag seen so far, for the tag filter's suggestions. */
  knownTags = $state<string[]>([]);
  /** The lines loaded so far, newest first (one per conversation unless searching). */
  runs = $state.raw<RunSummary[]>([]);
  loading = $state(true);
  /** Every line the filters find is loaded. */
  done = $state(false);
  /** Bumped when the lines start over (other filters): the list goes back to its top. */
  resets = $state(0);
  loadingMore = $state(false);
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
  /** The filters the lines loaded were found with. */
  #loadedWith = "";
  #focusSeq = 0;

  constructor(backend: Backend) {
    this.#backend = backend;
  }

  /** The choices typed for a re-resolve, comma-separated. */
  get reresolveChoices(): string[] {
    return parseChoices(this.choicesText);
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

  /**
   * The first page of the lines the filters find: one line per conversation
   * (its latest turn), except when searching, which finds any turn.
   */
  query(): HistoryQuery {
    const text = this.text.trim() || undefined;
    return {
      text,
      model: this.model.trim() || undefined,
      status: this.status || undefined,
      starred: this.starredOnly ? true : undefined,
      tag: this.tag.trim().replace(/^#/, "") || undefined,
      since_ms: periodStart(this.period),
      threads: text ? undefined : true,
      limit: PAGE,
    };
  }

  /**
   * The page after the lines loaded: the list's after its last line loaded
   * (by id, so a page deep in the history comes as fast as the first, and
   * runs recorded meanwhile shift nothing); a search's, ranked, past as
   * many lines as are loaded.
   */
  nextQuery(): HistoryQuery {
    const query = this.query();
    return query.text ? { ...query, offset: this.runs.length } : { ...query, after: this.runs.at(-1)?.id };
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

  /**
   * Lists the lines the filters find: their first page, in front of the lines
   * loaded further down when the filters are the same (the history changed),
   * in place of them when not. An answer overtaken by a later search is dropped.
   */
  async refresh(): Promise<void> {
    const mine = ++this.#seq;
    const query = this.query();
    const key = JSON.stringify({ ...query, since_ms: this.period });
    try {
      const page = await this.#backend.listRuns(query);
      if (mine !== this.#seq) return;
      const same = key === this.#loadedWith;
      this.runs = same ? mergeFirstPage(page, this.runs, !!query.threads) : page;
      if (!same) {
        this.done = page.length < PAGE;
        this.resets++;
      }
      this.#loadedWith = key;
      this.knownTags = [...new Set([...this.knownTags, ...page.flatMap((r) => r.tags)])].sort();
      this.error = null;
      this.selected = this.selected.filter((id) => this.runs.some((r) => r.id === id));
      if (this.focused) {
        const id = this.focused.summary.id;
        if (this.runs.some((r) => r.id === id)) await this.focus(id);
        // Filtered out, it stays open; deleted (here or by the CLI), it goes.
        else if ((await this.#deleted(id)) && this.focused?.summary.id === id) this.focused = null;
      }
    } catch (e) {
      if (mine === this.#seq) this.error = errorMessage(e);
    } finally {
      if (mine === this.#seq) this.loading = false;
    }
  }

  /** Loads the next page of lines (the list was scrolled near its end), unless all are loaded. */
  async loadMore(): Promise<void> {
    if (this.done || this.loadingMore || this.loading) return;
    const mine = this.#seq;
    this.loadingMore = true;
    try {
      let query = this.nextQuery();
      let page: RunSummary[] | null = null;
      while (!page) {
        try {
          page = await this.#backend.listRuns(query);
        } catch (e) {
          // The last line loaded was deleted meanwhile (by the CLI): page on after the one before it.
          if (!(query.after && isAppError(e) && e.code === "not_found" && mine === this.#seq)) throw e;
          const gone = query.after;
          this.runs = this.runs.filter((r) => r.id !== gone);
          query = this.nextQuery();
        }
      }
      if (mine !== this.#seq) return; // the filters changed meanwhile
      // A line may come twice (a search pages by offset, which runs recorded
      // meanwhile shift; a conversation's newer turn imported with an older time): kept once.
      const ids = new Set(this.runs.map((r) => r.id));
      const convs = new Set(query.threads ? this.runs.map((r) => r.thread_id) : []);
      this.runs = [...this.runs, ...page.filter((r) => !ids.has(r.id) && !convs.has(r.thread_id))];
      this.done = page.length < PAGE;
      this.knownTags = [...new Set([...this.knownTags, ...page.flatMap((r) => r.tags)])].sort();
    } catch (e) {
      if (mine === this.#seq) this.error = errorMessage(e);
    } finally {
      this.loadingMore = false;
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
      // Its line, as the history has it now (a star or a tag on a line far down the list).
      const at = this.runs.findIndex((r) => r.id === id);
      if (at >= 0 && JSON.stringify(this.runs[at]) !== JSON.stringify(run.summary)) this.runs = [...this.runs.slice(0, at), run.summary, ...this.runs.slice(at + 1)];
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

  /**
   * Deletes the run in focus: a turn of a conversation with the turns that
   * follow it (`after`), or its whole conversation (`thread`).
   */
  async deleteFocused(how: "run" | "after" | "thread" = "run"): Promise<void> {
    const s = this.focused?.summary;
    if (s)
      await this.#act(async () => {
        if (how === "thread") await this.#backend.deleteThread(s.id);
        else if (how === "after") await this.#backend.deleteTurnAndAfter(s.id);
        else await this.#backend.deleteRun(s.id);
        // Its conversation's line changes (or goes): read again from the first page.
        this.runs = this.runs.filter((r) => r.id !== s.id && (how === "run" || r.thread_id !== s.thread_id));
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

  /** Exports the conversation the run in focus is a turn of, along its branch; the shell asks where. */
  async exportThread(): Promise<void> {
    const s = this.focused?.summary;
    if (!s) return;
    try {
      const done = await this.#backend.exportThread(s.id, this.format);
      if (!done) return;
      this.notice = `Exported the conversation to ${done.path}`;
      this.error = null;
    } catch (e) {
      this.error = errorMessage(e);
    }
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
