// The Usage view's state: which runs (a date range), how the spend chart is cut
// (day, week or month; by provider or model), the history's spend figures and
// the budget's status. Made by the view when it opens.
import type { Backend, BudgetStatus, ModelSpend, SpendBucket, SpendQuery, SpendStats } from "../ipc/backend";
import { errorMessage, whileHistoryChanges } from "../ipc/backend";
import { periodStart } from "../format";

export type UsageRange = "" | "30d" | "365d";
export const RANGES: [UsageRange, string][] = [
  ["30d", "Past 30 days"],
  ["365d", "Past year"],
  ["", "All time"],
];
export type Period = "day" | "week" | "month";
export type StackBy = "provider" | "model";

/** How many providers or models the chart stacks; the rest are one "other". */
export const STACKED = 6;
export const OTHER = "other";

/** One stacked chart: a time per bucket (unix s) and one series per key. */
export interface Stacked {
  times: number[];
  /** Bucket labels (`2026-11-30`). */
  labels: string[];
  series: { key: string; values: number[] }[];
}

/** A bucket's key figures, keyed by provider or model. */
function partsOf(b: SpendBucket, by: StackBy): Record<string, number> {
  return (by === "provider" ? b.providers : b.models) as Record<string, number>;
}

/** `buckets` stacked by `by`: the `limit` costliest keys over all of them, the rest as "other". */
export function stack(buckets: SpendBucket[], by: StackBy, limit = STACKED): Stacked {
  const totals = new Map<string, number>();
  for (const b of buckets) for (const [k, v] of Object.entries(partsOf(b, by))) totals.set(k, (totals.get(k) ?? 0) + v);
  // Keys that cost nothing in the range (free models) are not drawn.
  const ranked = [...totals].filter(([, v]) => v > 0).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).map(([k]) => k);
  const keys = ranked.length > limit ? ranked.slice(0, limit - 1) : ranked;
  const rest = ranked.length > limit;
  const series = keys.map((key) => ({ key, values: buckets.map((b) => partsOf(b, by)[key] ?? 0) }));
  if (rest) {
    series.push({
      key: OTHER,
      values: buckets.map((b) => Object.entries(partsOf(b, by)).reduce((n, [k, v]) => (keys.includes(k) ? n : n + v), 0)),
    });
  }
  return { times: buckets.map((b) => Math.round(b.start_ms / 1000)), labels: buckets.map((b) => b.start), series };
}

/** The share of a model's calls that did not answer. */
export function failureRate(m: ModelSpend): number {
  return m.calls ? m.failures / m.calls : 0;
}

export class UsageState {
  range = $state<UsageRange>("30d");
  period = $state<Period>("day");
  by = $state<StackBy>("provider");
  stats = $state<SpendStats | null>(null);
  budget = $state<BudgetStatus | null>(null);
  loading = $state(true);
  error = $state<string | null>(null);
  readonly #backend: Backend;
  #seq = 0;

  constructor(backend: Backend) {
    this.#backend = backend;
  }

  query(now = new Date()): SpendQuery {
    return { since_ms: periodStart(this.range, now) ?? null, until_ms: null, utc_offset_minutes: -now.getTimezoneOffset() };
  }

  get buckets(): SpendBucket[] {
    if (!this.stats) return [];
    return this.period === "day" ? this.stats.days : this.period === "week" ? this.stats.weeks : this.stats.months;
  }

  /** The spend chart's data. */
  get spend(): Stacked {
    return stack(this.buckets, this.by);
  }

  /** The tokens chart's data: input and output per bucket. */
  get tokens(): Stacked {
    const b = this.buckets;
    return {
      times: b.map((x) => Math.round(x.start_ms / 1000)),
      labels: b.map((x) => x.start),
      series: [
        { key: "input", values: b.map((x) => x.input_tokens) },
        { key: "output", values: b.map((x) => x.output_tokens) },
      ],
    };
  }

  /** Models by latency (p95, slowest first), those without an answer last. */
  get byLatency(): ModelSpend[] {
    return [...(this.stats?.models ?? [])].sort((a, b) => (b.latency_p95_ms ?? -1) - (a.latency_p95_ms ?? -1) || a.model.localeCompare(b.model));
  }

  /** Nothing recorded in the range. */
  get empty(): boolean {
    return !!this.stats && this.stats.totals.runs === 0;
  }

  /** Asks for the figures and the budget; an answer overtaken by a later one is dropped. */
  async refresh(now = new Date()): Promise<void> {
    const mine = ++this.#seq;
    try {
      const [stats, budget] = await Promise.all([this.#backend.spendStats(this.query(now)), this.#backend.budgetStatus()]);
      if (mine !== this.#seq) return;
      this.stats = stats;
      this.budget = budget;
      this.error = null;
    } catch (e) {
      if (mine === this.#seq) this.error = errorMessage(e);
    } finally {
      if (mine === this.#seq) this.loading = false;
    }
  }

  /** Refreshes whenever any process changes the history, until the returned function is called. */
  watch(): () => void {
    return whileHistoryChanges(this.#backend, () => void this.refresh());
  }
}
