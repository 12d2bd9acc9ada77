// The geometry of the leaderboard's plot: rating (y, with its 95 % interval)
// against median cost per answer (x). Pure, so it is tested without drawing.
// The x axis is logarithmic when the priced models' costs span more than ten
// times; free models (cost 0, local ones mostly) sit at the left edge, labelled
// "free". The models no cheaper one beats make the frontier: the best rating
// for what it costs.
import type { LeaderboardRow } from "./ipc/backend";

export interface PlotPoint {
  model: string;
  /** What the plot writes beside it: the model's name without its provider, unless that is ambiguous. */
  label: string;
  cost: number;
  rating: number;
  low: number;
  high: number;
  free: boolean;
  /** On the frontier: no model as cheap or cheaper has a higher rating. */
  frontier: boolean;
  x: number;
  y: number;
  yLow: number;
  yHigh: number;
  /** Where its label goes, and which way it runs. */
  labelX: number;
  labelY: number;
  anchor: "start" | "end";
}

export interface Tick {
  at: number;
  label: string;
}

export interface PlotLayout {
  width: number;
  height: number;
  /** The plotting area. */
  left: number;
  right: number;
  top: number;
  bottom: number;
  log: boolean;
  points: PlotPoint[];
  xTicks: Tick[];
  yTicks: Tick[];
  /** The frontier as an SVG polyline's points ("" with fewer than two). */
  frontier: string;
}

const MARGIN = { left: 52, right: 18, top: 14, bottom: 44 };
/** Room between the free column and the first priced model. */
const FREE_GAP = 40;
const EDGE = 14;
const CHAR_W = 6.3;
const LINE_H = 13;

/** 1, 2 or 5 times a power of ten, about `rough`. */
function niceStep(rough: number): number {
  if (!(rough > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(rough));
  const f = rough / p;
  return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
}

/** A cost per answer to two significant digits, however small: $0.0022, $0.000084. */
export function costPerAnswer(usd: number): string {
  if (!(usd > 0)) return "$0";
  const decimals = Math.min(Math.max(2, 1 - Math.floor(Math.log10(usd))), 10);
  return `$${usd.toFixed(decimals)}`;
}

export function costTick(usd: number): string {
  if (usd === 0) return "$0";
  return `$${Number(usd.toPrecision(2))}`;
}

/** Labels: the name without its provider, unless two models would then read the same. */
function labels(models: string[]): Map<string, string> {
  const short = (m: string) => m.slice(m.lastIndexOf("/") + 1) || m;
  const count = new Map<string, number>();
  for (const m of models) count.set(short(m), (count.get(short(m)) ?? 0) + 1);
  return new Map(models.map((m) => [m, count.get(short(m))! > 1 ? m : short(m)]));
}

/** The models on the frontier: walking from the cheapest, each that beats every cheaper one. */
function frontierOf(rows: LeaderboardRow[]): Set<string> {
  const byCost = [...rows].sort((a, b) => a.median_cost - b.median_cost || b.rating - a.rating);
  const out = new Set<string>();
  let best = -Infinity;
  for (const r of byCost) {
    if (r.rating > best) {
      out.add(r.model);
      best = r.rating;
    }
  }
  return out;
}

export function layoutPlot(rows: LeaderboardRow[], width: number, height: number): PlotLayout {
  const left = MARGIN.left;
  const right = width - MARGIN.right;
  const top = MARGIN.top;
  const bottom = height - MARGIN.bottom;

  // y: the intervals, padded, on round ticks.
  const lows = rows.map((r) => r.rating_low);
  const highs = rows.map((r) => r.rating_high);
  let yMin = rows.length ? Math.min(...lows) : 900;
  let yMax = rows.length ? Math.max(...highs) : 1100;
  if (yMax - yMin < 40) [yMin, yMax] = [(yMin + yMax) / 2 - 20, (yMin + yMax) / 2 + 20];
  const yStep = niceStep((yMax - yMin) / 5);
  yMin = Math.floor(yMin / yStep) * yStep;
  yMax = Math.ceil(yMax / yStep) * yStep;
  const y = (v: number) => bottom - ((v - yMin) / (yMax - yMin)) * (bottom - top);
  const yTicks: Tick[] = [];
  for (let v = yMin; v <= yMax + yStep / 2; v += yStep) yTicks.push({ at: y(v), label: String(Math.round(v)) });

  // x: free models at the left edge, the priced ones on a linear or log scale.
  const priced = rows.map((r) => r.median_cost).filter((c) => c > 0);
  const anyFree = rows.some((r) => !(r.median_cost > 0));
  const lo = priced.length ? Math.min(...priced) : 0;
  const hi = priced.length ? Math.max(...priced) : 0;
  const log = priced.length > 0 && hi / lo > 10;
  const freeX = left + EDGE;
  const xTicks: Tick[] = [];
  let x: (cost: number) => number;
  if (log) {
    const a = Math.log10(lo) - 0.15;
    const b = Math.log10(hi) + 0.15;
    const x0 = anyFree ? freeX + FREE_GAP : left + EDGE;
    const x1 = right - EDGE;
    x = (c) => (c > 0 ? x0 + ((Math.log10(c) - a) / (b - a)) * (x1 - x0) : freeX);
    // 1, 2 and 5 in each decade when there is room for their labels, else fewer.
    const perDecade = (x1 - x0) / (b - a);
    const mults = perDecade >= 170 ? [1, 2, 5] : perDecade >= 90 ? [1, 3] : [1];
    for (let k = Math.floor(a); k <= Math.ceil(b); k++) {
      for (const m of mults) {
        const v = m * 10 ** k;
        if (Math.log10(v) >= a && Math.log10(v) <= b) xTicks.push({ at: x(v), label: costTick(v) });
      }
    }
    if (anyFree) xTicks.unshift({ at: freeX, label: "free" });
  } else {
    // Linear from 0: a free model is at 0, the left edge.
    const step = niceStep((hi || 0.001) / 4);
    const max = Math.ceil((hi * 1.05 || 0.001) / step) * step;
    const x0 = freeX;
    const x1 = right - EDGE;
    x = (c) => x0 + (Math.max(c, 0) / max) * (x1 - x0);
    for (let v = 0; v <= max + step / 2; v += step) xTicks.push({ at: x(v), label: v === 0 ? (anyFree ? "free" : "$0") : costTick(v) });
  }

  const names = labels(rows.map((r) => r.model));
  const onFrontier = frontierOf(rows);
  const points: PlotPoint[] = rows.map((r) => ({
    model: r.model,
    label: names.get(r.model)!,
    cost: r.median_cost,
    rating: r.rating,
    low: r.rating_low,
    high: r.rating_high,
    free: !(r.median_cost > 0),
    frontier: onFrontier.has(r.model),
    x: x(r.median_cost),
    y: y(r.rating),
    yLow: y(r.rating_low),
    yHigh: y(r.rating_high),
    labelX: 0,
    labelY: 0,
    anchor: "start",
  }));
  placeLabels(points, left, right, top, bottom);
  const frontier = points
    .filter((p) => p.frontier)
    .sort((a, b) => a.x - b.x)
    .map((p) => `${p.x.toFixed(1)},${p.y.toFixed(1)}`);
  return { width, height, left, right, top, bottom, log, points, xTicks, yTicks, frontier: frontier.length > 1 ? frontier.join(" ") : "" };
}

/** Beside each point, right of it unless that runs off the plot; nudged up or down off the labels already placed. */
function placeLabels(points: PlotPoint[], left: number, right: number, top: number, bottom: number): void {
  const placed: { x0: number; x1: number; y0: number; y1: number }[] = [];
  const overlaps = (b: (typeof placed)[number]) => placed.some((p) => b.x0 < p.x1 && p.x0 < b.x1 && b.y0 < p.y1 && p.y0 < b.y1);
  for (const p of [...points].sort((a, b) => b.rating - a.rating)) {
    const w = p.label.length * CHAR_W;
    p.anchor = p.x + 8 + w > right ? "end" : "start";
    const x0 = p.anchor === "start" ? p.x + 8 : p.x - 8 - w;
    let box = { x0, x1: x0 + w, y0: 0, y1: 0 };
    for (const dy of [0, -LINE_H, LINE_H, -2 * LINE_H, 2 * LINE_H, -3 * LINE_H, 3 * LINE_H]) {
      const base = Math.min(Math.max(p.y + 4 + dy, top + LINE_H), bottom - 2);
      box = { ...box, y0: base - LINE_H + 2, y1: base };
      if (!overlaps(box)) break;
    }
    placed.push(box);
    p.labelX = p.anchor === "start" ? p.x + 8 : p.x - 8;
    p.labelY = box.y1;
    if (p.labelX < left) p.labelX = left;
  }
}
