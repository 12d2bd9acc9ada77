// How a model of the panel is named wherever it shows after the run (cards,
// the vote's voters, a collapsed panel row): `#2` when the same model appears
// more than once, and its options, worded as the CLI and the exports word them.

/** The options a model of the panel may carry (a ModelSpec, or a draft of one). */
export interface ModelOptions {
  name: string;
  temperature?: number | null;
  top_p?: number | null;
  max_tokens?: number | null;
  reasoning?: string | null;
}

/** `temperature 0.2`, `top p 0.9`, `max 512 tokens`, `reasoning high`, in that order. */
export function optionWords(m: ModelOptions): string[] {
  const out: string[] = [];
  if (m.temperature !== null && m.temperature !== undefined) out.push(`temperature ${m.temperature}`);
  if (m.top_p !== null && m.top_p !== undefined) out.push(`top p ${m.top_p}`);
  if (m.max_tokens !== null && m.max_tokens !== undefined) out.push(`max ${m.max_tokens} tokens`);
  if (m.reasoning) out.push(`reasoning ${m.reasoning}`);
  return out;
}

/** For each model of `panel`, its rank among those of the same name, when there are two or more. */
export function samples(panel: { name: string }[]): (number | null)[] {
  const counts = new Map<string, number>();
  for (const m of panel) counts.set(m.name, (counts.get(m.name) ?? 0) + 1);
  const seen = new Map<string, number>();
  return panel.map((m) => {
    const n = (seen.get(m.name) ?? 0) + 1;
    seen.set(m.name, n);
    return (counts.get(m.name) ?? 1) > 1 ? n : null;
  });
}

export interface ModelLabel {
  name: string;
  sample: number | null;
  options: string[];
}

/** Every model of `panel` labelled. */
export function labels(panel: ModelOptions[]): ModelLabel[] {
  const n = samples(panel);
  return panel.map((m, i) => ({ name: m.name, sample: n[i], options: optionWords(m) }));
}

/** `name #2`. */
export function nameAndSample(l: ModelLabel): string {
  return l.sample === null ? l.name : `${l.name} #${l.sample}`;
}

/** `name #2 (temperature 0.2, top p 0.9)`. */
export function fullLabel(l: ModelLabel): string {
  return l.options.length ? `${nameAndSample(l)} (${l.options.join(", ")})` : nameAndSample(l);
}
