import { Channel, invoke } from "@tauri-apps/api/core";
import { listen } from "@tauri-apps/api/event";
import { openUrl } from "@tauri-apps/plugin-opener";
import type { Backend, OnEvent } from "./backend";
import type { RunEvent, RunResult } from "./types";

/** A run's events come in batches, a few a second (`src-tauri/src/window_sink.rs`). */
function channel(onEvent: OnEvent): Channel<RunEvent[]> {
  const ch = new Channel<RunEvent[]>();
  ch.onmessage = (batch) => batch.forEach(onEvent);
  return ch;
}

/** The backend of the desktop window: Tauri commands over roundtable-app. */
export const tauriBackend: Backend = {
  appInfo: () => invoke("app_info"),
  uiReady: () => invoke("ui_ready"),
  run: (handle, request, onEvent) =>
    invoke<RunResult>("run_roundtable", { handle, request, onEvent: channel(onEvent) }),
  estimateRun: (request) => invoke("estimate_run", { request }),
  rerun: (handle, id, onEvent) => invoke<RunResult>("rerun", { handle, id, onEvent: channel(onEvent) }),
  resolve: (handle, id, how, onEvent) =>
    invoke<RunResult>("resolve_run", { handle, id, how, onEvent: channel(onEvent) }),
  cancel: (handle) => invoke("cancel_run", { handle }),
  listRuns: (query) => invoke("list_runs", { query }),
  getRun: (id) => invoke("get_run", { id }),
  deleteRun: (id) => invoke("delete_run", { id }),
  thread: (id) => invoke("thread", { id }),
  branchOf: (id) => invoke("branch_of", { id }),
  deleteTurnAndAfter: (id) => invoke("delete_turn_and_after", { id }),
  deleteThread: (id) => invoke("delete_thread", { id }),
  exportThread: (id, format) => invoke("export_thread", { id, format }),
  setStarred: (id, starred) => invoke("set_starred", { id, starred }),
  addTag: (id, tag) => invoke("add_tag", { id, tag }),
  removeTag: (id, tag) => invoke("remove_tag", { id, tag }),
  exportRuns: (ids, format) => invoke("export_runs", { ids, format }),
  castVote: (id, ballot) => invoke("cast_vote", { id, ballot }),
  importPrices: () => invoke("import_prices"),
  withdrawVote: (id) => invoke("withdraw_vote", { id }),
  runVerdicts: (id) => invoke("run_verdicts", { id }),
  judgeRun: (id, model) => invoke("judge_run", { id, model }),
  leaderboard: (query) => invoke("leaderboard", { query }),
  exportLeaderboard: (query) => invoke("export_leaderboard", { query }),
  spendStats: (query) => invoke("spend_stats", { query }),
  budgetStatus: () => invoke("budget_status"),
  pickAttachments: () => invoke("pick_attachments"),
  attachmentData: (sha256) => invoke("attachment_data", { sha256 }),
  providers: () => invoke("list_providers"),
  setKey: (provider, key) => invoke("set_key", { provider, key }),
  saveProvider: (provider) => invoke("save_provider", { provider }),
  removeProvider: (id) => invoke("remove_provider", { id }),
  setMaxConcurrency: (id, limit) => invoke("set_max_concurrency", { id, limit }),
  deleteKey: (provider) => invoke("delete_key", { provider }),
  detectLocalServers: () => invoke("detect_local_servers"),
  getPrefs: () => invoke("get_prefs"),
  savePrefs: (prefs) => invoke("save_prefs", { prefs }),
  localApiStatus: () => invoke("local_api_status"),
  startLocalApi: (port) => invoke("start_local_api", { port }),
  stopLocalApi: () => invoke("stop_local_api"),
  localApiToken: () => invoke("local_api_token"),
  // Only http(s) is allowed by the capability; the page never picks the program.
  openUrl: (url) => openUrl(url),
  onHistoryChanged: (callback) => listen("history-changed", () => callback()),
};
