// Settings' state against the fake backend, without the view: the defaults as
// edited, the providers panel and the local API.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { DefaultsDraft, Settings } from "../lib/state/settings.svelte";
import { Providers, keyLabel, keychainError } from "../lib/state/providers.svelte";
import { COPIED_MS, LocalApi, originText } from "../lib/state/local-api.svelte";
import { FakeBackend } from "../lib/testing/fake-backend";
import { provider, response, result } from "./fixtures";

beforeEach(() => localStorage.clear());
afterEach(() => vi.useRealTimers());

async function loaded(backend = new FakeBackend()) {
  const settings = new Settings();
  await settings.load(backend);
  return { backend, settings };
}

describe("DefaultsDraft", () => {
  it("is filled once from the saved defaults, then stays the user's own", async () => {
    const backend = new FakeBackend();
    backend.prefs = { ...backend.prefs, default_models: ["fake/a", "fake/b"], default_summary_model: "fake/judge" };
    const settings = new Settings();
    const draft = new DefaultsDraft(settings);
    draft.seed(); // not loaded yet: nothing to fill with
    expect([draft.panelText, draft.summaryText]).toEqual(["", ""]);
    await settings.load(backend);
    draft.seed();
    expect([draft.panelText, draft.summaryText]).toEqual(["fake/a\nfake/b", "fake/judge"]);
    draft.panelText = "";
    settings.defaultPanel = ["fake/c"];
    draft.seed();
    expect(draft.panelText).toBe("");
  });

  it("applies the defaults only once saved; refused, keeps those in use and the text to fix", async () => {
    const { backend, settings } = await loaded();
    const draft = new DefaultsDraft(settings);
    draft.seed();
    draft.panelText = " fake/a ,gpt-4\n\n";
    draft.summaryText = " fake/judge ";
    expect(settings.summaryModel).toBe("");
    expect(await draft.save()).toBe(false);
    expect(settings.error).toMatch(/^default_models\[1\]: 'gpt-4' is not provider\/model/);
    expect([settings.defaultPanel, settings.summaryModel, draft.saved]).toEqual([[], "", null]);
    expect(draft.panelText).toBe(" fake/a ,gpt-4\n\n");

    draft.panelText = " fake/a ,fake/b\n\n";
    expect(await draft.save()).toBe(true);
    expect([settings.defaultPanel, settings.summaryModel, settings.error]).toEqual([["fake/a", "fake/b"], "fake/judge", null]);
    expect([draft.panelText, draft.summaryText, draft.saved]).toEqual(["fake/a\nfake/b", "fake/judge", "Saved in config.toml."]);
    expect(backend.prefs.default_models).toEqual(["fake/a", "fake/b"]);
  });
});

describe("Providers (state)", () => {
  it("says where a key comes from, and the keychain's trouble once", () => {
    expect(keyLabel(provider("openai", { key_source: "keychain" }))).toEqual({ text: "set · keychain", cls: "ok" });
    expect(keyLabel(provider("openai", { key_source: "environment", key_env: "OPENAI_API_KEY" }))).toEqual({ text: "set · OPENAI_API_KEY", cls: "ok" });
    expect(keyLabel(provider("ollama", { key_source: "not_needed" }))).toEqual({ text: "no key needed", cls: "" });
    expect(keyLabel(provider("groq"))).toEqual({ text: "missing", cls: "warn" });
    expect(keychainError([provider("a"), provider("b", { keychain_error: "no keyring" }), provider("c", { keychain_error: "no keyring" })])).toBe("no keyring");
    expect(keychainError([provider("a")])).toBeNull();
  });

  it("saves and deletes a key, telling the app each time", async () => {
    const backend = new FakeBackend();
    const onchanged = vi.fn();
    const forms = new Providers(backend, onchanged);
    const openai = provider("openai");
    forms.keyInput.openai = "sk-test";
    const saving = forms.saveKey(openai);
    expect(forms.busy.openai).toBe(true);
    await saving;
    expect([forms.busy.openai, forms.keyInput.openai]).toEqual([false, ""]);
    expect(forms.result.openai).toEqual({ ok: true, text: "Key saved in the OS keychain." });
    await forms.deleteKey(openai);
    expect(forms.result.openai).toEqual({ ok: true, text: "Key deleted from the keychain." });
    expect(onchanged).toHaveBeenCalledTimes(2);

    backend.setKey = async () => {
      throw { code: "keychain", message: "the keychain is locked", field: null };
    };
    forms.keyInput.openai = "sk-again";
    await forms.saveKey(openai);
    expect(forms.result.openai).toEqual({ ok: false, text: "the keychain is locked" });
    expect(forms.keyInput.openai).toBe("sk-again");
    expect(onchanged).toHaveBeenCalledTimes(2);
  });

  it("adds a provider of the user's own, naming the field refused, and removes it", async () => {
    const backend = new FakeBackend();
    const onchanged = vi.fn();
    const forms = new Providers(backend, onchanged);
    expect(forms.canAdd).toBe(false);
    forms.newProvider = { id: "my lab", format: "anthropic", base_url: "http://10.0.0.5:8000/v1" };
    expect(forms.canAdd).toBe(true);
    await forms.addProvider();
    expect(forms.newProviderError?.field).toBe("id");
    expect(forms.newProvider.id).toBe("my lab");
    expect(onchanged).not.toHaveBeenCalled();

    forms.newProvider.id = " lab ";
    await forms.addProvider();
    expect(forms.newProviderError).toBeNull();
    expect(forms.newProvider).toEqual({ id: "", format: "openai", base_url: "" });
    expect(forms.result.lab).toEqual({ ok: true, text: "Added to config.toml: use it as lab/model." });
    expect(backend.providerList.map((p) => [p.id, p.format])).toEqual([["lab", "anthropic"]]);

    await forms.removeProvider(backend.providerList[0]);
    expect(backend.providerList).toEqual([]);
    expect(onchanged).toHaveBeenCalledTimes(2);
  });

  it("tests a connection with a one-model run, then removes that run", async () => {
    const backend = new FakeBackend();
    const forms = new Providers(backend, vi.fn());
    const lab = provider("lab");
    await forms.test(lab);
    expect(forms.result.lab).toEqual({ ok: false, text: "Name a model to test, e.g. lab/some-model." });
    expect(backend.calls.some((c) => c.method === "run")).toBe(false);

    forms.testModel.lab = " lab/m ";
    backend.script = { events: [], result: { status: "completed", response: response([result(0, "lab/m", "OK", { duration_ms: 800, outcome: "answered" })], { id: "rt_test" }) } };
    await forms.test(lab);
    expect(forms.result.lab).toEqual({ ok: true, text: "Connected: lab/m answered “OK” in 800 ms." });
    const run = backend.calls.find((c) => c.method === "run")!;
    expect(run.args[1]).toEqual({ input: "Say OK", models: [{ name: "lab/m", max_tokens: 16 }], resolution: "fast", max_retries: 0, timeout_ms: 30000 });
    expect(backend.calls.filter((c) => c.method === "deleteRun").map((c) => c.args[0])).toEqual(["rt_test"]);

    // It failed by its outcome; a stored-style result without one, by its error.
    backend.script.result.response = response([result(0, "lab/m", "", { error: "no API key for provider 'lab'", outcome: "missing_key" })], { id: "rt_t2" });
    await forms.test(lab);
    expect(forms.result.lab).toEqual({ ok: false, text: "no API key for provider 'lab'" });
    backend.script.result.response = response([result(0, "lab/m", "", { error: "401 Unauthorized" })], { id: "rt_t3" });
    await forms.test(lab);
    expect(forms.result.lab).toEqual({ ok: false, text: "401 Unauthorized" });
    expect(forms.busy.lab).toBe(false);

    backend.script = null; // the run did not start
    await forms.test(lab);
    expect(forms.result.lab).toEqual({ ok: false, text: "no script" });
  });
});

describe("LocalApi (state)", () => {
  it("starts on the port typed, says when it is taken, and stops", async () => {
    const { backend, settings } = await loaded();
    backend.takenPorts = [8787];
    const api = new LocalApi(backend, settings);
    await api.load();
    expect([api.running, api.port, api.portValid, api.url, api.error]).toEqual([false, 8787, true, "http://127.0.0.1:8787", null]);

    expect(await api.toggle(true)).toBe(false);
    expect(api.error).toMatch(/port 8787 is already in use/);

    api.portInput = 70000;
    expect([api.portValid, api.canToggle, api.url]).toEqual([false, false, "http://127.0.0.1:PORT"]);
    api.portInput = 9123;
    expect(await api.toggle(true)).toBe(true);
    expect([api.error, api.url, api.status?.port]).toEqual([null, "http://127.0.0.1:9123", 9123]);
    expect([settings.localApi, settings.localApiPort]).toEqual([true, 9123]);
    api.portInput = 70000; // a bad port does not keep a running API from stopping
    expect(api.canToggle).toBe(true);

    expect(await api.toggle(false)).toBe(false);
    expect([settings.localApi, backend.prefs.local_api]).toEqual([false, false]);
    expect(backend.calls.filter((c) => c.method === "startLocalApi").map((c) => c.args[0])).toEqual([8787, 9123]);
  });

  it("keeps what a switch answered over a late first status", async () => {
    const { backend, settings } = await loaded();
    const api = new LocalApi(backend, settings);
    const first = api.load();
    await api.toggle(true);
    backend.apiRunning = false; // what the first status would have said
    await first;
    expect(api.running).toBe(true);
  });

  it("fetches the token once, when revealed, and says then where it comes from", async () => {
    const { backend, settings } = await loaded();
    settings.defaultPanel = ["fake/a"];
    const api = new LocalApi(backend, settings);
    await api.load();
    expect(api.status?.token_origin).toBeNull();
    expect(api.shownCurl).toContain('-H "Authorization: Bearer $ROUNDTABLE_API_TOKEN"');
    expect(api.shownCurl).toContain('"models": [{"name": "fake/a"}]');

    await api.reveal();
    expect([api.tokenShown, api.token]).toEqual([true, "tok-0123456789abcdef"]);
    expect(api.status?.token_origin).toEqual({ kind: "keychain" });
    expect(api.shownCurl).toContain("Bearer tok-0123456789abcdef");
    await api.reveal();
    expect(api.tokenShown).toBe(false);
    expect(api.shownCurl).toContain("$ROUNDTABLE_API_TOKEN");
    await api.reveal();
    expect(backend.calls.filter((c) => c.method === "localApiToken")).toHaveLength(1);

    backend.localApiToken = async () => {
      throw { code: "keychain", message: "the keychain is locked", field: null };
    };
    const other = new LocalApi(backend, settings);
    await other.reveal();
    expect([other.tokenShown, other.error]).toEqual([false, "the keychain is locked"]);
  });

  it("copies the token or the example, saying so on that button for a moment", async () => {
    const copied: string[] = [];
    Object.defineProperty(navigator, "clipboard", { value: { writeText: async (t: string) => void copied.push(t) }, configurable: true });
    try {
      vi.useFakeTimers();
      const { backend, settings } = await loaded();
      const api = new LocalApi(backend, settings);
      await api.copyToken();
      expect([api.copied, api.tokenShown]).toEqual(["token", false]);
      await api.copyCurl();
      expect(api.copied).toBe("curl");
      expect(copied[0]).toBe("tok-0123456789abcdef");
      expect(copied[1]).toContain("Bearer tok-0123456789abcdef");
      vi.advanceTimersByTime(COPIED_MS);
      expect(api.copied).toBeNull();
    } finally {
      Reflect.deleteProperty(navigator, "clipboard");
    }
  });

  it("words where the token comes from", () => {
    expect(originText(null)).toBe("made when the API starts or the token is revealed");
    expect(originText({ kind: "file", path: "/home/me/.roundtable/local-api-token" })).toContain("the file /home/me/.roundtable/local-api-token (yours only)");
    expect(originText({ kind: "process", reason: "no keychain" })).toBe("this process only, a new one at the next start: no keychain");
  });
});
