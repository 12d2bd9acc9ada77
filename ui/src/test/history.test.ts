import { afterEach, describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import HistoryView from "../lib/views/HistoryView.svelte";
import { backendContext } from "../lib/ipc/backend";
import { FakeBackend } from "../lib/testing/fake-backend";
import type { StoredRun } from "../lib/ipc/backend";
import { response, result } from "./fixtures";

function stored(id: string, input: string, tags: string[] = [], at = Date.now()): StoredRun {
  return {
    summary: { id, created_at: new Date(at).toISOString(), created_at_ms: at, status: "completed", input, resolution: "summary", models: ["fake/a"], total_cost: 0, duration_ms: 10, starred: false, tags, parent_id: null, parent_kind: null, previous_id: null, thread_id: id, turns: 1, data_preview: null },
    request: { input, models: [{ name: "fake/a" }] },
    response: response([result(0, "fake/a", "A")], { id }),
  };
}

afterEach(() => vi.useRealTimers());

describe("HistoryView", () => {
  it("searches as you type (debounced), refreshes on history-changed, exports the selection", async () => {
    const backend = new FakeBackend();
    backend.runs = [stored("rt_1", "Why is the sky blue?"), stored("rt_2", "Capital of Australia?")];
    const onopen = vi.fn();
    render(HistoryView, { props: { info: null, onopen, onrerun: vi.fn(), onresolve: vi.fn() }, context: backendContext(backend) });
    await waitFor(() => expect(screen.getAllByTestId("history-item")).toHaveLength(2));

    const search = screen.getByTestId("history-search");
    await fireEvent.input(search, { target: { value: "s" } });
    await fireEvent.input(search, { target: { value: "sky" } });
    await waitFor(() => expect(screen.getAllByTestId("history-item")).toHaveLength(1));
    const searches = backend.calls.filter((c) => c.method === "listRuns").map((c) => (c.args[0] as { text?: string }).text);
    expect(searches).not.toContain("s"); // debounced: only the last text was searched
    expect(searches).toContain("sky");

    backend.runs.push(stored("rt_3", "The sky at night"));
    backend.historyListeners.forEach((l) => l());
    await waitFor(() => expect(screen.getAllByTestId("history-item")).toHaveLength(2));

    await fireEvent.click(screen.getAllByRole("checkbox")[0]);
    await fireEvent.click(screen.getByTestId("export"));
    await waitFor(() => expect(screen.getByTestId("export-notice").textContent).toContain("Exported 1 run"));
    // The page names runs and a format, never a path: the shell's dialog chooses.
    expect(backend.calls.find((c) => c.method === "exportRuns")?.args).toEqual([["rt_1"], "md"]);
    expect(screen.getByTestId("export-notice").textContent).toContain("/tmp/export.md");

    // A cancelled dialog: no notice, no error.
    backend.exportTo = null;
    const before = backend.calls.length;
    await fireEvent.click(screen.getByTestId("export"));
    await waitFor(() => expect(backend.calls.length).toBeGreaterThan(before));
    expect(screen.queryByRole("alert")).toBeNull();
  });

  it("filters by tag, from the filter box or a run's tag", async () => {
    const backend = new FakeBackend();
    backend.runs = [stored("rt_1", "Why is the sky blue?", ["physics"]), stored("rt_2", "Capital of Australia?", ["geo", "quiz"]), stored("rt_3", "Rust lifetimes")];
    render(HistoryView, { props: { info: null, onopen: vi.fn(), onrerun: vi.fn(), onresolve: vi.fn() }, context: backendContext(backend) });
    await waitFor(() => expect(screen.getAllByTestId("history-item")).toHaveLength(3));
    // The tags seen are offered as suggestions.
    expect([...document.querySelectorAll("#history-tags option")].map((o) => o.getAttribute("value"))).toEqual(["geo", "physics", "quiz"]);

    await fireEvent.input(screen.getByTestId("history-tag"), { target: { value: "#geo" } });
    await waitFor(() => expect(screen.getAllByTestId("history-item")).toHaveLength(1));
    expect(screen.getByTestId("history-item").dataset.id).toBe("rt_2");
    const last = backend.calls.filter((c) => c.method === "listRuns").at(-1)!.args[0] as { tag?: string };
    expect(last.tag).toBe("geo");

    await fireEvent.input(screen.getByTestId("history-tag"), { target: { value: "nosuch" } });
    await waitFor(() => expect(screen.getByText("Nothing matches")).toBeTruthy());

    // Clearing it shows every run; a run's tag, clicked, filters by it.
    await fireEvent.input(screen.getByTestId("history-tag"), { target: { value: "" } });
    await waitFor(() => expect(screen.getAllByTestId("history-item")).toHaveLength(3));
    await fireEvent.click(screen.getAllByTestId("history-item")[0].querySelector("button.item")!);
    await fireEvent.click(await screen.findByTitle("Show the runs tagged physics"));
    await waitFor(() => expect(screen.getAllByTestId("history-item")).toHaveLength(1));
    expect((screen.getByTestId("history-tag") as HTMLInputElement).value).toBe("physics");
  });

  it("filters by date, from the start of a local day", async () => {
    const day = 24 * 3600 * 1000;
    const backend = new FakeBackend();
    backend.runs = [stored("rt_new", "Asked now"), stored("rt_week", "Asked 3 days ago", [], Date.now() - 3 * day), stored("rt_old", "Asked 40 days ago", [], Date.now() - 40 * day)];
    render(HistoryView, { props: { info: null, onopen: vi.fn(), onrerun: vi.fn(), onresolve: vi.fn() }, context: backendContext(backend) });
    await waitFor(() => expect(screen.getAllByTestId("history-item")).toHaveLength(3));

    await fireEvent.change(screen.getByTestId("history-period"), { target: { value: "7d" } });
    await waitFor(() => expect(screen.getAllByTestId("history-item")).toHaveLength(2));
    const since = (backend.calls.filter((c) => c.method === "listRuns").at(-1)!.args[0] as { since_ms?: number }).since_ms!;
    const start = new Date(since);
    expect([start.getHours(), start.getMinutes()]).toEqual([0, 0]); // local midnight,
    expect(Math.round((Date.now() - since) / day)).toBeGreaterThanOrEqual(6); // six days before today's
    expect(Math.round((Date.now() - since) / day)).toBeLessThanOrEqual(7);

    await fireEvent.change(screen.getByTestId("history-period"), { target: { value: "today" } });
    await waitFor(() => expect(screen.getAllByTestId("history-item").map((li) => li.dataset.id)).toEqual(["rt_new"]));
    await fireEvent.change(screen.getByTestId("history-period"), { target: { value: "" } });
    await waitFor(() => expect(screen.getAllByTestId("history-item")).toHaveLength(3));
    expect((backend.calls.filter((c) => c.method === "listRuns").at(-1)!.args[0] as { since_ms?: number }).since_ms).toBeUndefined();
  });

  it("re-resolves a run as multiple choice among choices typed for it", async () => {
    const backend = new FakeBackend();
    backend.runs = [stored("rt_1", "Capital of Australia?")];
    const onresolve = vi.fn();
    render(HistoryView, { props: { info: null, onopen: vi.fn(), onrerun: vi.fn(), onresolve }, context: backendContext(backend) });
    await waitFor(() => expect(screen.getAllByTestId("history-item")).toHaveLength(1));
    await fireEvent.click(screen.getByTestId("history-item").querySelector("button.item")!);
    await fireEvent.change(await screen.findByLabelText("Resolve again as"), { target: { value: "multiple_choice" } });
    const button = screen.getByRole("button", { name: "Re-resolve" }) as HTMLButtonElement;
    expect(button.disabled).toBe(true); // the run had no choices
    await fireEvent.input(screen.getByTestId("reresolve-choices"), { target: { value: "Sydney, Canberra ,, Melbourne" } });
    expect(button.disabled).toBe(false);
    await fireEvent.click(button);
    expect(onresolve).toHaveBeenCalledWith(expect.objectContaining({ summary: expect.objectContaining({ id: "rt_1" }) }), "multiple_choice", ["Sydney", "Canberra", "Melbourne"], false);
  });

  it("re-resolves a run as summary with the claims matrix when asked", async () => {
    const backend = new FakeBackend();
    backend.runs = [stored("rt_1", "Capital of Australia?")];
    const onresolve = vi.fn();
    render(HistoryView, { props: { info: null, onopen: vi.fn(), onrerun: vi.fn(), onresolve }, context: backendContext(backend) });
    await waitFor(() => expect(screen.getAllByTestId("history-item")).toHaveLength(1));
    await fireEvent.click(screen.getByTestId("history-item").querySelector("button.item")!);
    await fireEvent.click(await screen.findByTestId("reresolve-claims"));
    await fireEvent.click(screen.getByRole("button", { name: "Re-resolve" }));
    expect(onresolve).toHaveBeenCalledWith(expect.objectContaining({ summary: expect.objectContaining({ id: "rt_1" }) }), "summary", null, true);
  });

  it("closes a run deleted elsewhere, and keeps one only filtered out", async () => {
    const backend = new FakeBackend();
    backend.runs = [stored("rt_1", "Why is the sky blue?"), stored("rt_2", "Capital of Australia?")];
    render(HistoryView, { props: { info: null, onopen: vi.fn(), onrerun: vi.fn(), onresolve: vi.fn() }, context: backendContext(backend) });
    await waitFor(() => expect(screen.getAllByTestId("history-item")).toHaveLength(2));
    await fireEvent.click(screen.getAllByTestId("history-item")[0].querySelector("button.item")!);
    await screen.findByTestId("open-run");
    await fireEvent.input(screen.getByTestId("history-search"), { target: { value: "Australia" } });
    await waitFor(() => expect(screen.getAllByTestId("history-item")).toHaveLength(1));
    expect(screen.queryByTestId("open-run")).not.toBeNull(); // filtered out, still open

    backend.runs = backend.runs.filter((r) => r.summary.id !== "rt_1"); // deleted by the CLI, say
    backend.historyListeners.forEach((l) => l());
    await waitFor(() => expect(screen.queryByTestId("open-run")).toBeNull());
  });

  it("says what to do when the history is empty", async () => {
    render(HistoryView, { props: { info: null, onopen: vi.fn(), onrerun: vi.fn(), onresolve: vi.fn() }, context: backendContext(new FakeBackend()) });
    await waitFor(() => expect(screen.getByText("No runs yet")).toBeTruthy());
  });
});
