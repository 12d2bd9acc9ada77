import { describe, expect, it } from "vitest";
import { outcomeOf } from "../lib/outcome";
import { RunState } from "../lib/state/run.svelte";
import { result } from "./fixtures";

describe("outcomeOf", () => {
  it("takes the result's typed outcome, whatever its error says", () => {
    expect(outcomeOf({ outcome: "failed", error: "cancelled" })).toBe("failed");
    expect(outcomeOf({ outcome: "missing_key", error: "something else" })).toBe("missing_key");
    expect(outcomeOf({ outcome: "timed_out", error: null })).toBe("timed_out");
    expect(outcomeOf({ outcome: "answered" })).toBe("answered");
  });

  it("reads an older stored result, which has none, from its error", () => {
    expect(outcomeOf({})).toBe("answered");
    expect(outcomeOf({ outcome: null, error: null })).toBe("answered");
    expect(outcomeOf({ error: "" })).toBe("answered");
    expect(outcomeOf({ error: "cancelled" })).toBe("cancelled");
    // Only the engine's own word is a cancel; a provider's words are a failure.
    expect(outcomeOf({ error: "cancelled by the provider" })).toBe("failed");
    expect(outcomeOf({ error: "no API key for provider 'openai'" })).toBe("failed");
  });

  it("is what a stored run's cards show", () => {
    const stored = new RunState("h", { input: "q", models: [{ name: "fake/a" }, { name: "fake/b" }, { name: "fake/c" }] });
    stored.apply({ type: "model_finished", result: result(0, "fake/a", "A") });
    stored.apply({ type: "model_failed", result: result(1, "fake/b", "", { error: "cancelled" }) });
    stored.apply({ type: "model_failed", result: result(2, "fake/c", "", { error: "boom" }) });
    expect(stored.cards.map((c) => [c.outcome, c.status])).toEqual([
      ["answered", "done"],
      ["cancelled", "cancelled"],
      ["failed", "failed"],
    ]);
  });
});
