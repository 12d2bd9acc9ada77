// Issue 13 items 5, 8 and 9 in the window: a model is named with its #n and
// options wherever it shows after the run; the empty workbench names the local
// server found and offers a panel of it; Settings says the keychain's trouble
// once, counts models in words and suggests a default panel that can answer.
import { describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen } from "@testing-library/svelte";
import { flushSync } from "svelte";
import WorkbenchView from "../lib/views/WorkbenchView.svelte";
import ResolvedPanel from "../lib/components/ResolvedPanel.svelte";
import PanelPicker from "../lib/components/PanelPicker.svelte";
import SettingsView from "../lib/views/SettingsView.svelte";
import { RunState } from "../lib/state/run.svelte";
import { Workbench } from "../lib/state/workbench.svelte";
import { Settings, draftModel } from "../lib/state/settings.svelte";
import { backendContext, type LocalServer, type ProviderStatus } from "../lib/ipc/backend";
import { FakeBackend } from "../lib/testing/fake-backend";
import { fullLabel, labels } from "../lib/labels";
import { response, result } from "./fixtures";

const SMOL = "ollama/smollm2";
const panel = [{ name: SMOL, temperature: 0.2 }, { name: SMOL, top_p: 0.9, max_tokens: 64 }, { name: SMOL, reasoning: "high" }, { name: "fake/b" }];

function server(models: string[], extra: Partial<LocalServer> = {}): LocalServer {
  return { provider: "ollama", name: "Ollama", base_url: "http://127.0.0.1:11434/v1", reachable: true, models, error: null, concurrency: null, concurrency_note: null, ...extra };
}

function renderWorkbench(wb: Workbench, servers: LocalServer[] | null = null) {
  return render(WorkbenchView, { props: { wb, settings: new Settings(), suggestions: [], servers, oncompare: vi.fn() }, context: backendContext(new FakeBackend()) });
}

describe("labels", () => {
  it("number the same model and word its options as the CLI and the exports do", () => {
    const l = labels(panel);
    expect(l.map(fullLabel)).toEqual([
      `${SMOL} #1 (temperature 0.2)`,
      `${SMOL} #2 (top p 0.9, max 64 tokens)`,
      `${SMOL} #3 (reasoning high)`,
      "fake/b",
    ]);
  });
});

describe("cards and voters after the run", () => {
  it("each card shows its #n and its options", () => {
    const wb = new Workbench();
    wb.run = new RunState("h", { input: "q", models: panel });
    renderWorkbench(wb);
    const cards = screen.getAllByTestId("model-card");
    expect(cards[0].querySelector("header")!.textContent).toContain("#1");
    expect(cards[1].querySelector("header")!.textContent).toContain("#2");
    expect(cards[3].querySelector("header")!.textContent).not.toContain("#");
    const opts = screen.getAllByTestId("card-options").map((e) => e.textContent);
    expect(opts).toEqual(["temperature 0.2", "top p 0.9 · max 64 tokens", "reasoning high"]);
  });

  it("the off-list voters are told apart", () => {
    const models = [{ name: SMOL, temperature: 0.2 }, { name: SMOL }, { name: SMOL }];
    const run = new RunState("h", { input: "Capital?", models, resolution: "multiple_choice", choices: ["Paris", "Lyon"] });
    render(ResolvedPanel, { props: { run } });
    const results = [result(0, SMOL, "Paris", { vote: "Paris" }), result(1, SMOL, "The capital is big."), result(2, SMOL, "I do not know.")];
    run.finish({ response: response(results, { data: "Paris", meta: { resolution: "multiple_choice", models_used: [], total_cost: 0, total_duration_ms: 10, votes: { Paris: 1, Lyon: 0 } } }), status: "completed" });
    flushSync();
    expect(screen.getByTestId("voters").textContent).toBe(`${SMOL} #1 (temperature 0.2)`);
    expect(screen.getByTestId("resolved-body").textContent).toContain(`Off-list (counted for nothing): ${SMOL} #2, ${SMOL} #3`);
  });

  it("a collapsed panel row shows its options and its #n", async () => {
    const wb = new Workbench();
    wb.panel = [draftModel(SMOL, { temperature: 0.7, max_tokens: 256 }), draftModel(SMOL), draftModel("fake/b")];
    render(PanelPicker, { props: { panel: wb.panel, suggestions: [], settings: new Settings() } });
    expect(screen.getAllByTestId("row-options").map((e) => e.textContent)).toEqual(["temperature 0.7 · max 256 tokens"]);
    expect(screen.getAllByTestId("row-sample").map((e) => e.textContent)).toEqual(["#1", "#2"]);
    // Opening the options puts the fields in its place.
    await fireEvent.click(screen.getByTestId("row-options"));
    expect(screen.queryByTestId("row-options")).toBeNull();
  });
});

describe("first start with a local server", () => {
  it("the empty workbench names the server found and makes a panel of it in one click", async () => {
    const wb = new Workbench();
    renderWorkbench(wb, [server([], { provider: "lmstudio", name: "LM Studio", reachable: false, error: "not running" }), server(["smollm2"])]);
    const offer = screen.getByTestId("local-offer");
    expect(offer.textContent).toContain("Found Ollama on 127.0.0.1:11434 with one model: smollm2");
    await fireEvent.click(screen.getByTestId("use-local-panel"));
    expect(wb.panel.map((m) => m.name)).toEqual([SMOL, SMOL, SMOL]);
    expect(screen.queryByTestId("local-offer")).toBeNull();
  });

  it("offers up to three models of a server that has several, and nothing when none answered", () => {
    const wb = new Workbench();
    const view = renderWorkbench(wb, [server(["a", "b", "c", "d"])]);
    expect(screen.getByTestId("use-local-panel").textContent).toContain("ollama/a, ollama/b, ollama/c");
    view.unmount();
    renderWorkbench(new Workbench(), [server([], { reachable: false, error: "not running" })]);
    expect(screen.queryByTestId("local-offer")).toBeNull();
  });
});

describe("Settings", () => {
  function provider(id: string, local: boolean, keychain_error: string | null): ProviderStatus {
    return { id, name: id, format: "openai", base_url: "http://x/v1", dialect: "compatible", header_names: [], stream: true, local, max_concurrency: null, builtin: true, key_source: local ? "not_needed" : "missing", key_env: null, key_hint: null, keychain_error };
  }
  function renderSettings(providers: ProviderStatus[], servers: LocalServer[], usable: string[]) {
    return render(SettingsView, {
      props: { info: null, settings: new Settings(), providers, servers, usable, currentPanel: [], onchanged: vi.fn(), ondetect: vi.fn(), onusemodel: vi.fn() },
      context: backendContext(new FakeBackend()),
    });
  }

  it("says once that there is no keychain, counts models in words, and suggests a panel that can answer", () => {
    const why = "the OS keychain is not available (no Secret Service). On Linux, start a Secret Service";
    renderSettings([provider("openai", false, why), provider("anthropic", false, why), provider("ollama", true, why)], [server(["smollm2"])], [SMOL]);
    expect(screen.getAllByText(/OS keychain is not available/)).toHaveLength(1);
    expect(screen.getByTestId("keychain-error").textContent).toBe(why);
    const badge = screen.getByTestId("local-server").querySelector(".badge")!;
    expect(badge.textContent).toBe("1 model");
    expect(screen.queryByTestId("server-concurrency")).toBeNull();
    expect((document.getElementById("def-panel") as HTMLTextAreaElement).placeholder).toBe(SMOL);
  });

  it("shows what each local server is and how many calls it takes at once, as the app says it", () => {
    const note = "llama-cpp-python: 1 at once (learned: it cut a stream when another request came)";
    const concurrency = { kind: "llama_cpp_python", limit: 1, source: "learned" } as const;
    renderSettings([provider("ollama", true, null)], [server(["smollm2"], { concurrency, concurrency_note: note })], [SMOL]);
    expect(screen.getByTestId("server-concurrency").textContent).toBe(note);
  });

  it("with nothing usable, the default panel's example says what to do rather than naming cloud models", () => {
    renderSettings([provider("openai", false, null)], [], []);
    expect(screen.queryByTestId("keychain-error")).toBeNull();
    const ph = (document.getElementById("def-panel") as HTMLTextAreaElement).placeholder;
    expect(ph).not.toMatch(/openai|anthropic/);
    expect(ph).toMatch(/add a key or start a local server/);
  });
});
