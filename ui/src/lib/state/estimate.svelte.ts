// What the workbench's draft would cost, asked again (debounced) as the prompt,
// panel and options change. Only the latest request's answer is kept: an
// earlier one arriving late never replaces it.
import type { Backend, Estimate, RoundtableRequest } from "../ipc/backend";
import { errorMessage } from "../ipc/backend";

/** How long the draft must stay unchanged before it is estimated. */
export const ESTIMATE_DEBOUNCE_MS = 300;

export class CostEstimate {
  estimate = $state<Estimate | null>(null);
  error = $state<string | null>(null);
  /** A request is waiting for its debounce or its answer. */
  pending = $state(false);
  #timer: ReturnType<typeof setTimeout> | null = null;
  #seq = 0;
  #last = "";

  /**
   * Estimates `request` once it has stayed the same for the debounce; null
   * (a draft that cannot run) clears the estimate. The same request as the
   * last one asked is not asked again.
   */
  schedule(backend: Backend, request: RoundtableRequest | null, delayMs = ESTIMATE_DEBOUNCE_MS): void {
    const key = request ? JSON.stringify(request) : "";
    if (key === this.#last && (this.pending || this.estimate || this.error)) return;
    this.#last = key;
    this.cancel();
    const seq = ++this.#seq;
    if (!request) {
      this.estimate = null;
      this.error = null;
      this.pending = false;
      return;
    }
    this.pending = true;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      backend.estimateRun(request).then(
        (e) => {
          if (seq !== this.#seq) return;
          this.estimate = e;
          this.error = null;
          this.pending = false;
        },
        (e) => {
          if (seq !== this.#seq) return;
          this.estimate = null;
          this.error = errorMessage(e);
          this.pending = false;
        },
      );
    }, delayMs);
  }

  /** Stops a debounce in flight (an answer already asked for is then ignored). */
  cancel(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#seq++;
  }
}

/** `$0.012`: costs to two significant figures, small ones kept readable. */
export function formatUsd(usd: number): string {
  if (usd === 0) return "$0";
  if (usd < 0.0001) return "<$0.0001";
  if (usd >= 100) return `$${usd.toFixed(0)}`;
  const digits = Math.max(2, 1 - Math.floor(Math.log10(usd)));
  return `$${Number(usd.toFixed(digits)).toString()}`;
}
