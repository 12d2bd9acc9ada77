// The UI's one door to the app. Components talk to a `Backend` (from context),
// never to Tauri directly: the Tauri implementation is in tauri.ts, a fake for
// tests in ../testing/fake-backend.ts; an HTTP one (against `roundtable serve`) can join them.
import { getContext, setContext } from "svelte";
import type {
  AppError,
  AppInfo,
  Attachment,
  Ballot,
  BudgetStatus,
  Estimate,
  Judgement,
  Leaderboard,
  LeaderboardQuery,
  PriceImport,
  RunVerdicts,
  Vote,
  CustomProvider,
  ExportDone,
  ExportFormat,
  HistoryQuery,
  LocalApiStatus,
  LocalServer,
  Prefs,
  ProviderStatus,
  ResolveArgs,
  RoundtableRequest,
  RunEvent,
  RunResult,
  RunSummary,
  SpendQuery,
  SpendStats,
  StoredRun,
} from "./types";

export type * from "./types";

export type Unlisten = () => void;
export type OnEvent = (event: RunEvent) => void;

export interface Backend {
  appInfo(): Promise<AppInfo>;
  /** The first frame is painted: for the start-up benchmark. */
  uiReady(): Promise<number>;
  /** Runs a roundtable, streaming its events; resolves when it is over. */
  run(handle: string, request: RoundtableRequest, onEvent: OnEvent): Promise<RunResult>;
  /** What `request` would cost (typical and worst case, per call), without calling anyone. */
  estimateRun(request: RoundtableRequest): Promise<Estimate>;
  rerun(handle: string, id: string, onEvent: OnEvent): Promise<RunResult>;
  resolve(handle: string, id: string, how: ResolveArgs, onEvent: OnEvent): Promise<RunResult>;
  cancel(handle: string): Promise<boolean>;
  listRuns(query: HistoryQuery): Promise<RunSummary[]>;
  getRun(id: string): Promise<StoredRun>;
  deleteRun(id: string): Promise<void>;
  /** Every run of the conversation `id` is a turn of, oldest first, every branch. */
  thread(id: string): Promise<StoredRun[]>;
  /** The ids of the branch through `id`: from the first turn to the latest that follows it. */
  branchOf(id: string): Promise<string[]>;
  /** Deletes the turn `id` and every turn that follows it (on every branch); how many runs went. */
  deleteTurnAndAfter(id: string): Promise<number>;
  /** Deletes the whole conversation `id` is a turn of; how many runs went. */
  deleteThread(id: string): Promise<number>;
  /**
   * Exports the conversation through `id` (its branch, turn by turn) where the
   * user chooses in the save dialog, which the shell opens; null when cancelled.
   */
  exportThread(id: string, format: ExportFormat): Promise<ExportDone | null>;
  setStarred(id: string, starred: boolean): Promise<void>;
  addTag(id: string, tag: string): Promise<void>;
  removeTag(id: string, tag: string): Promise<void>;
  /**
   * Exports runs as one document where the user chooses in the save dialog,
   * which the shell opens (the page never names a path); null when cancelled.
   */
  exportRuns(ids: string[], format: ExportFormat): Promise<ExportDone | null>;
  /** Casts or changes the vote on a run. */
  castVote(id: string, ballot: Ballot): Promise<Vote>;
  /** Withdraws the vote on a run; false when there was none. */
  withdrawVote(id: string): Promise<boolean>;
  /** The vote and the judges' rankings of a run. */
  runVerdicts(id: string): Promise<RunVerdicts>;
  /** Has a judge model rank a stored run's answers (anonymised, shuffled). */
  judgeRun(id: string, model: string): Promise<Judgement>;
  /** The private leaderboard of the votes (or judges' rankings) the query selects. */
  leaderboard(query: LeaderboardQuery): Promise<Leaderboard>;
  /**
   * Exports that leaderboard as CSV where the user chooses in the save dialog,
   * which the shell opens (the page never names a path); null when cancelled.
   */
  exportLeaderboard(query: LeaderboardQuery): Promise<ExportDone | null>;
  /**
   * Where the money and the time went over the query's range: days, weeks and
   * months (cut at `utc_offset_minutes`, i.e. `-new Date().getTimezoneOffset()`),
   * by provider and model, latency, the models with no known price.
   */
  spendStats(query: SpendQuery): Promise<SpendStats>;
  /** Spent today and this month against `[budget]`, its state (ok / warning / exceeded) and its message. */
  budgetStatus(): Promise<BudgetStatus>;
  /**
   * Prices the next runs with a LiteLLM-format file the user picks in the open
   * dialog, which the shell opens; null when cancelled.
   */
  importPrices(): Promise<PriceImport | null>;
  /**
   * Files to attach, picked by the user in the open dialog, which the shell
   * opens (the page never names a path): read, their media types guessed; an
   * empty list when cancelled.
   */
  pickAttachments(): Promise<Attachment[]>;
  /** A stored run's attached file with its bytes (`data`), by its SHA-256. */
  attachmentData(sha256: string): Promise<Attachment>;
  providers(): Promise<ProviderStatus[]>;
  setKey(provider: string, key: string): Promise<void>;
  deleteKey(provider: string): Promise<boolean>;
  /** Adds a provider of the user's own to config.toml (or changes it); usable at once. */
  saveProvider(provider: CustomProvider): Promise<void>;
  removeProvider(id: string): Promise<void>;
  /**
   * Sets a provider's calls at once (`[providers.ID] max_concurrency`) as typed;
   * blank clears it (the default). Refused naming the field when not a whole
   * number of 1 or more. Applies to the next run.
   */
  setMaxConcurrency(id: string, limit: string): Promise<void>;
  detectLocalServers(): Promise<LocalServer[]>;
  /** The preferences in config.toml. */
  getPrefs(): Promise<Prefs>;
  /** Writes them into config.toml (comments kept); returns them as saved. */
  savePrefs(prefs: Prefs): Promise<Prefs>;
  localApiStatus(): Promise<LocalApiStatus>;
  /** Starts the local API on 127.0.0.1:port (an error `port_in_use` when taken). */
  startLocalApi(port: number): Promise<LocalApiStatus>;
  stopLocalApi(): Promise<LocalApiStatus>;
  /** The local API's bearer token (not a provider key). */
  localApiToken(): Promise<string>;
  /** Opens an http(s) URL in the system browser. */
  openUrl(url: string): Promise<void>;
  /** Called whenever any process changed the history. */
  onHistoryChanged(callback: () => void): Promise<Unlisten>;
}

const KEY = Symbol("backend");

export function provideBackend(backend: Backend): void {
  setContext(KEY, backend);
}

/** The backend when there is one in context (components also rendered without one). */
export function maybeBackend(): Backend | undefined {
  return getContext<Backend | undefined>(KEY);
}

export function useBackend(): Backend {
  const backend = getContext<Backend | undefined>(KEY);
  if (!backend) throw new Error("no Backend in context: call provideBackend first");
  return backend;
}

/** The context map for tests: `render(C, { context: backendContext(fake) })`. */
export function backendContext(backend: Backend): Map<unknown, unknown> {
  return new Map<unknown, unknown>([[KEY, backend]]);
}

/**
 * Subscribes to history changes until the returned function is called, even
 * when that is before the subscription came through (a view left at once).
 */
export function whileHistoryChanges(backend: Backend, callback: () => void): () => void {
  let unlisten: Unlisten | undefined;
  let stopped = false;
  void backend.onHistoryChanged(callback).then((u) => (stopped ? u() : (unlisten = u)));
  return () => {
    stopped = true;
    unlisten?.();
  };
}

export function isAppError(e: unknown): e is AppError {
  return typeof e === "object" && e !== null && "code" in e && "message" in e;
}

/** A message for people, whatever was thrown. */
export function errorMessage(e: unknown): string {
  if (isAppError(e)) return e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}

/** A handle for a run, chosen by the UI, to cancel it by. */
export function newHandle(): string {
  return globalThis.crypto?.randomUUID?.() ?? `h${Date.now()}${Math.random().toString(16).slice(2)}`;
}
