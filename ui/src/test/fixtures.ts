import type { ModelResult, RoundtableResponse } from "../lib/ipc/backend";

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
