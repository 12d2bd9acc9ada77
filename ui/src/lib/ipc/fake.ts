// A Backend for tests: scripted events, an in-memory history, calls recorded.
import type { Backend, OnEvent } from "./backend";
import type { ProviderStatus, RoundtableRequest, RunEvent, RunResult, RunSummary, StoredRun } from "./types";

export class FakeBackend implements Backend {
  calls: { method: string; args: unknown[] }[] = [];
  runs: StoredRun[] = [];
  providerList: ProviderStatus[] = [];
  /** Events a run emits, then its result. */
  script: { events: RunEvent[]; result: RunResult } | null = null;
  historyListeners: (() => void)[] = [];

  #record(method: string, ...args: unknown[]) {
    this.calls.push({ method, args });
  }
  async appInfo() {
    this.#record("appInfo");
    return { version: "0.1.0", home: "/tmp/rt", open_error: null, server_port: 8787, default_models: [], default_summary_model: null, e2e_export_dir: null };
  }
  async uiReady() {
    return 1;
  }
  async run(handle: string, request: RoundtableRequest, onEvent: OnEvent): Promise<RunResult> {
    this.#record("run", handle, request);
    if (!this.script) throw { code: "invalid_request", message: "no script", field: null };
    for (const e of this.script.events) onEvent(e);
    return this.script.result;
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
  async listRuns(query: { text?: string }): Promise<RunSummary[]> {
    this.#record("listRuns", query);
    const t = query.text?.toLowerCase();
    return this.runs.map((r) => r.summary).filter((s) => !t || s.input.toLowerCase().includes(t));
  }
  async getRun(id: string) {
    const r = this.runs.find((r) => r.summary.id === id);
    if (!r) throw { code: "not_found", message: `no run ${id}`, field: null };
    return r;
  }
  async deleteRun(id: string) {
    this.#record("deleteRun", id);
    this.runs = this.runs.filter((r) => r.summary.id !== id);
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
  async chooseExportPath(name: string) {
    return `/tmp/${name}`;
  }
  async exportRuns(ids: string[], format: string, path: string) {
    this.#record("exportRuns", ids, format, path);
    return { path, bytes: 10 };
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
  async detectLocalServers() {
    return [];
  }
  async onHistoryChanged(callback: () => void) {
    this.historyListeners.push(callback);
    return () => {
      this.historyListeners = this.historyListeners.filter((c) => c !== callback);
    };
  }
}
