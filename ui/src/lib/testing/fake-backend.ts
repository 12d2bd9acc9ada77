// A Backend for tests: scripted events, an in-memory history, calls recorded.
import type { Backend, OnEvent } from "../ipc/backend";
import type { BudgetStatus, SpendQuery, SpendStats } from "../ipc/types";
import type { Attachment, Ballot, CallEstimate, Estimate, CustomProvider, ExportFormat, Judgement, Leaderboard, LeaderboardQuery, PriceImport, RunVerdicts, Vote, HistoryQuery, LocalApiStatus, Prefs, ProviderStatus, RoundtableRequest, RoundtableResponse, RunEvent, RunResult, RunSummary, StoredRun, TokenOrigin } from "../ipc/types";

/**
 * The turns from the first to `id` by their `previous_id` links, oldest first:
 * the fake's own walk, as the app's store does it, and not lib/thread.ts's,
 * which the UI's tests check against what the fake answers.
 */
function ancestry(runs: StoredRun[], id: string | null | undefined): StoredRun[] {
  const out: StoredRun[] = [];
  let at = runs.find((r) => r.summary.id === id);
  while (at && !out.includes(at)) {
    out.unshift(at);
    const previous = at.summary.previous_id;
    at = previous ? runs.find((r) => r.summary.id === previous) : undefined;
  }
  return out;
}

/**
 * A stored run as the history keeps it: `previous_id` makes it a turn of that
 * run's conversation (`thread_id`, its first run's id); `turns` is set by the
 * fake's history for every run of a thread.
 */
export function storedRun(id: string, request: RoundtableRequest, response: RoundtableResponse, extra: Partial<RunSummary> = {}): StoredRun {
  const at = extra.created_at_ms ?? Date.now();
  const data = response.data ?? response.model_results.find((r) => !r.error)?.data ?? null;
  return {
    summary: {
      id,
      created_at: new Date(at).toISOString(),
      created_at_ms: at,
      status: "completed",
      input: request.input,
      resolution: request.resolution ?? "summary",
      models: request.models.map((m) => m.name),
      total_cost: response.meta.total_cost,
      duration_ms: response.meta.total_duration_ms,
      starred: false,
      tags: [],
      parent_id: null,
      parent_kind: null,
      previous_id: request.previous_id ?? null,
      thread_id: id,
      turns: 1,
      data_preview: data ? data.slice(0, 200) : null,
      ...extra,
    },
    request,
    response: { ...response, id },
  };
}

export class FakeBackend implements Backend {
  calls: { method: string; args: unknown[] }[] = [];
  runs: StoredRun[] = [];
  providerList: ProviderStatus[] = [];
  /** Events a run emits, then its result. */
  script: { events: RunEvent[]; result: RunResult } | null = null;
  historyListeners: (() => void)[] = [];
  /** config.toml's preferences. */
  prefs: Prefs = { default_models: [], default_summary_model: null, theme: "system", local_api: false, local_api_port: 8787 };
  /** Ports another program holds. */
  takenPorts: number[] = [];
  apiRunning = false;
  /** Where the local API's token comes from, once it is resolved (started, or asked for). */
  tokenOrigin: TokenOrigin = { kind: "keychain" };
  tokenResolved = false;
  opened: string[] = [];

  #record(method: string, ...args: unknown[]) {
    this.calls.push({ method, args });
  }
  async appInfo() {
    this.#record("appInfo");
    return { version: "0.1.0", home: "/tmp/rt", open_error: null, server_port: 8787, default_models: [], default_summary_model: null, max_attachment_bytes: 20 * 1024 * 1024, max_run_attachment_bytes: 50 * 1024 * 1024 };
  }
  async uiReady() {
    return 1;
  }
  async run(handle: string, request: RoundtableRequest, onEvent: OnEvent): Promise<RunResult> {
    this.#record("run", handle, request);
    if (request.max_cost != null && request.confirm_cost !== true) {
      const e = await this.estimateRun(request);
      if (e.worst_cost > request.max_cost)
        throw { code: "invalid_request", message: `max_cost: this run could cost up to $${e.worst_cost.toFixed(4)} (typically $${e.typical_cost.toFixed(4)}), over its max_cost of $${request.max_cost}`, field: "max_cost" };
    }
    const previous = request.previous_id;
    if (previous && !this.runs.some((r) => r.summary.id === previous))
      throw { code: "invalid_request", message: `previous_id: no run ${previous} in the history to follow up`, field: "previous_id" };
    if (request.context && !previous) throw { code: "invalid_request", message: "context: only with previous_id", field: "context" };
    const script = this.scriptFor?.(request) ?? this.script;
    if (!script) throw { code: "invalid_request", message: "no script", field: null };
    if (!this.keepRuns) {
      for (const e of script.events) onEvent(e);
      return script.result;
    }
    // Recorded as the app records it: a fresh id, in its conversation.
    const id = `rt_${++this.#seq}`;
    const response = { ...script.result.response, id };
    for (const e of script.events) onEvent(e.type === "run_started" ? { ...e, id } : e.type === "done" ? { ...e, response } : e);
    this.#clock = Math.max(this.#clock + 1, Date.now());
    this.addRun(storedRun(id, request, response, { created_at_ms: this.#clock, status: script.result.status }));
    return { ...script.result, response };
  }
  /** Events and result made for each request (before `script`): an answer per model of its panel. */
  scriptFor: ((request: RoundtableRequest) => { events: RunEvent[]; result: RunResult }) | null = null;
  /** Runs record themselves in the history (an id each, their conversation), as the app's do. */
  keepRuns = false;
  #seq = 0;
  #clock = 0;
  /** Adds a run to the history, in the conversation its `previous_id` names; every turn's count follows. */
  addRun(run: StoredRun): StoredRun {
    const previous = run.summary.previous_id ? this.runs.find((r) => r.summary.id === run.summary.previous_id) : undefined;
    run.summary.thread_id = previous?.summary.thread_id ?? run.summary.id;
    this.runs = [...this.runs, run];
    this.#countTurns();
    return run;
  }
  #countTurns(): void {
    const counts = new Map<string, number>();
    for (const r of this.runs) counts.set(r.summary.thread_id, (counts.get(r.summary.thread_id) ?? 0) + 1);
    for (const r of this.runs) r.summary.turns = counts.get(r.summary.thread_id) ?? 1;
  }
  /** USD per million input and output tokens, by `provider/model`; others are unpriced. */
  prices: Record<string, [number, number]> = {};
  /** The most input tokens a model takes (`max_input_tokens`), by `provider/model`; others: unknown. */
  contextWindows: Record<string, number> = {};
  /** What `estimateRun` answers: input about 4 characters a token (a follow-up's thread counted), output `max_tokens` or 500 (worst 8192). */
  async estimateRun(request: RoundtableRequest): Promise<Estimate> {
    this.#record("estimateRun", request);
    const call = (model: string, input: number, maxTokens: number | null | undefined): CallEstimate => {
      const [pin, pout] = this.prices[model] ?? [0, 0];
      const typical = Math.min(maxTokens ?? 500, 500);
      const worst = maxTokens ?? 8192;
      const cost = (out: number) => (input * pin + out * pout) / 1e6;
      return { model, input_tokens: input, input_exact: model.startsWith("openai/"), output_typical: typical, output_worst: worst, output_from_history: false, cost_typical: cost(typical), cost_worst: cost(worst), priced: model in this.prices, context_window: this.contextWindows[model] ?? null, over_context: input > (this.contextWindows[model] ?? Infinity) };
    };
    // A follow-up also sends its thread: each earlier question and its resolved answer.
    const thread = ancestry(this.runs, request.previous_id).reduce((n, r) => n + r.request.input.length + (r.response.data?.length ?? 0), 0);
    const input = Math.ceil((request.input.length + (request.instructions?.length ?? 0) + thread) / 4);
    const calls = request.models.map((m) => call(m.name, input, m.max_tokens));
    const summary = request.resolution !== "fast" && request.resolution !== "multiple_choice" && request.summary_model ? call(request.summary_model, input + calls.reduce((n, c) => n + c.output_worst, 0), null) : null;
    const all = [...calls, ...(summary ? [summary] : [])];
    return {
      calls,
      summary,
      typical_cost: all.reduce((n, c) => n + c.cost_typical, 0),
      worst_cost: all.reduce((n, c) => n + c.cost_worst, 0),
      unpriced: [...new Set(all.filter((c) => !c.priced).map((c) => c.model))],
    };
  }
  async rerun(handle: string, id: string, onEvent: OnEvent) {
    return this.run(handle, this.runs.find((r) => r.summary.id === id)!.request, onEvent);
  }
  async resolve(handle: string, id: string, _how: unknown, onEvent: OnEvent) {
    return this.rerun(handle, id, onEvent);
  }
  async cancel(handle: string) {
    this.#record("cancel", handle);
    return true;
  }
  async listRuns(query: HistoryQuery): Promise<RunSummary[]> {
    this.#record("listRuns", query);
    const t = query.text?.toLowerCase();
    let found = this.runs
      .map((r) => r.summary)
      .filter((s) => !t || s.input.toLowerCase().includes(t))
      .filter((s) => !query.tag || s.tags.includes(query.tag))
      .filter((s) => query.since_ms === undefined || s.created_at_ms >= query.since_ms);
    // One line per conversation, its latest turn (a search finds any turn).
    if (query.threads && !t) {
      const latest = new Map<string, RunSummary>();
      for (const s of found) if ((latest.get(s.thread_id)?.created_at_ms ?? -Infinity) < s.created_at_ms) latest.set(s.thread_id, s);
      found = found.filter((s) => latest.get(s.thread_id) === s);
    }
    // The lines after the run `after` in the list's order (it need not be listed itself).
    if (query.after !== undefined) {
      const at = this.runs.findIndex((r) => r.summary.id === query.after);
      if (at < 0) throw { code: "not_found", message: `no run ${query.after} in the history`, field: null };
      const before = new Set(this.runs.slice(0, at + 1).map((r) => r.summary.id));
      found = found.filter((s) => !before.has(s.id));
    }
    const offset = query.offset ?? 0;
    return query.limit === undefined ? found.slice(offset) : found.slice(offset, offset + query.limit);
  }
  async thread(id: string): Promise<StoredRun[]> {
    this.#record("thread", id);
    const run = await this.getRun(id);
    return this.runs.filter((r) => r.summary.thread_id === run.summary.thread_id).sort((a, b) => a.summary.created_at_ms - b.summary.created_at_ms);
  }
  async branchOf(id: string): Promise<string[]> {
    // The newest turn whose line goes through `id` ends its branch.
    const thread = await this.thread(id);
    for (const r of [...thread].reverse()) {
      const line = ancestry(thread, r.summary.id);
      if (line.some((t) => t.summary.id === id)) return line.map((t) => t.summary.id);
    }
    return [];
  }
  async deleteTurnAndAfter(id: string): Promise<number> {
    this.#record("deleteTurnAndAfter", id);
    const thread = await this.thread(id);
    const gone = new Set(thread.filter((r) => ancestry(thread, r.summary.id).some((t) => t.summary.id === id)).map((r) => r.summary.id));
    this.runs = this.runs.filter((r) => !gone.has(r.summary.id));
    this.#countTurns();
    return gone.size;
  }
  async deleteThread(id: string): Promise<number> {
    this.#record("deleteThread", id);
    const thread = (await this.getRun(id)).summary.thread_id;
    const before = this.runs.length;
    this.runs = this.runs.filter((r) => r.summary.thread_id !== thread);
    return before - this.runs.length;
  }
  async exportThread(id: string, format: ExportFormat) {
    this.#record("exportThread", id, format);
    return this.exportTo === null ? null : { path: `${this.exportTo}.${format}`, bytes: 10 };
  }
  async getRun(id: string) {
    const r = this.runs.find((r) => r.summary.id === id);
    if (!r) throw { code: "not_found", message: `no run ${id}`, field: null };
    return r;
  }
  async deleteRun(id: string) {
    this.#record("deleteRun", id);
    this.runs = this.runs.filter((r) => r.summary.id !== id);
    this.#countTurns();
  }
  async setStarred(id: string, starred: boolean) {
    this.#record("setStarred", id, starred);
  }
  async addTag(id: string, tag: string) {
    this.#record("addTag", id, tag);
  }
  async removeTag(id: string, tag: string) {
    this.#record("removeTag", id, tag);
  }
  /** Votes by run id; judgements by run id. */
  votes = new Map<string, Vote>();
  judgements = new Map<string, Judgement[]>();
  /** What `leaderboard` answers. */
  board: Leaderboard = { source: "votes", verdicts: 0, min_votes: 5, rows: [] };
  /** What the "open dialog" of importPrices picks; null: cancelled. */
  priceImport: PriceImport | null = { file: "prices/prices.json", priced: 3 };
  async importPrices(): Promise<PriceImport | null> {
    this.#record("importPrices");
    return this.priceImport;
  }
  /** What the "open dialog" of pickAttachments picks (as the app reads them); empty: cancelled. */
  picked: Attachment[] = [];
  async pickAttachments(): Promise<Attachment[]> {
    this.#record("pickAttachments");
    return this.picked;
  }
  /** A stored run's files, by SHA-256: what `attachmentData` answers. */
  attachmentStore = new Map<string, Attachment>();
  async attachmentData(sha256: string): Promise<Attachment> {
    this.#record("attachmentData", sha256);
    const a = this.attachmentStore.get(sha256);
    if (!a) throw { code: "not_found", message: `no attachment ${sha256}`, field: null };
    return a;
  }
  async castVote(id: string, ballot: Ballot): Promise<Vote> {
    this.#record("castVote", id, ballot);
    await this.getRun(id);
    const vote: Vote = { ...ballot, cast_at_ms: this.votes.get(id)?.cast_at_ms ?? 1000, changed_at_ms: this.votes.has(id) ? 2000 : null };
    this.votes.set(id, vote);
    return vote;
  }
  async withdrawVote(id: string) {
    this.#record("withdrawVote", id);
    return this.votes.delete(id);
  }
  async runVerdicts(id: string): Promise<RunVerdicts> {
    await this.getRun(id);
    return { vote: this.votes.get(id) ?? null, judgements: this.judgements.get(id) ?? [] };
  }
  async judgeRun(id: string, model: string): Promise<Judgement> {
    this.#record("judgeRun", id, model);
    const run = await this.getRun(id);
    const j: Judgement = {
      judge_model: model,
      ranking: run.response.model_results.map((r) => r.index),
      reasons: run.response.model_results.map(() => "fine"),
      cost: 0,
      judged_at_ms: 3000,
    };
    this.judgements.set(id, [...(this.judgements.get(id) ?? []).filter((x) => x.judge_model !== model), j]);
    return j;
  }
  async leaderboard(query: LeaderboardQuery): Promise<Leaderboard> {
    this.#record("leaderboard", query);
    return this.board;
  }
  /** What `spendStats` answers (its `query` is the one asked). */
  spend: SpendStats = {
    query: { since_ms: null, until_ms: null, utc_offset_minutes: 0 },
    totals: { cost: 0, runs: 0, calls: 0, failures: 0, input_tokens: 0, output_tokens: 0, resolution_cost: 0, judge_cost: 0, deleted_cost: 0 },
    days: [],
    weeks: [],
    months: [],
    providers: [],
    models: [],
    unpriced: [],
  };
  async spendStats(query: SpendQuery): Promise<SpendStats> {
    this.#record("spendStats", query);
    return { ...this.spend, query };
  }
  /** What `budgetStatus` answers. */
  budget: BudgetStatus = { spent_today_usd: 0, spent_month_usd: 0, daily: null, monthly: null, soft: false, state: "ok", message: null };
  async budgetStatus(): Promise<BudgetStatus> {
    this.#record("budgetStatus");
    return this.budget;
  }
  /** Where the "save dialog" answers; null: the user cancelled it. */
  exportTo: string | null = "/tmp/export";
  async exportRuns(ids: string[], format: string) {
    this.#record("exportRuns", ids, format);
    return this.exportTo === null ? null : { path: `${this.exportTo}.${format}`, bytes: 10 };
  }
  async exportLeaderboard(query: LeaderboardQuery) {
    this.#record("exportLeaderboard", query);
    return this.exportTo === null ? null : { path: `${this.exportTo}/roundtable-leaderboard.csv`, bytes: 10 };
  }
  async providers() {
    return this.providerList;
  }
  async setKey(provider: string, _key: string) {
    this.#record("setKey", provider);
  }
  async deleteKey(provider: string) {
    this.#record("deleteKey", provider);
    return true;
  }
  async saveProvider(p: CustomProvider) {
    this.#record("saveProvider", p);
    if (!/^[a-z0-9_-]+$/.test(p.id)) throw { code: "invalid_request", message: "a provider id is lowercase letters, digits, '-' and '_'", field: "id" };
    const entry: ProviderStatus = { id: p.id, name: p.id, format: p.format, base_url: p.base_url, dialect: "compatible", header_names: [], stream: true, local: false, max_concurrency: null, builtin: false, key_source: "missing", key_env: null, key_hint: null, keychain_error: null };
    this.providerList = [...this.providerList.filter((x) => x.id !== p.id), entry];
  }
  async removeProvider(id: string) {
    this.#record("removeProvider", id);
    this.providerList = this.providerList.filter((x) => x.id !== id);
  }
  async setMaxConcurrency(id: string, limit: string) {
    this.#record("setMaxConcurrency", id, limit);
    const p = this.providerList.find((x) => x.id === id);
    if (!p) throw { code: "unknown_provider", message: `unknown provider '${id}'`, field: null };
    const field = `providers.${id}.max_concurrency`;
    const text = limit.trim();
    if (text && !/^\d+$/.test(text)) throw { code: "invalid_request", message: `${field}: '${text}' is not a whole number: give the calls at once (1 or more), or leave it empty for the default`, field };
    if (text && Number(text) === 0) throw { code: "invalid_request", message: `${field}: must be at least 1 (leave it empty for the default)`, field };
    if (text && Number(text) > 1024) throw { code: "invalid_request", message: `${field}: must be at most 1024`, field };
    this.providerList = this.providerList.map((x) => (x.id === id ? { ...x, max_concurrency: text ? Number(text) : null } : x));
  }
  async detectLocalServers() {
    return [];
  }
  async getPrefs() {
    this.#record("getPrefs");
    return structuredClone(this.prefs);
  }
  async savePrefs(prefs: Prefs) {
    this.#record("savePrefs", prefs);
    const bad = prefs.default_models.findIndex((m) => !m.includes("/"));
    if (bad >= 0) throw { code: "invalid_request", message: `default_models[${bad}]: '${prefs.default_models[bad]}' is not provider/model`, field: `default_models[${bad}]` };
    this.prefs = structuredClone(prefs);
    return structuredClone(prefs);
  }
  #apiStatus(port: number): LocalApiStatus {
    return { running: this.apiRunning, port, url: `http://127.0.0.1:${port}`, token_origin: this.apiRunning || this.tokenResolved ? this.tokenOrigin : null, error: null };
  }
  async localApiStatus() {
    return this.#apiStatus(this.prefs.local_api_port);
  }
  async startLocalApi(port: number) {
    this.#record("startLocalApi", port);
    if (this.takenPorts.includes(port)) throw { code: "port_in_use", message: `port ${port} is already in use on 127.0.0.1`, field: null };
    this.apiRunning = true;
    this.prefs = { ...this.prefs, local_api: true, local_api_port: port };
    return this.#apiStatus(port);
  }
  async stopLocalApi() {
    this.#record("stopLocalApi");
    this.apiRunning = false;
    this.prefs = { ...this.prefs, local_api: false };
    return this.#apiStatus(this.prefs.local_api_port);
  }
  async localApiToken() {
    this.#record("localApiToken");
    this.tokenResolved = true;
    return "tok-0123456789abcdef";
  }
  async openUrl(url: string) {
    this.#record("openUrl", url);
    this.opened.push(url);
  }
  async onHistoryChanged(callback: () => void) {
    this.historyListeners.push(callback);
    return () => {
      this.historyListeners = this.historyListeners.filter((c) => c !== callback);
    };
  }
}
