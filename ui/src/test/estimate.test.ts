import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { render, screen } from "@testing-library/svelte";
import { CostEstimate, formatUsd } from "../lib/state/estimate.svelte";
import { Workbench } from "../lib/state/workbench.svelte";
import { draftModel } from "../lib/state/settings.svelte";
import { FakeBackend } from "../lib/testing/fake-backend";
import { RunState } from "../lib/state/run.svelte";
import ModelCard from "../lib/components/ModelCard.svelte";
import { response, result } from "./fixtures";

function draft(): Workbench {
  const wb = new Workbench();
  wb.input = "What is the capital of Australia?";
  wb.panel = [draftModel("fake/a", { max_tokens: 1000 }), draftModel("fake/b")];
  wb.resolution = "fast";
  return wb;
}

describe("CostEstimate", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("asks once the draft has stayed the same for the debounce", async () => {
    const backend = new FakeBackend();
    backend.prices = { "fake/a": [1, 10], "fake/b": [2, 20] };
    const said = vi.spyOn(backend, "estimateRun");
    const est = new CostEstimate();
    const wb = draft();
    est.schedule(backend, wb.request());
    wb.input += " Briefly.";
    await vi.advanceTimersByTimeAsync(200);
    est.schedule(backend, wb.request());
    await vi.advanceTimersByTimeAsync(200);
    expect(backend.calls.filter((c) => c.method === "estimateRun")).toHaveLength(0);
    expect(est.pending).toBe(true);
    await vi.advanceTimersByTimeAsync(150);
    const asked = backend.calls.filter((c) => c.method === "estimateRun");
    expect(asked).toHaveLength(1);
    expect(asked[0].args[0]).toMatchObject({ input: wb.input });
    expect(est.pending).toBe(false);
    // What the backend estimated, as it said it (its figures are the app's to
    // compute: the engine's estimate tests; the fake's formula proves nothing).
    expect(est.estimate).not.toBeNull();
    expect(est.estimate).toEqual(await said.mock.results[0].value);
    // The same draft again is not asked again.
    est.schedule(backend, wb.request());
    await vi.advanceTimersByTimeAsync(400);
    expect(backend.calls.filter((c) => c.method === "estimateRun")).toHaveLength(1);
  });

  it("keeps only the latest answer, and clears for a draft that cannot run", async () => {
    let release!: () => void;
    const backend = new (class extends FakeBackend {
      slow = true;
      override async estimateRun(request: Parameters<FakeBackend["estimateRun"]>[0]) {
        if (this.slow) {
          this.slow = false;
          await new Promise<void>((r) => (release = r));
        }
        return super.estimateRun(request);
      }
    })();
    const est = new CostEstimate();
    const wb = draft();
    est.schedule(backend, wb.request());
    await vi.advanceTimersByTimeAsync(300); // the first is asked, and hangs
    wb.panel = [draftModel("fake/a")];
    est.schedule(backend, wb.request());
    await vi.advanceTimersByTimeAsync(300);
    expect(est.estimate?.calls).toHaveLength(1);
    release();
    await vi.advanceTimersByTimeAsync(0);
    expect(est.estimate?.calls).toHaveLength(1); // the late answer is ignored
    est.schedule(backend, null);
    expect(est.estimate).toBeNull();
    expect(est.pending).toBe(false);
  });

  it("says an error instead of a figure", async () => {
    const backend = new (class extends FakeBackend {
      override async estimateRun(): Promise<never> {
        throw { code: "unknown_provider", message: "no provider 'nope'", field: "models[0]" };
      }
    })();
    const est = new CostEstimate();
    est.schedule(backend, draft().request());
    await vi.advanceTimersByTimeAsync(300);
    expect(est.error).toMatch(/no provider/);
    expect(est.estimate).toBeNull();
  });
});

describe("formatUsd", () => {
  it("gives two significant figures", () => {
    expect(formatUsd(0.0123)).toBe("$0.012");
    expect(formatUsd(0.09)).toBe("$0.09");
    expect(formatUsd(1.234)).toBe("$1.23");
    expect(formatUsd(0)).toBe("$0");
    expect(formatUsd(0.00001)).toBe("<$0.0001");
  });
});

describe("max_cost", () => {
  it("is sent, and a refused run is sent again confirmed by Run anyway", async () => {
    const backend = new FakeBackend();
    backend.prices = { "fake/a": [1, 10], "fake/b": [2, 20] };
    const results = [result(0, "fake/a", "A"), result(1, "fake/b", "B")];
    backend.script = { events: [], result: { response: response(results), status: "completed" } };
    const wb = draft();
    wb.maxCost = -1;
    expect(wb.problem()).toMatch(/Max cost/);
    wb.maxCost = 0.01;
    expect(wb.request().max_cost).toBe(0.01);
    await wb.start(backend);
    expect(wb.run?.phase).toBe("error");
    expect(wb.run?.error?.field).toBe("max_cost");
    expect(wb.costRefused).toBe(true);
    await wb.runAnyway(backend);
    const runs = backend.calls.filter((c) => c.method === "run");
    expect(runs).toHaveLength(2);
    expect(runs[1].args[1]).toMatchObject({ max_cost: 0.01, confirm_cost: true });
    expect(wb.run?.phase).toBe("completed");
    expect(wb.costRefused).toBe(false);
    // A draft loaded from a stored run keeps its cap.
    const other = new Workbench();
    other.load(wb.run!.request);
    expect(other.maxCost).toBe(0.01);
  });

  it("shows a card stopped at the cap with what had arrived", () => {
    const run = new RunState("h", { input: "Q", models: [{ name: "fake/a" }] }, "run");
    run.card(0)?.applyResult(result(0, "fake/a", "Partial answer", { outcome: "budget_exceeded", error: "stopped: the run's running cost reached its max_cost ($0.001)" }), Date.now());
    render(ModelCard, { props: { card: run.cards[0], now: Date.now() } });
    expect(screen.getByTestId("card-status").textContent).toMatch(/Capped/);
    expect(screen.getByTestId("card-capped").textContent).toMatch(/Stopped at the cost cap.*answer so far is kept/);
    expect(screen.getByText("Partial answer")).toBeTruthy();
    expect(screen.queryByTestId("card-error")).toBeNull();
  });
});

describe("the budget under the Run button", () => {
  it("warns at 80 % and says a hard budget refuses past 100 %", async () => {
    const { default: RunEstimate } = await import("../lib/components/RunEstimate.svelte");
    const backend = new FakeBackend();
    backend.budget = { spent_today_usd: 0.9, spent_month_usd: 0.9, daily: { name: "daily", limit_usd: 1, spent_usd: 0.9, fraction: 0.9, state: "warning", since_ms: 0 }, monthly: null, soft: false, state: "warning", message: "$0.90 of the daily budget of $1.00 spent today (90 %)" };
    render(RunEstimate, { props: { wb: draft(), backend } });
    expect((await screen.findByTestId("budget-warning")).textContent).toBe("$0.90 of the daily budget of $1.00 spent today (90 %).");
    backend.budget = { ...backend.budget, state: "exceeded", message: "$1.10 of the daily budget of $1.00 spent today (110 %)" };
    backend.historyListeners.forEach((l) => l());
    await vi.waitFor(() => expect(screen.getByTestId("budget-warning").textContent).toMatch(/new runs are refused/));
  });
});

describe("the estimate while blind", () => {
  it("shows only the totals, naming no model", async () => {
    const { default: RunEstimate } = await import("../lib/components/RunEstimate.svelte");
    const backend = new FakeBackend();
    backend.prices = { "fake/a": [1, 10] };
    const view = render(RunEstimate, { props: { wb: draft(), backend, blind: true } });
    await vi.waitFor(() => expect(screen.getByTestId("estimate-line").textContent).toMatch(/typical · up to/), { timeout: 2000 });
    expect(view.container.innerHTML).not.toMatch(/fake\//);
  });
});

describe("the context window", () => {
  it("flags a model the draft would send more than its context window takes, and names none while blind", async () => {
    const { default: RunEstimate } = await import("../lib/components/RunEstimate.svelte");
    const backend = new FakeBackend();
    backend.contextWindows = { "fake/a": 2 };
    const view = render(RunEstimate, { props: { wb: draft(), backend } });
    const flag = await screen.findByTestId("estimate-over-context", {}, { timeout: 2000 });
    expect(flag.textContent).toMatch(/^fake\/a is over its context window of 2 tokens \(\d+ to send\)\.$/);
    view.unmount();
    render(RunEstimate, { props: { wb: draft(), backend, blind: true } });
    expect((await screen.findByTestId("estimate-over-context", {}, { timeout: 2000 })).textContent).toMatch(/^A model is over/);
  });
});
