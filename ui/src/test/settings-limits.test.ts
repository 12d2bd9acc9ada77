import { beforeEach, describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import SettingsView from "../lib/views/SettingsView.svelte";
import { Settings } from "../lib/state/settings.svelte";
import { backendContext } from "../lib/ipc/backend";
import { FakeBackend } from "../lib/testing/fake-backend";
import { provider } from "./fixtures";

beforeEach(() => localStorage.clear());

function renderView(backend: FakeBackend, onchanged = vi.fn()) {
  return render(SettingsView, {
    props: { info: null, settings: new Settings(), providers: backend.providerList, servers: [], currentPanel: [], onchanged, ondetect: vi.fn(), onusemodel: vi.fn() },
    context: backendContext(backend),
  });
}

const row = (id: string) => screen.getAllByTestId("provider").find((li) => li.dataset.id === id)!;

describe("SettingsView: a provider's calls at once", () => {
  it("shows each provider's limit or its default, refuses 0 and words naming the field, sets and clears it", async () => {
    const backend = new FakeBackend();
    backend.providerList = [
      provider("openai"),
      provider("ollama", { local: true, base_url: "http://127.0.0.1:11434/v1", key_source: "not_needed" }),
      provider("lab", { builtin: false, local: true, base_url: "http://127.0.0.1:8000/v1", max_concurrency: 2 }),
    ];
    const onchanged = vi.fn();
    const view = renderView(backend, onchanged);
    const shown = (id: string) => within(row(id)).getByTestId("concurrency").textContent;
    expect(shown("openai")).toBe("none");
    expect(shown("ollama")).toBe("default: what the server says it takes, else all at once");
    expect(shown("lab")).toBe("2 at once");
    // Only a limit that is set can be cleared.
    expect(within(row("ollama")).queryByTestId("concurrency-clear")).toBeNull();

    const ollama = within(row("ollama"));
    const input = ollama.getByTestId("concurrency-input") as HTMLInputElement;
    // The error the backend gives is shown as it is (its words are the app's:
    // tests/cases/refusals.json holds the fake to the app's codes and fields).
    for (const typed of ["0", "two"]) {
      const refused = await backend.setMaxConcurrency("ollama", typed).then(() => null, (e: { message: string }) => e.message);
      expect(refused).toMatch(/^providers\.ollama\.max_concurrency: /);
      await fireEvent.input(input, { target: { value: typed } });
      await fireEvent.click(ollama.getByTestId("concurrency-save"));
      await waitFor(() => expect(ollama.getByTestId("concurrency-error").textContent).toBe(refused));
      expect(input.getAttribute("aria-invalid")).toBe("true");
    }
    expect(onchanged).not.toHaveBeenCalled();
    expect(backend.providerList[1].max_concurrency).toBeNull();

    await fireEvent.input(input, { target: { value: " 1 " } });
    await fireEvent.click(ollama.getByTestId("concurrency-save"));
    await waitFor(() => expect(onchanged).toHaveBeenCalledTimes(1));
    expect(backend.calls.filter((c) => c.method === "setMaxConcurrency").at(-1)!.args).toEqual(["ollama", " 1 "]);
    expect(ollama.queryByTestId("concurrency-error")).toBeNull();
    expect(ollama.getByRole("status").textContent).toMatch(/1 at once from the next run/);
    expect(input.value).toBe("");

    await view.rerender({ providers: await backend.providers() });
    expect(shown("ollama")).toBe("1 at once");
    await fireEvent.click(within(row("lab")).getByTestId("concurrency-clear"));
    await waitFor(() => expect(onchanged).toHaveBeenCalledTimes(2));
    expect(backend.calls.filter((c) => c.method === "setMaxConcurrency").at(-1)!.args).toEqual(["lab", ""]);
    await view.rerender({ providers: await backend.providers() });
    expect(shown("lab")).toBe("default: what the server says it takes, else all at once");
  });
});

describe("SettingsView: where the local API's token comes from", () => {
  it("names the file that keeps it, once the token is first needed", async () => {
    const backend = new FakeBackend();
    backend.tokenOrigin = { kind: "file", path: "/tmp/rt/local-api-token" };
    renderView(backend);
    const origin = () => screen.getByTestId("local-api-token-origin");
    await waitFor(() => expect(origin().textContent).toBe("made when the API starts or the token is revealed"));
    await fireEvent.click(screen.getByTestId("local-api-reveal"));
    await waitFor(() => expect(origin().dataset.kind).toBe("file"));
    expect(origin().textContent).toContain("the file /tmp/rt/local-api-token (yours only): the keychain is not available");
    expect(screen.getByTestId("local-api-token").textContent).toBe("tok-0123456789abcdef");
  });

  it("says why a token lasts only for this process", async () => {
    const backend = new FakeBackend();
    backend.apiRunning = true;
    backend.tokenOrigin = { kind: "process", reason: "the OS keychain is not available (no Secret Service); /home/x: read-only file system" };
    renderView(backend);
    const origin = () => screen.getByTestId("local-api-token-origin");
    await waitFor(() => expect(origin().dataset.kind).toBe("process"));
    expect(origin().textContent).toBe(
      "this process only, a new one at the next start: the OS keychain is not available (no Secret Service); /home/x: read-only file system",
    );
    expect(origin().classList.contains("warn")).toBe(true);
  });

  it("says the environment or the keychain", async () => {
    const backend = new FakeBackend();
    backend.apiRunning = true;
    backend.tokenOrigin = { kind: "environment" };
    renderView(backend);
    await waitFor(() => expect(screen.getByTestId("local-api-token-origin").textContent).toBe("ROUNDTABLE_API_TOKEN, from the environment"));
  });
});
