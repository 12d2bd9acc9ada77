// The Leaderboard view's state: its filters, the leaderboard they select, the
// panels, tags and models seen in the history (to pick from), and the CSV
// export. Made by the view when it opens; the filters start afresh each time.
import type { Backend, Leaderboard, LeaderboardQuery, LeaderboardRow, VerdictSource } from "../ipc/backend";
import { errorMessage, whileHistoryChanges } from "../ipc/backend";
import { periodStart } from "../format";

/** How long after the last change of a filter the leaderboard is asked for (ms). */
export const REFRESH_DELAY_MS = 250;

/** The date filter: all time, or runs from the start of the last 7, 30 or 365 days. */
export type Since = "" | "7d" | "30d" | "365d";
export const SINCES: [Since, string][] = [
  ["", "All time"],
  ["7d", "Past 7 days"],
  ["30d", "Past 30 days"],
  ["365d", "Past year"],
];

/** How many recent runs the panels, tags and models to pick from are gathered from. */
const SEEN_RUNS = 500;

/** A panel as typed: comma-separated models, blanks dropped. */
export function parsePanel(text: string): string[] {
  return text
    .split(",")
    .map((m) => m.trim())
    .filter(Boolean);
}

export class LeaderboardState {
  source = $state<VerdictSource>("votes");
  /** With judges: only this judge's rankings (blank: every judge). */
  judgeModel = $state("");
  since = $state<Since>("");
  tag = $state("");
  /** Runs whose panel is exactly these models, comma-separated (blank: any panel). */
  panelText = $state("");
  board = $state<Leaderboard | null>(null);
  loading = $state(true);
  error = $state<string | null>(null);
  notice = $state<string | null>(null);
  exporting = $state(false);
  /** Seen in the history's recent runs, to pick from. */
  knownTags = $state<string[]>([]);
  knownModels = $state<string[]>([]);
  /** Panels run, most often first, each as its models comma-separated. */
  knownPanels = $state<string[]>([]);
  readonly #backend: Backend;
  #seq = 0;

  constructor(backend: Backend) {
    this.#backend = backend;
  }

  get panel(): string[] {
    return parsePanel(this.panelText);
  }

  /** Whether a filter narrows the runs (an empty board then says "Nothing matches"). */
  get filtering(): boolean {
    return !!(this.since || this.tag.trim().replace(/^#/, "") || this.panel.length || (this.source === "judges" && this.judgeModel.trim()));
  }

  query(): LeaderboardQuery {
    const q: LeaderboardQuery = { source: this.source };
    const since = periodStart(this.since);
    if (since !== undefined) q.since_ms = since;
    const tag = this.tag.trim().replace(/^#/, "");
    if (tag) q.tag = tag;
    if (this.panel.length) q.panel = this.panel;
    const judge = this.judgeModel.trim();
    if (this.source === "judges" && judge) q.judge_model = judge;
    return q;
  }

  /** The ranked models, best first. */
  get ranked(): LeaderboardRow[] {
    return (this.board?.rows ?? []).filter((r) => r.rank !== null);
  }

  /** The models with too few votes to be ranked, most votes first. */
  get unranked(): LeaderboardRow[] {
    return (this.board?.rows ?? []).filter((r) => r.rank === null).sort((a, b) => b.votes - a.votes || a.model.localeCompare(b.model));
  }

  /** Loaded, and not one model on it. */
  get empty(): boolean {
    return !!this.board && this.board.rows.length === 0;
  }

  /** Votes a model needs to be ranked. */
  get minVotes(): number {
    return this.board?.min_votes ?? 5;
  }

  /** Uses `models` as the panel filter. */
  pickPanel(models: string[]): void {
    this.panelText = models.join(", ");
  }

  /**
   * Refreshes `delayMs` after now; returns what cancels it. Called in an
   * `$effect`, which reruns (cancelling the last one) whenever a filter changes.
   */
  refreshSoon(delayMs = REFRESH_DELAY_MS): () => void {
    void [this.source, this.judgeModel, this.since, this.tag, this.panelText];
    const timer = setTimeout(() => void this.refresh(), delayMs);
    return () => clearTimeout(timer);
  }

  /** Refreshes whenever any process changes the history (a vote cast elsewhere), until the returned function is called. */
  watch(): () => void {
    return whileHistoryChanges(this.#backend, () => {
      void this.refresh();
      void this.gather();
    });
  }

  /** Asks for the leaderboard the filters select; an answer overtaken by a later one is dropped. */
  async refresh(): Promise<void> {
    const mine = ++this.#seq;
    try {
      const board = await this.#backend.leaderboard(this.query());
      if (mine !== this.#seq) return;
      this.board = board;
      this.error = null;
    } catch (e) {
      if (mine === this.#seq) this.error = errorMessage(e);
    } finally {
      if (mine === this.#seq) this.loading = false;
    }
  }

  /** Gathers the tags, models and panels of recent runs, to pick from. */
  async gather(): Promise<void> {
    try {
      const runs = await this.#backend.listRuns({ limit: SEEN_RUNS });
      const panels = new Map<string, number>();
      for (const r of runs) {
        const key = [...new Set(r.models)].sort().join(", ");
        if (r.models.length > 1) panels.set(key, (panels.get(key) ?? 0) + 1);
      }
      this.knownPanels = [...panels].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([p]) => p);
      this.knownTags = [...new Set(runs.flatMap((r) => r.tags))].sort();
      this.knownModels = [...new Set(runs.flatMap((r) => r.models))].sort();
    } catch {
      /* only suggestions: typing still works */
    }
  }

  /** Exports the leaderboard as now filtered as CSV; the shell asks where (its own save dialog). */
  async exportCsv(): Promise<void> {
    this.exporting = true;
    try {
      const done = await this.#backend.exportLeaderboard(this.query());
      if (!done) return;
      this.notice = `Saved the leaderboard to ${done.path}`;
      this.error = null;
    } catch (e) {
      this.error = errorMessage(e);
    } finally {
      this.exporting = false;
    }
  }
}
