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
  #lastFiles: string[] = [];

  /**
   * Estimates `request` once it has stayed the same for the debounce; null
   * (a draft that cannot run) clears the estimate. The same request as the
   * last one asked is not asked again.
   */
  schedule(backend: Backend, request: RoundtableRequest | null, delayMs = ESTIMATE_DEBOUNCE_MS): void {
    // The attached files' bytes are compared apart, as the same strings
    // (at once), not written out into the key at every keystroke.
    const files = request?.attachments?.map((a) => a.data ?? "") ?? [];
    const key = request ? JSON.stringify({ ...request, attachments: request.attachments?.map((a) => ({ ...a, data: undefined })) }) : "";
    const sameFiles = files.length === this.#lastFiles.length && files.every((d, i) => d === this.#lastFiles[i]);
    if (key === this.#last && sameFiles && (this.pending || this.estimate || this.error)) return;
    this.#last = key;
    this.#lastFiles = files;
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
