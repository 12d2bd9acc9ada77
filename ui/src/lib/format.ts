// Small formatting helpers for figures shown in cards and lists.

export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const m = Math.floor(ms / 60_000);
  const s = Math.round((ms % 60_000) / 1000);
  return `${m} min ${s} s`;
}

export function formatCost(usd: number | null | undefined): string {
  if (usd === null || usd === undefined) return "—";
  if (usd === 0) return "$0";
  if (usd < 0.0001) return "<$0.0001";
  if (usd < 0.01) return `$${usd.toFixed(4)}`;
  return `$${usd.toFixed(3)}`;
}

export function formatTokens(n: number | null | undefined): string {
  if (n === null || n === undefined) return "—";
  if (n < 1000) return String(n);
  return `${(n / 1000).toFixed(n < 10_000 ? 1 : 0)}k`;
}

export function formatWhen(rfc3339: string, now = Date.now()): string {
  const t = Date.parse(rfc3339);
  if (Number.isNaN(t)) return rfc3339;
  const diff = now - t;
  if (diff < 60_000) return "just now";
  if (diff < 3_600_000) return `${Math.floor(diff / 60_000)} min ago`;
  if (diff < 86_400_000) return `${Math.floor(diff / 3_600_000)} h ago`;
  return new Date(t).toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" });
}

/** The History's date filter: runs from the start of today, or of the last 7, 30 or 365 days (local time). */
export type Period = "" | "today" | "7d" | "30d" | "365d";
export const PERIODS: [Period, string][] = [
  ["", "Any time"],
  ["today", "Today"],
  ["7d", "Past 7 days"],
  ["30d", "Past 30 days"],
  ["365d", "Past year"],
];

/** When `period` starts (unix ms, local midnight), or undefined for any time. */
export function periodStart(period: Period, now = new Date()): number | undefined {
  if (!period) return undefined;
  const start = new Date(now.getFullYear(), now.getMonth(), now.getDate());
  const days = { today: 0, "7d": 6, "30d": 29, "365d": 364 }[period];
  start.setDate(start.getDate() - days);
  return start.getTime();
}

/** A share (0 to 1) as a whole percentage: `0.75` → `75%`. */
export function percent(share: number): string {
  return `${Math.round(share * 100)}%`;
}
