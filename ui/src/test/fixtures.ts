import type { ModelResult, ProviderStatus, RoundtableResponse } from "../lib/ipc/backend";

export function result(index: number, model: string, data: string, extra: Partial<ModelResult> = {}): ModelResult {
  return { index, model, data, duration_ms: 1200, cost: 0.0012, usage: { input_tokens: 20, output_tokens: 40, web_fetch_requests: 0 }, ...extra };
}

export function response(results: ModelResult[], extra: Partial<RoundtableResponse> = {}): RoundtableResponse {
  return {
    id: "rt_1",
    data: "The consolidated answer",
    meta: { resolution: "summary", models_used: results.map((r) => r.model), total_cost: 0.01, total_duration_ms: 2500, summary_model: "fake/a" },
    model_results: results,
    ...extra,
  };
}

/** A provider as the backend lists it: built in, without a key, unless `extra` says otherwise. */
export function provider(id: string, extra: Partial<ProviderStatus> = {}): ProviderStatus {
  return {
    id,
    name: id,
    format: "openai",
    base_url: `https://${id}.example/v1`,
    dialect: "compatible",
    header_names: [],
    stream: true,
    local: false,
    max_concurrency: null,
    builtin: true,
    key_source: "missing",
    key_env: null,
    key_hint: null,
    keychain_error: null,
    ...extra,
  };
}
