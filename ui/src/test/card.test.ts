import { describe, expect, it } from "vitest";
import { render, screen, waitFor } from "@testing-library/svelte";
import { flushSync } from "svelte";
import ModelCard from "../lib/components/ModelCard.svelte";
import { RunState } from "../lib/state/run.svelte";
import { result } from "./fixtures";

function setup() {
  let now = 1_000;
  const run = new RunState("h", { input: "q", models: [{ name: "fake/a" }, { name: "fake/b" }] }, "run", () => now);
  const view = render(ModelCard, { props: { card: run.cards[0], now: run.now } });
  return { run, view, tick: (ms: number) => (now += ms), at: () => now };
}

describe("ModelCard", () => {
  it("renders streamed deltas as they arrive, with a ticking timer", async () => {
    const { run, view, tick, at } = setup();
    run.apply({ type: "run_started", id: "rt_1", trace_uuid: "t", models: ["fake/a", "fake/b"] });
    run.apply({ type: "model_started", index: 0, model: "fake/a" });
    run.apply({ type: "text_delta", index: 0, model: "fake/a", delta: "Hello " });
    flushSync();
    expect(screen.getByTestId("card-body").textContent).toContain("Hello");
    expect(screen.getByTestId("card-status").textContent).toContain("Streaming");
    run.apply({ type: "text_delta", index: 0, model: "fake/a", delta: "**world**" });
    tick(2_500);
    await view.rerender({ card: run.cards[0], now: at() });
    await waitFor(() => expect(screen.getByTestId("card-body").querySelector("strong")?.textContent).toBe("world"));
    expect(screen.getByTestId("card-timer").textContent).toBe("2.5 s");
    tick(1_000);
    await view.rerender({ card: run.cards[0], now: at() });
    expect(screen.getByTestId("card-timer").textContent).toBe("3.5 s");
  });

  it("shows retries and the provider's error", async () => {
    const { run } = setup();
    run.apply({ type: "model_started", index: 0, model: "fake/a" });
    run.apply({ type: "text_delta", index: 0, model: "fake/a", delta: "partial" });
    run.apply({ type: "model_retrying", index: 0, model: "fake/a", attempt: 1, delay_ms: 500, reason: "HTTP 503" });
    flushSync();
    expect(screen.getByTestId("card-status").textContent).toContain("Retrying");
    expect(screen.getByTestId("card-body").textContent).toContain("HTTP 503");
    expect(screen.getByTestId("card-body").textContent).not.toContain("partial");
    run.apply({ type: "model_failed", result: result(0, "fake/a", "", { error: "HTTP 401: invalid api key (2 attempts)", attempts: 2 }) });
    flushSync();
    expect(screen.getByTestId("card-error").textContent).toContain("invalid api key");
    expect(screen.getByTestId("card-status").textContent).toContain("Failed");
    expect(screen.getByTestId("card-timer").textContent).toBe("1.2 s");
  });

  it("marks schema validity and the vote", () => {
    const { run } = setup();
    run.apply({ type: "model_finished", result: result(0, "fake/a", "{\"a\":1}", { schema_valid: false, schema_error: "missing b", vote: "Paris" }) });
    flushSync();
    expect(screen.getByTestId("schema-invalid").getAttribute("title")).toBe("missing b");
    expect(screen.getByTestId("card-vote").textContent).toContain("Paris");
  });

  it("says a vote read from prose and a JSON-mode fallback", () => {
    const { run } = setup();
    run.apply({ type: "model_finished", result: result(0, "fake/a", "It is Paris.", { vote: "Paris", vote_read: "prose", schema_fallback: true }) });
    flushSync();
    expect(screen.getByTestId("card-vote").textContent).toBe("Voted: Paris (from prose)");
    expect(screen.getByTestId("schema-fallback").textContent).toBe("JSON mode");
  });

  it("shows a model waiting for a slot of its server as queued, its timer still", async () => {
    const { run, view, tick, at } = setup();
    run.apply({ type: "model_queued", index: 0, model: "fake/a" });
    tick(3_000);
    await view.rerender({ card: run.cards[0], now: at() });
    expect(screen.getByTestId("card-status").textContent).toContain("Queued");
    expect(screen.getByTestId("card-waiting").textContent).toContain("waiting for a free slot");
    expect(screen.getByTestId("card-timer").textContent).toBe("0 ms");
    expect(run.cards[0].active).toBe(true);
    run.apply({ type: "model_started", index: 0, model: "fake/a" });
    run.apply({ type: "model_finished", result: result(0, "fake/a", "Blue.", { queued_ms: 3_000 }) });
    await view.rerender({ card: run.cards[0], now: at() });
    expect(screen.getByTestId("card-status").textContent).toContain("Done");
    expect(screen.getByTestId("card-queued").textContent).toBe("waited 3.0 s");
  });

  it("branches on the typed outcome, not on the error's words", () => {
    const { run } = setup();
    run.apply({ type: "model_failed", result: result(0, "fake/a", "", { error: "cancelled by the provider", outcome: "failed" }) });
    flushSync();
    expect(screen.getByTestId("card-status").textContent).toContain("Failed");
    run.apply({ type: "model_failed", result: result(1, "fake/b", "", { error: "no API key for provider 'fake'", outcome: "missing_key" }) });
    run.apply({ type: "model_failed", result: result(0, "fake/a", "half", { error: "stopped", outcome: "cancelled" }) });
    flushSync();
    expect(screen.getByTestId("card-status").textContent).toContain("Cancelled");
    expect(run.cards[1].outcome).toBe("missing_key");
  });

  it("keeps what streamed before a failure, with the error", () => {
    const { run } = setup();
    run.apply({ type: "model_started", index: 0, model: "fake/a" });
    run.apply({ type: "model_failed", result: result(0, "fake/a", "Rayleigh scat", { error: "the stream broke off" }) });
    flushSync();
    expect(screen.getByTestId("card-body").textContent).toContain("Rayleigh scat");
    expect(screen.getByTestId("card-error").textContent).toContain("broke off");
  });

  it("marks tokens the server did not report as estimates", () => {
    const { run } = setup();
    const usage = { input_tokens: 5, output_tokens: 142, web_fetch_requests: 0, extra: { estimated: true } };
    run.apply({ type: "model_finished", result: result(0, "fake/a", "Blue.", { usage }) });
    flushSync();
    expect(screen.getByTestId("card-tokens").textContent).toBe("~5 in · ~142 out");
  });
});
