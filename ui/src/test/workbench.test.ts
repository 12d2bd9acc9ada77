import { describe, expect, it } from "vitest";
import { Workbench } from "../lib/state/workbench.svelte";
import { draftModel } from "../lib/state/settings.svelte";
import { FakeBackend } from "../lib/testing/fake-backend";
import type { RunResult } from "../lib/ipc/backend";
import { response, result } from "./fixtures";

describe("Workbench", () => {
  it("says what is missing before a run", () => {
    const wb = new Workbench();
    expect(wb.problem()).toMatch(/prompt/);
    wb.input = "Capital of Australia?";
    expect(wb.problem()).toMatch(/at least one model/);
    wb.panel = [draftModel("llama3")];
    expect(wb.problem()).toMatch(/provider\/model/);
    wb.panel = [draftModel("fake/a"), draftModel("fake/a")];
    wb.resolution = "multiple_choice";
    expect(wb.problem()).toMatch(/two choices/);
    wb.choices = ["Sydney", "Canberra"];
    wb.schemaText = "{";
    expect(wb.problem()).toMatch(/schema/);
    wb.schemaText = "";
    wb.timeoutS = null as unknown as number; // a cleared number field
    expect(wb.problem()).toMatch(/timeout/);
    wb.timeoutS = 30;
    wb.maxRetries = 5;
    expect(wb.problem()).toMatch(/retries/);
    wb.maxRetries = 0;
    expect(wb.problem()).toBeNull();
  });

  it("uses the summary model of Settings when the draft names none", () => {
    const wb = new Workbench();
    wb.input = "Q";
    wb.panel = [draftModel("fake/a")];
    wb.defaultSummaryModel = "fake/judge";
    expect(wb.request().summary_model).toBe("fake/judge");
    wb.summaryModel = "fake/other";
    expect(wb.request().summary_model).toBe("fake/other");
    wb.resolution = "fast";
    expect(wb.request().summary_model).toBeUndefined();
  });

  it("builds the contract request, the same model twice included", () => {
    const wb = new Workbench();
    wb.input = "Q";
    wb.instructions = "Be brief";
    wb.panel = [draftModel("fake/a", { temperature: 0.2, reasoning: "high" }), draftModel("fake/a", { max_tokens: 100 }), draftModel("  ")];
    wb.summaryModel = "fake/s";
    wb.schemaText = '{"type":"object"}';
    wb.maxRetries = 2;
    wb.timeoutS = 30;
    expect(wb.request()).toEqual({
      input: "Q",
      instructions: "Be brief",
      models: [{ name: "fake/a", temperature: 0.2, reasoning: "high" }, { name: "fake/a", max_tokens: 100 }],
      resolution: "summary",
      summary_model: "fake/s",
      output_schema: { type: "object" },
      max_retries: 2,
      timeout_ms: 30000,
    });
  });

  it("runs through the backend and keeps the result", async () => {
    const backend = new FakeBackend();
    const results = [result(0, "fake/a", "A")];
    backend.script = {
      events: [
        { type: "run_started", id: "rt_1", trace_uuid: "t", models: ["fake/a"] },
        { type: "model_started", index: 0, model: "fake/a" },
        { type: "text_delta", index: 0, model: "fake/a", delta: "A" },
        { type: "model_finished", result: results[0] },
      ],
      result: { response: response(results), status: "completed" },
    };
    const wb = new Workbench();
    wb.input = "Q";
    wb.panel = [draftModel("fake/a")];
    await wb.start(backend);
    expect(backend.calls[0]).toMatchObject({ method: "run", args: [expect.any(String), { input: "Q", models: [{ name: "fake/a" }] }] });
    expect(wb.run?.phase).toBe("completed");
    expect(wb.run?.runId).toBe("rt_1");
    expect(wb.run?.cards[0].status).toBe("done");
    expect(wb.run?.consolidation?.text).toBe("The consolidated answer");
  });

  it("asks again when Cancel reaches the shell before the run is registered there", async () => {
    let registered = 0;
    let end!: (r: RunResult) => void;
    const backend = new (class extends FakeBackend {
      override async run() {
        return new Promise<RunResult>((r) => (end = r));
      }
      override async cancel(handle: string) {
        await super.cancel(handle);
        if (++registered < 3) return false; // not registered yet
        end({ response: response([{ ...result(0, "fake/a", ""), error: "cancelled" }]), status: "interrupted" });
        return true;
      }
    })();
    const wb = new Workbench();
    wb.input = "Q";
    wb.panel = [draftModel("fake/a")];
    const running = wb.start(backend);
    await wb.cancel(backend);
    await running;
    expect(backend.calls.filter((c) => c.method === "cancel")).toHaveLength(3);
    expect(wb.run?.running).toBe(false);
  });

  it("shows a request the app refused", async () => {
    const backend = new FakeBackend();
    const wb = new Workbench();
    wb.input = "Q";
    wb.panel = [draftModel("nope/a")];
    await wb.start(backend);
    expect(wb.run?.phase).toBe("error");
    expect(wb.run?.error?.message).toBe("no script");
    expect(wb.run?.cards[0].status).toBe("cancelled");
  });
});

describe("RunState", () => {
  it("ignores events that arrive after the run's result", async () => {
    const { RunState } = await import("../lib/state/run.svelte");
    const run = new RunState("h", { input: "q", models: [{ name: "fake/a" }] });
    run.apply({ type: "text_delta", index: 0, model: "fake/a", delta: "Hel" });
    run.finish({ response: response([result(0, "fake/a", "Hello")]), status: "completed" });
    run.apply({ type: "text_delta", index: 0, model: "fake/a", delta: "lo" });
    expect(run.cards[0].text).toBe("Hello");
    expect(run.phase).toBe("completed");
  });

  it("opens a stored run back into its cards", async () => {
    const { RunState } = await import("../lib/state/run.svelte");
    const run = RunState.fromStored({
      summary: { id: "rt_9", created_at: "", created_at_ms: 1, status: "interrupted", input: "q", resolution: "summary", models: ["fake/a", "fake/b"], total_cost: 0, duration_ms: null, starred: false, tags: [], parent_id: null, parent_kind: null, previous_id: null, thread_id: "rt_9", turns: 1, data_preview: null },
      request: { input: "q", models: [{ name: "fake/a" }, { name: "fake/b" }] },
      response: response([result(0, "fake/a", "A")], { id: "rt_9", data: null }),
    });
    expect(run.phase).toBe("interrupted");
    expect(run.cards.map((c) => c.status)).toEqual(["done", "cancelled"]);
    expect(run.cards[0].text).toBe("A");
  });
});
