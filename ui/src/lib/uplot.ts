// uPlot, loaded when a chart is first shown (its own chunk, not in the start-up
// bundle). uPlot makes `new Intl.NumberFormat(navigator.language)` as it loads,
// which throws where the locale is POSIX's "C" (a bare session, the e2e suite's
// Xvfb): there the page gets a language tag Intl takes first.
import type uPlot from "uplot";

let loading: Promise<typeof uPlot> | null = null;

export function loadUplot(): Promise<typeof uPlot> {
  if (!loading) {
    try {
      new Intl.NumberFormat(navigator.language);
    } catch {
      Object.defineProperty(navigator, "language", { value: "en-US", configurable: true });
    }
    loading = import("uplot").then((m) => m.default);
  }
  return loading;
}
