import { describe, expect, it } from "vitest";
import { render, screen, waitFor } from "@testing-library/svelte";
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

  it("goes straight to the workbench when a key is set, and never shows the key", async () => {
    const backend = new FakeBackend();
    backend.providerList = [provider("openai", { key_source: "keychain" })];
    render(App, { props: { backend } });
    await waitFor(() => expect(screen.getByTestId("prompt")).toBeTruthy());
    expect(screen.queryByTestId("first-run")).toBeNull();
  });
});
