import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { RunState, TICK_MS } from "../lib/state/run.svelte";
import { response, result } from "./fixtures";

describe("RunState's clock", () => {
  // Animation frames too: a tick's update waits for the next one (16 ms).
  beforeEach(() => vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "requestAnimationFrame", "cancelAnimationFrame", "Date"] }));
  const FRAME = 16;
  afterEach(() => vi.useRealTimers());

  const newRun = () => new RunState("h", { input: "q", models: [{ name: "fake/a" }, { name: "fake/b" }] });

  it("applies the events received between two ticks together, in order, at the tick", () => {
    const run = newRun();
    run.startClock();
    run.receive({ type: "model_started", index: 0, model: "fake/a" });
    run.receive({ type: "text_delta", index: 0, model: "fake/a", delta: "Hel" });
    run.receive({ type: "text_delta", index: 1, model: "fake/b", delta: "Bon" });
    run.receive({ type: "text_delta", index: 0, model: "fake/a", delta: "lo" });
    expect(run.cards[0].text).toBe("");
    expect(run.cards[0].status).toBe("waiting");
    vi.advanceTimersByTime(TICK_MS);
    // The tick waits for its frame.
    expect(run.cards[0].text).toBe("");
    vi.advanceTimersByTime(FRAME);
    expect(run.cards[0].text).toBe("Hello");
    // Its timer counts from when the model started, not from the tick.
    expect(run.cards[0].startedAt).toBe(run.startedAt);
    expect(run.cards[0].status).toBe("streaming");
    expect(run.cards[1].text).toBe("Bon");
    run.receive({ type: "text_delta", index: 1, model: "fake/b", delta: "jour" });
    vi.advanceTimersByTime(TICK_MS);
    expect(run.cards[1].text).toBe("Bonjour");
    run.stopClock();
  });

  it("makes one update for ticks that came while no frame did (a hidden window)", () => {
    const frames: FrameRequestCallback[] = [];
    const raf = vi.spyOn(window, "requestAnimationFrame").mockImplementation((f) => frames.push(f));
    const run = newRun();
    run.startClock();
    run.receive({ type: "text_delta", index: 0, model: "fake/a", delta: "a" });
    vi.advanceTimersByTime(TICK_MS * 4);
    run.receive({ type: "text_delta", index: 0, model: "fake/a", delta: "b" });
    expect(frames.length).toBe(1);
    expect(run.cards[0].text).toBe("");
    frames[0](0);
    expect(run.cards[0].text).toBe("ab");
    vi.advanceTimersByTime(TICK_MS);
    expect(frames.length).toBe(2);
    run.stopClock();
    raf.mockRestore();
  });

  it("applies what is still pending before the run's result, so nothing is lost or doubled", () => {
    const run = newRun();
    run.startClock();
    run.receive({ type: "model_finished", result: result(1, "fake/b", "B", { vote: "yes" }) });
    run.receive({ type: "text_delta", index: 0, model: "fake/a", delta: "A" });
    run.finish({ response: response([result(0, "fake/a", "A"), result(1, "fake/b", "B", { vote: "yes" })]), status: "completed" });
    expect(run.cards.map((c) => c.text)).toEqual(["A", "B"]);
    expect(run.cards[1].vote).toBe("yes");
    expect(run.phase).toBe("completed");
    // The clock is stopped: events that come in late apply at once, and a finished run ignores them.
    run.receive({ type: "text_delta", index: 0, model: "fake/a", delta: "late" });
    expect(run.cards[0].text).toBe("A");
    expect(vi.getTimerCount()).toBe(0);
  });

  it("applies events at once when its clock is not running", () => {
    const run = newRun();
    run.receive({ type: "text_delta", index: 0, model: "fake/a", delta: "now" });
    expect(run.cards[0].text).toBe("now");
  });
});
