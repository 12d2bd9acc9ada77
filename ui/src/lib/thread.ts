// A conversation's shape, from its runs (every branch, as `Backend.thread`
// gives them): which turns lead to a run, which line of turns goes on from it,
// and where it branches. Each run names the run it follows (`previous_id`); two
// runs following the same run are two branches. Pure functions: the thread
// view and the fake backend both read a thread through them.
import type { RunSummary, StoredRun } from "./ipc/backend";

/** Oldest first; the order of `runs` breaks a tie, as the history lists them. */
function byAge(runs: StoredRun[]): StoredRun[] {
  return runs
    .map((r, i) => [r, i] as const)
    .sort(([a, i], [b, j]) => a.summary.created_at_ms - b.summary.created_at_ms || i - j)
    .map(([r]) => r);
}

/**
 * The turns from the conversation's first run to `id`, each the run the next
 * follows; empty when `id` is not among `runs`.
 */
export function pathTo(runs: StoredRun[], id: string | null | undefined): StoredRun[] {
  const byId = new Map(runs.map((r) => [r.summary.id, r]));
  const out: StoredRun[] = [];
  const seen = new Set<string>();
  let at = id ? byId.get(id) : undefined;
  while (at && !seen.has(at.summary.id)) {
    seen.add(at.summary.id);
    out.push(at);
    at = at.summary.previous_id ? byId.get(at.summary.previous_id) : undefined;
  }
  return out.reverse();
}

/**
 * The branch through `id`: the turns that lead to it, it, and the latest line
 * of turns that follows it (the path of the newest run whose path goes
 * through `id`), as `App::branch_of` reads it.
 */
export function branchThrough(runs: StoredRun[], id: string): StoredRun[] {
  for (const r of byAge(runs).reverse()) {
    const path = pathTo(runs, r.summary.id);
    if (path.some((t) => t.summary.id === id)) return path;
  }
  return [];
}

/** The runs that follow the run `previousId` (null: the first turns), oldest first: its branches. */
export function followersOf(runs: StoredRun[], previousId: string | null): StoredRun[] {
  return byAge(runs.filter((r) => (r.summary.previous_id ?? null) === previousId));
}

/** Where a turn stands among its branches: `index` (0-based) of `count`. */
export interface BranchPlace {
  index: number;
  count: number;
  siblings: StoredRun[];
}

/** Where the run `id` (following `previousId`) stands among the runs following the same run. */
export function branchPlace(runs: StoredRun[], id: string | null, previousId: string | null): BranchPlace {
  const siblings = followersOf(runs, previousId);
  const index = siblings.findIndex((r) => r.summary.id === id);
  // A run not in the history yet (still running) is the newest branch.
  return index < 0 ? { index: siblings.length, count: siblings.length + 1, siblings } : { index, count: siblings.length, siblings };
}

/** Whether a history line is a turn of a conversation (one of two or more runs). */
export function inConversation(s: Pick<RunSummary, "turns" | "previous_id">): boolean {
  return s.turns > 1 || s.previous_id !== null;
}

/** `turn 2: sent the resolved answer` (`turns 1 and 3: sent the resolved answers`); null for none. */
export function resolvedTurnsNote(turns: number[] | null | undefined): string | null {
  if (!turns?.length) return null;
  if (turns.length === 1) return `turn ${turns[0]}: sent the resolved answer`;
  const list = `${turns.slice(0, -1).join(", ")} and ${turns[turns.length - 1]}`;
  return `turns ${list}: sent the resolved answers`;
}
