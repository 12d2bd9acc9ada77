import { afterEach, describe, expect, it } from "vitest";
import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import BudgetSettings from "../lib/components/BudgetSettings.svelte";
import { backendContext } from "../lib/ipc/backend";
import { FakeBackend } from "../lib/testing/fake-backend";
import { Settings } from "../lib/state/settings.svelte";

afterEach(cleanup);

describe("importing a price table from Settings", () => {
  it("says how many models it prices and where it is kept", async () => {
    const backend = new FakeBackend();
    render(BudgetSettings, { props: { settings: new Settings() }, context: backendContext(backend) });
    await fireEvent.click(screen.getByTestId("import-prices"));
    expect((await screen.findByTestId("import-prices-done")).textContent).toContain("3 models priced, kept as prices/prices.json");
    expect(backend.calls.some((c) => c.method === "importPrices")).toBe(true);
  });

  it("says nothing when the dialog is cancelled, and shows a refusal", async () => {
    const backend = new FakeBackend();
    backend.priceImport = null;
    render(BudgetSettings, { props: { settings: new Settings() }, context: backendContext(backend) });
    await fireEvent.click(screen.getByTestId("import-prices"));
    await waitFor(() => expect(backend.calls.some((c) => c.method === "importPrices")).toBe(true));
    await Promise.resolve();
    expect(screen.queryByTestId("import-prices-done")).toBeNull();
    expect(screen.queryByTestId("import-prices-error")).toBeNull();
    backend.importPrices = async () => {
      throw { code: "invalid_request", message: "prices.json prices no model", field: "file" };
    };
    await fireEvent.click(screen.getByTestId("import-prices"));
    expect((await screen.findByTestId("import-prices-error")).textContent).toContain("prices no model");
  });
});
