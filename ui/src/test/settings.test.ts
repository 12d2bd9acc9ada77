import { beforeEach, describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import SettingsView from "../lib/views/SettingsView.svelte";
import PanelPicker from "../lib/components/PanelPicker.svelte";
import { Workbench } from "../lib/state/workbench.svelte";
import { Settings, draftModel } from "../lib/state/settings.svelte";
import { backendContext } from "../lib/ipc/backend";
import { FakeBackend } from "../lib/testing/fake-backend";

beforeEach(() => localStorage.clear());

describe("Settings (config.toml through the backend)", () => {
  it("loads the preferences, saves them, and keeps them out of localStorage", async () => {
    const backend = new FakeBackend();
    backend.prefs = { default_models: ["fake/a", "fake/b"], default_summary_model: "fake/judge", theme: "dark", local_api: true, local_api_port: 9100 };
    const s = new Settings();
    await s.load(backend);
    expect(s.loaded).toBe(true);
    expect(s.defaultPanel).toEqual(["fake/a", "fake/b"]);
    expect(s.summaryModel).toBe("fake/judge");
    expect(s.theme).toBe("dark");
    expect([s.localApi, s.localApiPort]).toEqual([true, 9100]);

    s.defaultPanel = ["fake/c", " "];
    s.summaryModel = " ";
    expect(await s.save()).toBe(true);
    expect(backend.prefs).toEqual({ default_models: ["fake/c"], default_summary_model: null, theme: "dark", local_api: true, local_api_port: 9100 });
    expect(s.summaryModel).toBe("");

    s.savePanel("mine", [draftModel("fake/a"), draftModel("")]);
    const stored = JSON.parse(localStorage.getItem("roundtable.settings.v1")!);
    expect(Object.keys(stored)).toEqual(["savedPanels", "blind"]);
    expect(stored.savedPanels[0].models.map((m: { name: string }) => m.name)).toEqual(["fake/a"]);
    expect(new Settings().savedPanels[0].name).toBe("mine");
  });

  // That config.toml itself stays as it was is the app's to keep
  // (crates/app/tests/it/prefs.rs).
  it("shows a refused value's message and keeps the saved preferences", async () => {
    const backend = new FakeBackend();
    const s = new Settings();
    await s.load(backend);
    s.defaultPanel = ["fake/a", "gpt-4"];
    expect(await s.save()).toBe(false);
    expect(s.error).toMatch(/^default_models\[1\]: 'gpt-4' is not provider\/model/);
    expect(backend.prefs.default_models).toEqual([]);
  });

  it("a theme change writes only the theme", async () => {
    const backend = new FakeBackend();
    backend.prefs = { ...backend.prefs, default_summary_model: "fake/judge" };
    const s = new Settings();
    await s.load(backend);
    s.summaryModel = "fake/unsaved-edit";
    await s.setTheme("light");
    expect(backend.prefs.theme).toBe("light");
    expect(backend.prefs.default_summary_model).toBe("fake/judge");
    expect(s.effectiveTheme(true)).toBe("light");
  });
});

describe("SettingsView: the local API", () => {
  function renderView(backend: FakeBackend, settings: Settings) {
    return render(SettingsView, {
      props: { info: null, settings, providers: [], servers: [], currentPanel: [], onchanged: vi.fn(), ondetect: vi.fn(), onusemodel: vi.fn() },
      context: backendContext(backend),
    });
  }

  it("turns it on and off on the chosen port, hides the token until asked, and says when the port is taken", async () => {
    const backend = new FakeBackend();
    backend.takenPorts = [8787];
    const settings = new Settings();
    await settings.load(backend);
    renderView(backend, settings);
    const toggle = () => screen.getByTestId("local-api-switch") as HTMLInputElement;
    await waitFor(() => expect(screen.getByTestId("local-api-url").textContent).toContain("http://127.0.0.1:8787"));
    expect(toggle().checked).toBe(false);

    // The default port is taken: a clear error, still off.
    await fireEvent.click(toggle());
    await waitFor(() => expect(screen.getByTestId("local-api-error").textContent).toMatch(/port 8787 is already in use/));
    expect(toggle().checked).toBe(false);

    // Another port: on, and remembered.
    await fireEvent.input(screen.getByTestId("local-api-port"), { target: { value: "9123" } });
    await fireEvent.click(toggle());
    await waitFor(() => expect(screen.getByTestId("local-api-state").textContent).toContain("On"));
    expect(backend.calls.filter((c) => c.method === "startLocalApi").map((c) => c.args[0])).toEqual([8787, 9123]);
    expect(screen.getByTestId("local-api-url").textContent).toContain("http://127.0.0.1:9123");
    expect(screen.queryByTestId("local-api-error")).toBeNull();
    expect([settings.localApi, settings.localApiPort]).toEqual([true, 9123]);

    // The token crosses only when revealed.
    expect(backend.calls.some((c) => c.method === "localApiToken")).toBe(false);
    expect(screen.getByTestId("local-api-token").textContent).not.toContain("tok-");
    expect(screen.getByTestId("local-api-curl").textContent).toContain("$ROUNDTABLE_API_TOKEN");
    await fireEvent.click(screen.getByTestId("local-api-reveal"));
    await waitFor(() => expect(screen.getByTestId("local-api-token").textContent).toBe("tok-0123456789abcdef"));
    expect(screen.getByTestId("local-api-curl").textContent).toContain("Bearer tok-0123456789abcdef");
    expect(screen.getByTestId("local-api-curl").textContent).toContain("http://127.0.0.1:9123/v3/roundtable");
    await fireEvent.click(screen.getByTestId("local-api-reveal"));
    expect(screen.getByTestId("local-api-token").textContent).not.toContain("tok-");

    await fireEvent.click(toggle());
    await waitFor(() => expect(screen.getByTestId("local-api-state").textContent).toContain("Off"));
    expect(backend.prefs.local_api).toBe(false);
    expect(settings.localApi).toBe(false);
  });

  it("saves the defaults into config.toml and shows a refusal", async () => {
    const backend = new FakeBackend();
    const settings = new Settings();
    await settings.load(backend);
    renderView(backend, settings);
    const panel = screen.getByLabelText(/Default panel/) as HTMLTextAreaElement;
    await fireEvent.input(panel, { target: { value: "fake/a\nnot-a-model" } });
    await fireEvent.click(screen.getByTestId("save-defaults"));
    await waitFor(() => expect(screen.getByTestId("defaults-error").textContent).toMatch(/default_models\[1\]/));
    await fireEvent.input(panel, { target: { value: "fake/a\nfake/b" } });
    await fireEvent.click(screen.getByTestId("save-defaults"));
    await waitFor(() => expect(screen.getByText("Saved in config.toml.")).toBeTruthy());
    expect(backend.prefs.default_models).toEqual(["fake/a", "fake/b"]);
  });

  it("saves a named panel, loads it back, updates and deletes it", async () => {
    const settings = new Settings();
    const wb = new Workbench(); // the panel as the app holds it: reactive state
    wb.panel = [draftModel("fake/a"), draftModel("fake/b")];
    render(PanelPicker, { props: { panel: wb.panel, suggestions: [], settings } });
    const name = screen.getByLabelText("Panel name");
    await fireEvent.input(name, { target: { value: "pair" } });
    await fireEvent.click(screen.getByRole("button", { name: "Save" }));
    expect(settings.savedPanels.map((p) => [p.name, p.models.length])).toEqual([["pair", 2]]);
    // The panel is now saved under that name: it can be updated or deleted.
    expect(screen.getByRole("button", { name: "Update" })).toBeTruthy();
    await fireEvent.input(name, { target: { value: "" } });
    await fireEvent.change(screen.getByLabelText("Load a saved panel"), { target: { value: "pair" } });
    expect((name as HTMLInputElement).value).toBe("pair");
    await fireEvent.click(screen.getByRole("button", { name: "Delete the saved panel pair" }));
    expect(settings.savedPanels).toEqual([]);
    expect(new Settings().savedPanels).toEqual([]);
    // Each loaded or duplicated line has an id of its own.
    await fireEvent.click(screen.getAllByRole("button", { name: /again$/ })[0]);
    await fireEvent.click(screen.getAllByRole("button", { name: /again$/ })[0]);
    expect(screen.getAllByTestId("model-input")).toHaveLength(4);
  });

  it("adds a provider of your own, says which field is wrong, and removes it", async () => {
    const backend = new FakeBackend();
    const onchanged = vi.fn();
    const view = render(SettingsView, {
      props: { info: null, settings: new Settings(), providers: [], servers: [], currentPanel: [], onchanged, ondetect: vi.fn(), onusemodel: vi.fn() },
      context: backendContext(backend),
    });
    const id = screen.getByLabelText("New provider's id");
    await fireEvent.input(id, { target: { value: "my lab" } });
    await fireEvent.input(screen.getByLabelText("New provider's base URL"), { target: { value: "http://10.0.0.5:8000/v1" } });
    await fireEvent.change(screen.getByLabelText("New provider's API format"), { target: { value: "anthropic" } });
    await fireEvent.click(screen.getByRole("button", { name: "Add provider" }));
    await waitFor(() => expect(screen.getByRole("alert").textContent).toContain("letters, digits"));
    expect(id.getAttribute("aria-invalid")).toBe("true");
    expect(onchanged).not.toHaveBeenCalled();

    await fireEvent.input(id, { target: { value: " lab " } });
    await fireEvent.click(screen.getByRole("button", { name: "Add provider" }));
    await waitFor(() => expect(onchanged).toHaveBeenCalledTimes(1));
    expect(backend.calls.filter((c) => c.method === "saveProvider").at(-1)!.args[0]).toEqual({ id: "lab", format: "anthropic", base_url: "http://10.0.0.5:8000/v1" });
    expect(screen.queryByRole("alert")).toBeNull();
    expect((id as HTMLInputElement).value).toBe("");

    await view.rerender({ providers: await backend.providers() });
    await fireEvent.click(screen.getByRole("button", { name: "Remove the provider lab from config.toml" }));
    await waitFor(() => expect(onchanged).toHaveBeenCalledTimes(2));
    expect(backend.providerList).toEqual([]);
  });

  it("applies the default panel and summary model only once they are saved", async () => {
    const backend = new FakeBackend();
    const settings = new Settings();
    await settings.load(backend);
    render(SettingsView, {
      props: { info: null, settings, providers: [], servers: [], currentPanel: [], onchanged: vi.fn(), ondetect: vi.fn(), onusemodel: vi.fn() },
      context: backendContext(backend),
    });
    await fireEvent.input(document.getElementById("def-summary")!, { target: { value: "fake/judge" } });
    await fireEvent.input(document.getElementById("def-panel")!, { target: { value: "gpt-4" } });
    expect(settings.summaryModel).toBe(""); // not before Save
    await fireEvent.click(screen.getByTestId("save-defaults"));
    await waitFor(() => expect(backend.calls.some((c) => c.method === "savePrefs")).toBe(true));
    // Refused: what is in use stays as last saved, the text stays to be fixed.
    expect([settings.summaryModel, settings.defaultPanel]).toEqual(["", []]);
    expect((document.getElementById("def-panel") as HTMLTextAreaElement).value).toBe("gpt-4");

    await fireEvent.input(document.getElementById("def-panel")!, { target: { value: "fake/a" } });
    await fireEvent.click(screen.getByTestId("save-defaults"));
    await waitFor(() => expect(settings.summaryModel).toBe("fake/judge"));
    expect(settings.defaultPanel).toEqual(["fake/a"]);
    expect(backend.prefs.default_summary_model).toBe("fake/judge");
  });
});
