// A person's vote on a run's answers, and blind mode: the answers shown as
// "Response A, B, C…" in a shuffled order without anything that names their
// model, until the vote (or a reveal) shows the names with the vote marked.
// Every ballot names answers by their ModelResult.index, never by label.
import type { Backend, Ballot, Vote, VoteKind } from "../ipc/backend";
import { errorMessage } from "../ipc/backend";

/** One answer of a run, as voting needs it. */
export interface Entry {
  /** Its ModelResult.index (the position of its model in the request). */
  index: number;
  /** How it is named once revealed (`provider/model #2 (options)`). */
  name: string;
  /** It answered: only answers are voted on. */
  answered: boolean;
}

/** What voting reads of its run, each time it is asked. */
export interface VoteSource {
  runId: string | null;
  entries: Entry[];
  /** The run is over: votes can be cast. */
  finished: boolean;
}

export type PairChoice = "a" | "b" | "tie" | "bad";

/** `A`…`Z`, then `AA`, `AB`…: the label of the answer shown `n`th (from 0). */
export function letter(n: number): string {
  let s = "";
  for (let i = n + 1; i > 0; i = Math.floor((i - 1) / 26)) s = String.fromCharCode(65 + ((i - 1) % 26)) + s;
  return s;
}

/** A uniformly random order of `items` (Fisher–Yates), with `random` in [0, 1). */
export function shuffle<T>(items: readonly T[], random: () => number = Math.random): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/**
 * What shows in place of a failure's reason while the names are hidden (a
 * card's error, the summary's or the claims' note): see {@link Voting.reason}.
 */
export const WHY_LATER = "why is shown once the models are revealed";

const KIND_WORDS: Record<VoteKind, string> = { best: "Best", ranking: "Ranking", all_bad: "All bad", pairwise: "Pairwise" };

export class Voting {
  /** Whether the run was shown blind. */
  blind = $state(false);
  /** ModelResult indices in the order shown; empty: the request's order. */
  order = $state<number[]>([]);
  /** The names are shown (after the vote, or asked for). */
  revealed = $state(false);
  vote = $state<Vote | null>(null);
  /** How a ballot is being made: one best answer, or a ranking. */
  mode = $state<"best" | "rank">("best");
  /** The ranking being made: groups of tied indices, best first. */
  draft = $state<number[][]>([]);
  /** The next answer clicked ties with the last group. */
  tieNext = $state(false);
  /** The controls are open (a vote to cast or change). */
  editing = $state(false);
  busy = $state(false);
  error = $state<string | null>(null);
  readonly #source: () => VoteSource;

  constructor(source: () => VoteSource) {
    this.#source = source;
  }

  /** Shows the run blind, in an order of its own (a fresh shuffle each call). */
  blindfold(random: () => number = Math.random): void {
    this.blind = true;
    this.revealed = false;
    this.order = shuffle(
      this.#source().entries.map((e) => e.index),
      random,
    );
  }

  /** Names must not show: blind and neither voted nor revealed. */
  get hidden(): boolean {
    return this.blind && !this.revealed;
  }

  /** The answers in the order shown. */
  get entries(): Entry[] {
    const all = this.#source().entries;
    if (!this.order.length) return all;
    const by = new Map(all.map((e) => [e.index, e]));
    return this.order.map((i) => by.get(i)).filter((e): e is Entry => e !== undefined);
  }

  /** The answers a ballot can name. */
  get votable(): Entry[] {
    return this.entries.filter((e) => e.answered);
  }

  /** Two answers: an A / B / tie / both bad choice instead. */
  get pairwise(): boolean {
    return this.votable.length === 2;
  }

  /** A vote can be cast now. */
  get open(): boolean {
    const s = this.#source();
    return s.finished && s.runId !== null && this.votable.length >= 2;
  }

  /** `A`, the letter of the answer `index` (by where it is shown). */
  letterOf(index: number): string {
    const at = this.entries.findIndex((e) => e.index === index);
    return at < 0 ? "?" : letter(at);
  }

  /** `Response A` while hidden, its model's name after. */
  nameOf(index: number): string {
    if (this.hidden) return `Response ${this.letterOf(index)}`;
    return this.#source().entries.find((e) => e.index === index)?.name ?? `Response ${this.letterOf(index)}`;
  }

  /**
   * Why something failed, as the engine or a provider wrote it (the summary's
   * or the claims' error note), fit to show: null while the names are hidden,
   * and the caller says {@link WHY_LATER} instead. Such a note can name a model
   * in any form (`provider/model`, a bare id inside a provider's error body, a
   * default summary model the page never sees), so no replacement of the names
   * it knows could be trusted: the note is withheld whole until the vote.
   */
  reason(note: string | null | undefined): string | null {
    return this.hidden ? null : (note ?? null);
  }

  #ballot(kind: VoteKind, ranking: number[][]): Ballot {
    return { kind, ranking, blind: this.hidden };
  }

  best(index: number): Ballot {
    return this.#ballot("best", [[index]]);
  }

  allBad(): Ballot {
    return this.#ballot("all_bad", []);
  }

  /** Of the two answers (a: the first shown): a is better, b is, a tie, or both bad. */
  pair(choice: PairChoice): Ballot {
    const [a, b] = this.votable.map((e) => e.index);
    if (choice === "bad") return this.allBad();
    if (choice === "tie") return this.#ballot("pairwise", [[a, b]]);
    return this.#ballot("pairwise", choice === "a" ? [[a], [b]] : [[b], [a]]);
  }

  /** The ranking made so far; answers left out rank below it. */
  ranking(): Ballot {
    return this.#ballot("ranking", this.draft.map((g) => [...g]));
  }

  /** Puts `index` next in the ranking being made (or takes it out, when in). */
  rank(index: number): void {
    if (this.draft.some((g) => g.includes(index))) {
      this.draft = this.draft.map((g) => g.filter((i) => i !== index)).filter((g) => g.length);
    } else if (this.tieNext && this.draft.length) {
      this.draft = [...this.draft.slice(0, -1), [...this.draft[this.draft.length - 1], index]];
    } else {
      this.draft = [...this.draft, [index]];
    }
    this.tieNext = false;
  }

  /** Casts `ballot` (or changes the vote to it); the names are then shown. */
  async cast(backend: Backend, ballot: Ballot): Promise<boolean> {
    const id = this.#source().runId;
    if (!id) return false;
    this.busy = true;
    try {
      this.vote = await backend.castVote(id, ballot);
      this.revealed = true;
      this.editing = false;
      this.draft = [];
      this.error = null;
      return true;
    } catch (e) {
      this.error = errorMessage(e);
      return false;
    } finally {
      this.busy = false;
    }
  }

  async withdraw(backend: Backend): Promise<void> {
    const id = this.#source().runId;
    if (!id) return;
    this.busy = true;
    try {
      await backend.withdrawVote(id);
      this.vote = null;
      this.error = null;
    } catch (e) {
      this.error = errorMessage(e);
    } finally {
      this.busy = false;
    }
  }

  /** Reads the run's vote as stored (an opened run, another window's change). */
  async load(backend: Backend): Promise<void> {
    const id = this.#source().runId;
    if (!id) return;
    try {
      this.vote = (await backend.runVerdicts(id)).vote;
      if (this.vote) this.revealed = true;
    } catch (e) {
      this.error = errorMessage(e);
    }
  }

  /** Opens the controls to change the vote, starting from it. */
  edit(): void {
    this.editing = true;
    this.mode = this.vote?.kind === "ranking" ? "rank" : "best";
    this.draft = this.vote?.kind === "ranking" ? this.vote.ranking.map((g) => [...g]) : [];
  }

  /** What the vote says of answer `index`: `Your pick`, `#2`, `tied #1`, `All bad`; null: nothing. */
  markOf(index: number): string | null {
    const v = this.vote;
    if (!v) return null;
    if (v.kind === "all_bad") return "All bad";
    if (v.kind === "best") return v.ranking[0]?.includes(index) ? "Your pick" : null;
    return placeOf(v.ranking, index);
  }

  /** The vote in words, answers named as they are shown now. */
  describe(): string {
    const v = this.vote;
    if (!v) return "";
    return describeVote(v, (i) => this.nameOf(i));
  }
}

/** `#2`, or `tied #1`, the place of `index` in `ranking`; null when unlisted. */
export function placeOf(ranking: number[][], index: number): string | null {
  let place = 1;
  for (const g of ranking) {
    if (g.includes(index)) return g.length > 1 ? `tied #${place}` : `#${place}`;
    place += g.length;
  }
  return null;
}

/** `Best: X`, `Ranking: X > Y = Z`, `All bad`, `Pairwise: X = Y`; `(blind)` when cast blind. */
export function describeVote(v: Vote, name: (index: number) => string): string {
  const order = v.ranking.map((g) => g.map(name).join(" = ")).join(" > ");
  const words = v.kind === "all_bad" ? KIND_WORDS.all_bad : `${KIND_WORDS[v.kind]}: ${order}`;
  return v.blind ? `${words} (blind)` : words;
}
