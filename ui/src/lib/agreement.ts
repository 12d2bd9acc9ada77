// Where a run's answers agree, shaped for the views: the field table's cells
// grouped by value, the similarity heatmap's colours, the claims by how widely
// they are held, and the groups of cards a model's samples make. Pure functions
// over `meta.agreement` and `meta.claims` (computed by the engine).
import type { Claim, ClaimKind, ClaimMatrix, FieldAgreement, FieldTable, JsonValue, ModelSpec, Similarity, Stance } from "./ipc/backend";

/**
 * The panel a request runs: an entry with `samples: N` (N > 1) becomes N
 * entries, each with its `sample` number, as the engine expands it
 * (`expand_samples`); a panel already expanded (a stored run's) stays as it is.
 */
export function expandPanel(models: ModelSpec[]): ModelSpec[] {
  return models.flatMap((m) => {
    const n = m.samples ?? 1;
    if (n <= 1) return [m];
    const { samples: _, ...rest } = m;
    return Array.from({ length: n }, (_, k) => ({ ...rest, sample: k + 1 }));
  });
}

/** The samples of one entry of the panel, shown together. */
export interface SampleGroup {
  name: string;
  /** Positions in the expanded panel (the cards' indices), in order. */
  indices: number[];
}

/**
 * The runs of consecutive entries expanded from one `samples` entry (each
 * numbered from 1): one group per entry asked for two samples or more.
 */
export function sampleGroups(panel: ModelSpec[]): SampleGroup[] {
  const groups: SampleGroup[] = [];
  panel.forEach((m, i) => {
    if (m.sample === null || m.sample === undefined) return;
    const last = groups[groups.length - 1];
    if (m.sample > 1 && last && last.name === m.name && last.indices[last.indices.length - 1] === i - 1) last.indices.push(i);
    else groups.push({ name: m.name, indices: [i] });
  });
  return groups.filter((g) => g.indices.length > 1);
}

/** The mean similarity of each pair of `indices` (cards' indices), from the run's matrix; null with no pair measured. */
export function groupSimilarity(sim: Similarity | null | undefined, positionOf: (index: number) => number, indices: number[]): number | null {
  if (!sim) return null;
  const at = indices.map((i) => sim.results.indexOf(positionOf(i))).filter((k) => k >= 0);
  let sum = 0;
  let pairs = 0;
  for (let a = 0; a < at.length; a++)
    for (let b = a + 1; b < at.length; b++) {
      sum += sim.matrix[at[a]]?.[at[b]] ?? 0;
      pairs += 1;
    }
  return pairs ? sum / pairs : null;
}

/** The choice most of `votes` went to and its share of them (null votes count as answers for nothing). */
export function voteShare(votes: (string | null)[]): { choice: string; share: number; votes: number; answers: number } | null {
  const counts = new Map<string, number>();
  for (const v of votes) if (v) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best: [string, number] | null = null;
  for (const e of counts) if (!best || e[1] > best[1]) best = e;
  if (!best || votes.length === 0) return null;
  return { choice: best[0], share: best[1] / votes.length, votes: best[1], answers: votes.length };
}

/**
 * A heatmap cell's background: the accent, stronger the more similar (below
 * 0.3 barely tinted), on the panel's own surface, so it reads in both themes.
 */
export function heatColor(similarity: number): string {
  const v = Math.min(1, Math.max(0, similarity));
  const pct = Math.round(8 + Math.max(0, v - 0.3) / 0.7 * 72);
  return `color-mix(in srgb, var(--accent) ${pct}%, var(--surface))`;
}

/** Whether a cell's text should be light (on a strong accent). */
export function heatInk(similarity: number): "light" | "dark" {
  return similarity >= 0.75 ? "light" : "dark";
}

/** The order claim kinds are shown in. */
export const CLAIM_KINDS: ClaimKind[] = ["unanimous", "majority", "minority", "contested"];

export const KIND_LABEL: Record<ClaimKind, string> = {
  unanimous: "Unanimous",
  majority: "Majority",
  minority: "Minority",
  contested: "Contested",
};

/** The claims by kind, in the order of `CLAIM_KINDS`, kinds without a claim left out. */
export function groupClaims(m: ClaimMatrix): { kind: ClaimKind; claims: Claim[] }[] {
  return CLAIM_KINDS.map((kind) => ({ kind, claims: m.claims.filter((c) => c.kind === kind) })).filter((g) => g.claims.length > 0);
}

export const STANCE_MARK: Record<Stance, string> = { supports: "✓", contradicts: "✗", silent: "·" };

/** A JSON value as one short line of text (strings unquoted). */
export function valueText(v: JsonValue | undefined): string {
  if (v === undefined) return "";
  if (typeof v === "string") return v;
  return JSON.stringify(v);
}

/** One answer's cell of a field row. */
export type FieldCell =
  | { kind: "value"; text: string; group: number; majority: boolean }
  | { kind: "missing" }
  | { kind: "invalid" };

/**
 * A field's cell for each answer of the table (in `table.answers`' order):
 * its value and which group of equal values it is in (0 the most held), or
 * missing, or the answer is not valid JSON.
 */
export function fieldCells(table: FieldTable, field: FieldAgreement): FieldCell[] {
  const invalid = new Set(table.invalid ?? []);
  const hasMajority = field.majority !== null && field.majority !== undefined;
  return table.answers.map((pos) => {
    if (invalid.has(pos)) return { kind: "invalid" };
    const group = field.values.findIndex((v) => v.results.includes(pos));
    if (group < 0) return { kind: "missing" };
    return { kind: "value", text: valueText(field.values[group].value), group, majority: hasMajority && group === 0 };
  });
}

/** The fields whose answers all agree, and those that do not, counted. */
export function fieldsAgreeing(table: FieldTable): { agreeing: number; total: number } {
  const n = table.answers.length - (table.invalid?.length ?? 0);
  return { agreeing: table.fields.filter((f) => f.values.length === 1 && f.values[0].results.length === n && !f.missing?.length).length, total: table.fields.length };
}

/** The answers whose mean similarity is the lowest, when it stands apart (the engine's outliers). */
export function isOutlier(sim: Similarity, position: number): boolean {
  return (sim.outliers ?? []).includes(position);
}
