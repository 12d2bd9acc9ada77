// How a model's call ended, read in one place. The engine gives each result a
// typed outcome; a run stored before outcomes were recorded may come without
// one, and only here is it read from the result's error. Components branch on
// what this returns, never on an error's words.
import type { ModelOutcome, ModelResult } from "./ipc/backend";

/**
 * The outcome of `r`: its own when it has one; else (an older stored run)
 * answered without an error, cancelled when the error is the engine's own word
 * for a call it stopped, failed otherwise (a provider's message that mentions
 * cancelling is a failure like any other).
 */
export function outcomeOf(r: Pick<ModelResult, "outcome" | "error">): ModelOutcome {
  if (r.outcome) return r.outcome;
  if (!r.error) return "answered";
  return r.error === "cancelled" ? "cancelled" : "failed";
}
