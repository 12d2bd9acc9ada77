// Settings' providers panel: each provider's key and connection test, and the
// form that adds a provider of the user's own to config.toml. The list itself
// is the app's (it reloads it on `onchanged`). Made by the view when it opens.
import type { AppError, Backend, CustomProvider, ProviderStatus } from "../ipc/backend";
import { errorMessage, isAppError, newHandle } from "../ipc/backend";
import { formatMs } from "../format";
import { outcomeOf } from "../outcome";

/** A provider's key, for people: where it comes from, and the badge's class. */
export function keyLabel(p: ProviderStatus): { text: string; cls: string } {
  switch (p.key_source) {
    case "keychain":
      return { text: "set · keychain", cls: "ok" };
    case "environment":
      return { text: `set · ${p.key_env ?? "environment"}`, cls: "ok" };
    case "not_needed":
      return { text: "no key needed", cls: "" };
    default:
      return { text: "missing", cls: "warn" };
  }
}

/** The keychain's trouble: the same for every provider, so said once. */
export function keychainError(providers: ProviderStatus[]): string | null {
  return providers.find((p) => p.keychain_error)?.keychain_error ?? null;
}

/** What a provider's last action came to, said under it. */
export interface ProviderNote {
  ok: boolean;
  text: string;
}

const NO_PROVIDER: CustomProvider = { id: "", format: "openai", base_url: "" };

export class Providers {
  /** Keys being typed, by provider id (never read back from the keychain). */
  keyInput = $state<Record<string, string>>({});
  /** The model each provider's connection test asks, by provider id. */
  testModel = $state<Record<string, string>>({});
  result = $state<Record<string, ProviderNote | undefined>>({});
  busy = $state<Record<string, boolean>>({});
  newProvider = $state<CustomProvider>({ ...NO_PROVIDER });
  newProviderError = $state<AppError | null>(null);
  addingProvider = $state(false);
  readonly #backend: Backend;
  readonly #onchanged: () => void;

  /** `onchanged`: a provider, or its key, changed (the list is to be read again). */
  constructor(backend: Backend, onchanged: () => void) {
    this.#backend = backend;
    this.#onchanged = onchanged;
  }

  /** Whether the new provider's form can be sent. */
  get canAdd(): boolean {
    return !!this.newProvider.id.trim() && !!this.newProvider.base_url.trim() && !this.addingProvider;
  }

  /** Saves the key typed for `p` in the OS keychain. */
  async saveKey(p: ProviderStatus): Promise<void> {
    const key = this.keyInput[p.id] ?? "";
    this.busy[p.id] = true;
    try {
      await this.#backend.setKey(p.id, key);
      this.keyInput[p.id] = "";
      this.result[p.id] = { ok: true, text: "Key saved in the OS keychain." };
      this.#onchanged();
    } catch (e) {
      this.result[p.id] = { ok: false, text: errorMessage(e) };
    } finally {
      this.busy[p.id] = false;
    }
  }

  async deleteKey(p: ProviderStatus): Promise<void> {
    try {
      const had = await this.#backend.deleteKey(p.id);
      this.result[p.id] = { ok: true, text: had ? "Key deleted from the keychain." : "There was no key in the keychain." };
      this.#onchanged();
    } catch (e) {
      this.result[p.id] = { ok: false, text: errorMessage(e) };
    }
  }

  /** Adds the provider of the form to config.toml; a refusal names its field (`newProviderError`). */
  async addProvider(): Promise<void> {
    this.addingProvider = true;
    try {
      const id = this.newProvider.id.trim();
      await this.#backend.saveProvider({ ...this.newProvider, id });
      this.newProviderError = null;
      this.newProvider = { ...NO_PROVIDER };
      this.result[id] = { ok: true, text: `Added to config.toml: use it as ${id}/model.` };
      this.#onchanged();
    } catch (e) {
      this.newProviderError = isAppError(e) ? e : { code: "internal", message: errorMessage(e), field: null };
    } finally {
      this.addingProvider = false;
    }
  }

  async removeProvider(p: ProviderStatus): Promise<void> {
    try {
      await this.#backend.removeProvider(p.id);
      this.#onchanged();
    } catch (e) {
      this.result[p.id] = { ok: false, text: errorMessage(e) };
    }
  }

  /** A one-model fast roundtable, "Say OK"; the test run is then removed from the history. */
  async test(p: ProviderStatus): Promise<void> {
    const name = (this.testModel[p.id] ?? "").trim();
    if (!name.includes("/")) {
      this.result[p.id] = { ok: false, text: `Name a model to test, e.g. ${p.id}/some-model.` };
      return;
    }
    this.busy[p.id] = true;
    this.result[p.id] = undefined;
    try {
      const r = await this.#backend.run(
        newHandle(),
        { input: "Say OK", models: [{ name, max_tokens: 16 }], resolution: "fast", max_retries: 0, timeout_ms: 30000 },
        () => {},
      );
      const m = r.response.model_results[0];
      this.result[p.id] =
        m && outcomeOf(m) !== "answered"
          ? { ok: false, text: m.error ?? outcomeOf(m) }
          : { ok: true, text: `Connected: ${name} answered “${(m?.data ?? "").slice(0, 40)}” in ${formatMs(m?.duration_ms ?? 0)}.` };
      await this.#backend.deleteRun(r.response.id).catch(() => {});
    } catch (e) {
      this.result[p.id] = { ok: false, text: errorMessage(e) };
    } finally {
      this.busy[p.id] = false;
    }
  }
}
