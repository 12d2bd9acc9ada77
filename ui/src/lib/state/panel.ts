// A panel as the page edits it (drafts, one row per model entry) and as a
// request sends it (ModelSpecs): the workbench's draft and a follow-up's
// panel both go through these.
import type { ModelSpec } from "../ipc/backend";
import { draftModel, type ModelDraft } from "./settings.svelte";

/** The most samples a model entry may ask for (the engine's MAX_SAMPLES). */
export const MAX_SAMPLES = 32;

/** The entries expanded from one `samples` entry (numbered 1, 2, … in a row) made one again. */
export function collapseSamples(models: ModelSpec[]): ModelSpec[] {
  const out: ModelSpec[] = [];
  for (const m of models) {
    const last = out[out.length - 1];
    if (m.sample && m.sample > 1 && last && last.name === m.name && (last.samples ?? 1) === m.sample - 1) {
      last.samples = m.sample;
      continue;
    }
    const { sample: _, ...rest } = m;
    out.push(m.sample === 1 ? { ...rest, samples: 1 } : { ...rest });
  }
  return out;
}

/** The models a panel of drafts sends (rows without a name left out). */
export function specsOf(panel: ModelDraft[]): ModelSpec[] {
  return panel
    .filter((m) => m.name.trim())
    .map((m) => {
      const spec: ModelSpec = { name: m.name.trim() };
      if (m.max_tokens) spec.max_tokens = m.max_tokens;
      if (m.reasoning) spec.reasoning = m.reasoning;
      if (m.temperature !== null && !Number.isNaN(m.temperature)) spec.temperature = m.temperature;
      if (m.top_p !== null && !Number.isNaN(m.top_p)) spec.top_p = m.top_p;
      if (m.samples && m.samples > 1) spec.samples = Math.min(MAX_SAMPLES, Math.round(m.samples));
      return spec;
    });
}

/** A stored request's panel (the expanded one) as drafts to edit, its samples one entry again. */
export function draftsOf(models: ModelSpec[]): ModelDraft[] {
  return collapseSamples(models).map((m) =>
    draftModel(m.name, {
      max_tokens: m.max_tokens ?? null,
      reasoning: (m.reasoning as ModelDraft["reasoning"]) ?? "",
      temperature: m.temperature ?? null,
      top_p: m.top_p ?? null,
      ...(m.samples && m.samples > 1 ? { samples: m.samples } : {}),
    }),
  );
}

/** What is wrong with a panel, or null when it can run. */
export function panelProblem(panel: ModelDraft[]): string | null {
  const models = panel.filter((m) => m.name.trim());
  if (models.length === 0) return "Add at least one model to the panel.";
  const bad = models.find((m) => !/^[^/\s]+\/\S+$/.test(m.name.trim()));
  if (bad) return `“${bad.name}” is not provider/model (e.g. openai/gpt-4.1-mini).`;
  return null;
}
