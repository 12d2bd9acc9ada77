import { afterEach, describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import App from "../App.svelte";
import { FakeBackend } from "../lib/testing/fake-backend";
import type { ProviderStatus } from "../lib/ipc/backend";

function provider(id: string, extra: Partial<ProviderStatus> = {}): ProviderStatus {
  return { id, name: id, format: "openai", base_url: "https://x/v1", dialect: "native", header_names: [], stream: true, local: false, max_concurrency: null, builtin: true, key_source: "missing", key_env: null, key_hint: null, keychain_error: null, ...extra };
}

describe("App", () => {
  it("guides a first run with no key, no local server and no history", async () => {
    const backend = new FakeBackend();
    backend.providerList = [provider("openai"), provider("ollama", { local: true, key_source: "not_needed" })];
    render(App, { props: { backend } });
    await waitFor(() => expect(screen.getByTestId("first-run")).toBeTruthy());
    expect(screen.getByText("Add an API key")).toBeTruthy();
  });

  // That no key reaches the page is the app's to keep (src-tauri/src/key_tests.rs):
  // the fake backend holds none to show.
  it("goes straight to the workbench when a key is set", async () => {
    const backend = new FakeBackend();
    backend.providerList = [provider("openai", { key_source: "keychain" })];
    render(App, { props: { backend } });
    await waitFor(() => expect(screen.getByTestId("prompt")).toBeTruthy());
    expect(screen.queryByTestId("first-run")).toBeNull();
  });
});

describe("the theme", () => {
  /** A `prefers-color-scheme: dark` the test can flip, as the system would. */
  function systemScheme(dark: boolean) {
    const listeners = new Set<(e: MediaQueryListEvent) => void>();
    const mq = {
      matches: dark,
      media: "(prefers-color-scheme: dark)",
      addEventListener: (_: string, f: (e: MediaQueryListEvent) => void) => listeners.add(f),
      removeEventListener: (_: string, f: (e: MediaQueryListEvent) => void) => listeners.delete(f),
    };
    vi.stubGlobal("matchMedia", () => mq);
    return (next: boolean) => {
      mq.matches = next;
      for (const f of listeners) f({ matches: next } as MediaQueryListEvent);
    };
  }
  const theme = () => document.documentElement.dataset.theme;
  afterEach(() => vi.unstubAllGlobals());

  it("follows the system's colour scheme until one is chosen, then keeps the choice", async () => {
    const flip = systemScheme(true);
    const backend = new FakeBackend();
    backend.providerList = [provider("openai", { key_source: "keychain" })];
    render(App, { props: { backend } });
    await waitFor(() => expect(screen.getByTestId("prompt")).toBeTruthy());
    expect(theme()).toBe("dark");
    flip(false);
    await waitFor(() => expect(theme()).toBe("light"));
    flip(true);
    await waitFor(() => expect(theme()).toBe("dark"));

    // Chosen: light, whatever the system says from then on.
    await fireEvent.click(screen.getByRole("button", { name: "Light theme" }));
    await waitFor(() => expect(theme()).toBe("light"));
    flip(false);
    flip(true);
    await waitFor(() => expect(screen.getByRole("button", { name: "Dark theme" })).toBeTruthy());
    expect(theme()).toBe("light");
  });
});
