import { describe, expect, it } from "vitest";
import { render, screen, waitFor } from "@testing-library/svelte";
import { flushSync } from "svelte";
import ResolvedPanel from "../lib/components/ResolvedPanel.svelte";
import { RunState } from "../lib/state/run.svelte";
import { response, result } from "./fixtures";

describe("ResolvedPanel", () => {
  it("streams the consolidation in", async () => {
    const run = new RunState("h", { input: "q", models: [{ name: "fake/a" }, { name: "fake/b" }] });
    render(ResolvedPanel, { props: { run } });
    expect(screen.getByTestId("resolved-body").textContent).toContain("2 to go");
    run.apply({ type: "model_finished", result: result(0, "fake/a", "A") });
    run.apply({ type: "model_finished", result: result(1, "fake/b", "B") });
    run.apply({ type: "consolidation_started", model: "fake/a" });
    flushSync();
    expect(screen.getByTestId("resolved-body").textContent).toContain("consolidating");
    run.apply({ type: "consolidation_delta", model: "fake/a", delta: "Both say " });
    run.apply({ type: "consolidation_delta", model: "fake/a", delta: "*yes*" });
    flushSync();
    await waitFor(() => expect(screen.getByTestId("resolved-body").querySelector("em")?.textContent).toBe("yes"));
    run.finish({ response: response([result(0, "fake/a", "A"), result(1, "fake/b", "B")], { data: "Both say yes." }), status: "completed" });
    flushSync();
    expect(screen.getByTestId("resolved-body").textContent).toContain("Both say yes.");
  });

  it("notes a summary model that failed beside the summary the next one wrote", () => {
    const run = new RunState("h", { input: "q", models: [{ name: "fake/a" }, { name: "fake/b" }] });
    render(ResolvedPanel, { props: { run } });
    const results = [result(0, "fake/a", "A"), result(1, "fake/b", "B")];
    const meta = { resolution: "summary" as const, models_used: ["fake/a", "fake/b"], total_cost: 0, total_duration_ms: 10, summary_model: "fake/a", summary_error: "the summary by fake/judge failed, so fake/a wrote it: HTTP 400" };
    run.finish({ response: response(results, { data: "Both.", meta }), status: "completed" });
    flushSync();
    expect(screen.getByTestId("summary-note").textContent).toContain("so fake/a wrote it");
    expect(screen.getByTestId("resolved-body").textContent).toContain("Both.");
    expect(screen.queryByRole("alert")).toBeNull();
  });

  it("shows a bar per choice with the votes and who voted what", () => {
    const req = { input: "Capital?", models: [{ name: "fake/a" }, { name: "fake/b" }, { name: "fake/c" }], resolution: "multiple_choice" as const, choices: ["Sydney", "Canberra", "Melbourne"] };
    const run = new RunState("h", req);
    render(ResolvedPanel, { props: { run } });
    const results = [result(0, "fake/a", "B", { vote: "Canberra" }), result(1, "fake/b", "Canberra", { vote: "Canberra" }), result(2, "fake/c", "Perth")];
    run.finish({
      response: response(results, { data: "Canberra", meta: { resolution: "multiple_choice", models_used: [], total_cost: 0, total_duration_ms: 10, votes: { Sydney: 0, Canberra: 2, Melbourne: 0 } } }),
      status: "completed",
    });
    flushSync();
    const rows = screen.getAllByTestId("vote-row");
    expect(rows.map((r) => r.dataset.choice)).toEqual(["Sydney", "Canberra", "Melbourne"]);
    const canberra = rows[1];
    expect(canberra.textContent).toContain("Winner");
    expect(canberra.querySelector("[data-testid=vote-count]")?.textContent).toBe("2 votes");
    expect(canberra.querySelector("[data-testid=voters]")?.textContent).toBe("fake/a, fake/b");
    expect(canberra.querySelector<HTMLElement>(".bar")?.style.width).toBe(`${(2 / 3) * 100}%`);
    expect(rows[0].querySelector("[data-testid=vote-count]")?.textContent).toBe("0 votes");
    expect(screen.getByTestId("vote-bars").textContent).toContain("Off-list (counted for nothing): fake/c");
  });
});
