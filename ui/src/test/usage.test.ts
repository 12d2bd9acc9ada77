import { describe, expect, it } from "vitest";
import { OTHER, UsageState, failureRate, stack } from "../lib/state/usage.svelte";
import { Settings } from "../lib/state/settings.svelte";
import { FakeBackend } from "../lib/testing/fake-backend";
import type { SpendBucket, SpendStats } from "../lib/ipc/backend";

function bucket(start: string, models: Record<string, number>): SpendBucket {
  const providers: Record<string, number> = {};
  for (const [m, v] of Object.entries(models)) providers[m.split("/")[0]] = (providers[m.split("/")[0]] ?? 0) + v;
  const cost = Object.values(models).reduce((a, b) => a + b, 0);
  return { start, start_ms: Date.parse(`${start}T00:00:00Z`), cost, runs: 1, input_tokens: 100, output_tokens: 300, providers, models };
}

function stats(): SpendStats {
  const days = [bucket("2026-11-29", { "openai/a": 0.5, "fake/b": 0.25 }), bucket("2026-11-30", { "openai/a": 0.1, "fake/c": 1 })];
  return {
    query: { since_ms: null, until_ms: null, utc_offset_minutes: 0 },
    totals: { cost: 1.85, runs: 2, calls: 5, failures: 1, input_tokens: 200, output_tokens: 600, resolution_cost: 0, judge_cost: 0, deleted_cost: 0 },
    days,
    weeks: [bucket("2026-11-23", { "openai/a": 0.5, "fake/b": 0.25 }), bucket("2026-11-30", { "openai/a": 0.1, "fake/c": 1 })],
    months: [bucket("2026-11-01", { "openai/a": 0.6, "fake/b": 0.25, "fake/c": 1 })],
    providers: [],
    models: [
      { model: "fake/b", provider: "fake", cost: 0.25, calls: 2, failures: 1, failures_by_end: { timed_out: 1 }, input_tokens: 1, output_tokens: 1, latency_p50_ms: 100, latency_p95_ms: 200 },
      { model: "openai/a", provider: "openai", cost: 0.6, calls: 2, failures: 0, failures_by_end: {}, input_tokens: 1, output_tokens: 1, latency_p50_ms: 900, latency_p95_ms: 1500 },
      { model: "fake/c", provider: "fake", cost: 1, calls: 1, failures: 1, failures_by_end: { failed: 1 }, input_tokens: 0, output_tokens: 0, latency_p50_ms: null, latency_p95_ms: null },
    ],
    unpriced: [{ model: "fake/c", calls: 1, last_ms: 1 }],
  };
}

describe("stack", () => {
  it("stacks by provider or model, costliest first, the rest as other", () => {
    const s = stats();
    const byProvider = stack(s.days, "provider");
    expect(byProvider.series.map((x) => x.key)).toEqual(["fake", "openai"]);
    expect(byProvider.series[0].values).toEqual([0.25, 1]);
    expect(byProvider.labels).toEqual(["2026-11-29", "2026-11-30"]);
    const byModel = stack(s.days, "model", 2);
    expect(byModel.series.map((x) => x.key)).toEqual(["fake/c", OTHER]);
    expect(byModel.series[1].values.map((v) => +v.toFixed(2))).toEqual([0.75, 0.1]);
  });
});

describe("UsageState", () => {
  it("asks for the range at the host's offset, with the budget, and cuts by period", async () => {
    const backend = new FakeBackend();
    backend.spend = stats();
    backend.budget = { spent_today_usd: 0.9, spent_month_usd: 1.85, daily: { name: "daily", limit_usd: 1, spent_usd: 0.9, fraction: 0.9, state: "warning", since_ms: 0 }, monthly: null, soft: false, state: "warning", message: "$0.90 of the daily budget of $1.00 spent today (90 %)" };
    const usage = new UsageState(backend);
    const now = new Date(2026, 11, 2, 15, 0);
    await usage.refresh(now);
    const q = backend.calls.find((c) => c.method === "spendStats")!.args[0] as { since_ms: number; utc_offset_minutes: number };
    expect(q.since_ms).toBe(new Date(2026, 10, 3).getTime()); // the past 30 days, from local midnight
    expect(q.utc_offset_minutes).toBe(-now.getTimezoneOffset());
    expect(usage.budget?.state).toBe("warning");
    expect(usage.buckets).toHaveLength(2);
    usage.period = "month";
    expect(usage.buckets).toHaveLength(1);
    expect(usage.spend.series.map((x) => x.key)).toEqual(["fake", "openai"]);
    usage.by = "model";
    expect(usage.spend.series[0].key).toBe("fake/c");
    expect(usage.tokens.series.map((x) => x.values[0])).toEqual([100, 300]);
    expect(usage.byLatency.map((m) => m.model)).toEqual(["openai/a", "fake/b", "fake/c"]);
    expect(failureRate(usage.byLatency[1])).toBe(0.5);
    expect(usage.empty).toBe(false);
    usage.range = "";
    await usage.refresh(now);
    expect((backend.calls.filter((c) => c.method === "spendStats").at(-1)!.args[0] as { since_ms: number | null }).since_ms).toBeNull();
  });

  it("says an empty range, and an error", async () => {
    const backend = new FakeBackend();
    const usage = new UsageState(backend);
    await usage.refresh();
    expect(usage.empty).toBe(true);
    backend.spendStats = async () => {
      throw { code: "storage", message: "the history is busy", field: null };
    };
    await usage.refresh();
    expect(usage.error).toBe("the history is busy");
  });

  it("refreshes when the history changes", async () => {
    const backend = new FakeBackend();
    const usage = new UsageState(backend);
    const stop = usage.watch();
    await Promise.resolve();
    backend.historyListeners.forEach((l) => l());
    await Promise.resolve();
    expect(backend.calls.filter((c) => c.method === "spendStats")).toHaveLength(1);
    stop();
  });
});

describe("Settings' budget", () => {
  it("reads [budget] and writes only it", async () => {
    const backend = new FakeBackend();
    backend.prefs = { ...backend.prefs, budget: { daily_usd: 2, monthly_usd: null, soft: false } };
    const settings = new Settings();
    await settings.load(backend);
    expect(settings.budget).toEqual({ daily_usd: 2, monthly_usd: null, soft: false });
    settings.summaryModel = "unsaved/edit";
    expect(await settings.saveBudget({ daily_usd: 1, monthly_usd: 20, soft: true })).toBe(true);
    expect(backend.prefs.budget).toEqual({ daily_usd: 1, monthly_usd: 20, soft: true });
    expect(backend.prefs.default_summary_model).toBeNull();
    expect(settings.budget.soft).toBe(true);
  });
});
