// A panel made of what a local server has: offered on first start, and by the
// empty workbench when local servers were found.
import type { LocalServer } from "./ipc/backend";

/** Up to three of its models; a server with one model gives it three times (three samples, `#1/#2/#3`). */
export function localPanel(s: LocalServer): string[] {
  const names = s.models.map((m) => `${s.provider}/${m}`);
  return names.length === 1 ? [names[0], names[0], names[0]] : names.slice(0, 3);
}

/** How a panel reads on a button: `ollama/smollm2 ×3`, or `a, b, c`. */
export function panelWords(models: string[]): string {
  return models.length > 1 && models.every((m) => m === models[0]) ? `${models[0]} ×${models.length}` : models.join(", ");
}

/** Where a server listens, without the scheme and path: `127.0.0.1:11434`. */
export function hostOf(s: LocalServer): string {
  return s.base_url.replace(/^[a-z]+:\/\//i, "").replace(/\/.*$/, "");
}
