// The shared table of refusals (tests/cases/refusals.json) against the fake
// backend: the fake refuses what the app refuses, with the same code and
// field (cargo test runs the same table against the app's own commands:
// src-tauri/src/refusal_cases.rs). What the words say is the app's; tests of
// views check that an error is shown, not the fake's wording.
import { describe, expect, it } from "vitest";
import { FakeBackend } from "../lib/testing/fake-backend";
import type { CustomProvider, Prefs, ProviderStatus } from "../lib/ipc/backend";
import shared from "../../../tests/cases/refusals.json";

interface Case {
  name: string;
  command: string;
  args: Record<string, unknown>;
  code: string;
  field: string | null;
}
const table = shared as { cases: Case[] };

/** Each command of the table, as the UI's backend interface calls it. */
const commands: Record<string, (b: FakeBackend, a: Record<string, unknown>) => Promise<unknown>> = {
  set_max_concurrency: (b, a) => b.setMaxConcurrency(a.id as string, a.limit as string),
  save_provider: (b, a) => b.saveProvider(a.provider as CustomProvider),
  save_prefs: (b, a) => b.savePrefs(a.prefs as Prefs),
};

/** The app's built-in local server, as a fresh app lists it. */
const ollama: ProviderStatus = { id: "ollama", name: "Ollama", format: "openai", base_url: "http://127.0.0.1:11434/v1", dialect: "compatible", header_names: [], stream: true, local: true, max_concurrency: null, builtin: true, key_source: "not_needed", key_env: null, key_hint: null, keychain_error: null };

describe("the fake backend refuses what the app refuses", () => {
  it("has the table", () => expect(table.cases.length).toBeGreaterThanOrEqual(8));
  it.each(table.cases.map((c) => [c.name, c] as const))("%s", async (_, c) => {
    const backend = new FakeBackend();
    backend.providerList = [ollama];
    const run = commands[c.command];
    expect(run, `no mapping for ${c.command}`).toBeDefined();
    const error = await run(backend, c.args).then(
      () => null,
      (e: { code: string; field: string | null }) => e,
    );
    expect(error, `${c.command} accepted it`).not.toBeNull();
    expect({ code: error!.code, field: error!.field }).toEqual({ code: c.code, field: c.field });
  });
});
