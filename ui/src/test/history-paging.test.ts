// The History's list: one line per conversation, paged in as it is scrolled,
// only the rows in view in the page (the window's maths, and the list of
// 100,000 runs rendered), and a turn's delete that asks how much to delete.
import { describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { History, PAGE, mergeFirstPage } from "../lib/state/history.svelte";
import { rowWindow, wantsMore } from "../lib/virtual-window";
import { FakeBackend, storedRun } from "../lib/testing/fake-backend";
import { backendContext } from "../lib/ipc/backend";
import type { HistoryQuery, RunSummary, StoredRun } from "../lib/ipc/backend";
import HistoryList from "../lib/components/HistoryList.svelte";
import HistoryView from "../lib/views/HistoryView.svelte";
import { response, result } from "./fixtures";

function run(id: string, at: number, previous: string | null = null): StoredRun {
  return storedRun(id, { input: `Question ${id}`, models: [{ name: "fake/a" }], previous_id: previous }, response([result(0, "fake/a", "A")]), { created_at_ms: at });
}

/** `n` runs, newest first (as the history lists them). */
function many(n: number): StoredRun[] {
  return Array.from({ length: n }, (_, i) => run(`rt_${n - i}`, 1_000_000 + n - i));
}

describe("the window's maths", () => {
  it("puts the rows in view, and a few either side, at their offset", () => {
    const w = rowWindow({ scrollTop: 580, viewport: 300, rowHeight: 58, count: 100_000, overscan: 2 });
    // Rows 10 to 15 are in view (580 / 58 = 10; 300 px is 5.2 rows).
    expect(w).toEqual({ start: 8, end: 18, offset: 8 * 58, total: 100_000 * 58 });
  });

  it("clamps at either end, and to a list shortened under a scrolled view", () => {
    expect(rowWindow({ scrollTop: 0, viewport: 300, rowHeight: 50, count: 3 })).toEqual({ start: 0, end: 3, offset: 0, total: 150 });
    const w = rowWindow({ scrollTop: 90_000, viewport: 500, rowHeight: 50, count: 40, overscan: 0 });
    expect([w.start, w.end]).toEqual([30, 40]);
    expect(rowWindow({ scrollTop: 0, viewport: 300, rowHeight: 50, count: 0 })).toEqual({ start: 0, end: 0, offset: 0, total: 0 });
  });

  it("assumes a viewport before layout", () => {
    const w = rowWindow({ scrollTop: 0, viewport: 0, rowHeight: 50, count: 1000, overscan: 0, fallback: 500 });
    expect([w.start, w.end]).toEqual([0, 10]);
  });

  it("asks for the next page as the window nears the end of what is loaded", () => {
    const w = rowWindow({ scrollTop: 50 * 60, viewport: 500, rowHeight: 50, count: 100, overscan: 0 });
    expect(wantsMore(w, 100, 20)).toBe(false);
    expect(wantsMore(w, 90, 20)).toBe(true);
  });

  it("keeps a list of 100,000 rows to a few dozen in the page wherever it is scrolled", () => {
    for (const scrollTop of [0, 1234, 2_900_000, 5_799_000]) {
      const w = rowWindow({ scrollTop, viewport: 700, rowHeight: 58, count: 100_000 });
      expect(w.end - w.start).toBeLessThanOrEqual(26);
      expect(w.offset).toBe(w.start * 58);
    }
  });
});

describe("History paging", () => {
  it("loads a page, then the next ones as asked, until every line is in", async () => {
    const backend = new FakeBackend();
    backend.runs = many(250);
    const history = new History(backend);
    await history.refresh();
    expect([history.runs.length, history.done]).toEqual([PAGE, false]);
    await history.loadMore();
    expect([history.runs.length, history.done]).toEqual([200, false]);
    await history.loadMore();
    expect([history.runs.length, history.done]).toEqual([250, true]);
    await history.loadMore(); // nothing more to ask
    // Each page after the last line loaded (by id, not by offset: as fast deep in the history as on top).
    const pages = backend.calls.filter((c) => c.method === "listRuns").map((c) => c.args[0] as HistoryQuery);
    expect(pages.map((q) => [q.after, q.offset])).toEqual([
      [undefined, undefined],
      ["rt_151", undefined],
      ["rt_51", undefined],
    ]);
    expect(pages[1]).toEqual({ threads: true, limit: PAGE, after: "rt_151" });
    expect(new Set(history.runs.map((r) => r.id)).size).toBe(250);
  });

  it("asks for the next page after the last line even when runs were recorded on top meanwhile; a search by offset", async () => {
    const backend = new FakeBackend();
    backend.runs = many(150);
    const history = new History(backend);
    await history.refresh();
    // Two runs recorded meanwhile, newest: an offset would bring two lines of the first page again.
    backend.runs = [run("rt_new2", 3_000_000), run("rt_new1", 2_000_000), ...backend.runs];
    await history.loadMore();
    const last = backend.calls.filter((c) => c.method === "listRuns").at(-1)!.args[0] as HistoryQuery;
    expect(last.after).toBe("rt_51");
    expect(history.runs.slice(PAGE).map((r) => r.id)).toEqual(many(50).map((r) => r.summary.id));
    expect(history.done).toBe(true);

    history.text = "Question";
    await history.refresh();
    await history.loadMore();
    const searched = backend.calls.filter((c) => c.method === "listRuns").at(-1)!.args[0] as HistoryQuery;
    expect([searched.after, searched.offset]).toEqual([undefined, PAGE]);
  });

  it("pages on after the line before when the last line loaded was deleted meanwhile", async () => {
    const backend = new FakeBackend();
    backend.runs = many(150);
    const history = new History(backend);
    await history.refresh();
    // The CLI deletes the last two lines loaded.
    backend.runs = backend.runs.filter((r) => r.summary.id !== "rt_51" && r.summary.id !== "rt_52");
    await history.loadMore();
    const asked = backend.calls.filter((c) => c.method === "listRuns").map((c) => (c.args[0] as HistoryQuery).after);
    expect(asked).toEqual([undefined, "rt_51", "rt_52", "rt_53"]);
    expect(history.error).toBe(null);
    expect(history.runs.length).toBe(148);
    expect(history.runs.at(-1)?.id).toBe("rt_1");
    expect(history.runs.some((r) => r.id === "rt_51" || r.id === "rt_52")).toBe(false);
  });

  it("lists one line per conversation, its latest turn with its number of turns; a search finds any turn", async () => {
    const backend = new FakeBackend();
    for (const r of [run("c1", 1), run("c2", 2, "c1"), run("solo", 3), run("c3", 4, "c2")]) backend.addRun(r);
    const history = new History(backend);
    await history.refresh();
    expect(history.runs.map((r) => [r.id, r.turns])).toEqual([["solo", 1], ["c3", 3]]);
    history.text = "Question c2";
    await history.refresh();
    expect(history.runs.map((r) => [r.id, r.turns])).toEqual([["c2", 3]]);
  });

  it("reads the first page again when the history changes, keeping the lines loaded below it", () => {
    const line = (id: string, thread = id) => ({ id, thread_id: thread }) as RunSummary;
    const loaded = [line("b"), line("a", "t"), line("z"), line("y")];
    // A new run on top, and conversation t's line now its newer turn.
    const page = [line("new"), line("a2", "t"), line("b")];
    expect(mergeFirstPage(page, loaded, true).map((r) => r.id)).toEqual(["new", "a2", "b", "z", "y"]);
    expect(mergeFirstPage(page, loaded, false).map((r) => r.id)).toEqual(["new", "a2", "b", "a", "z", "y"]);
  });

  it("starts over when a filter changes, and drops a page a new search overtook", async () => {
    const backend = new FakeBackend();
    backend.runs = many(150);
    const history = new History(backend);
    await history.refresh();
    const more = history.loadMore();
    history.text = "Question rt_15";
    await history.refresh();
    await more;
    expect(history.runs.map((r) => r.id).sort()).toEqual(["rt_15", "rt_150"]);
    expect(history.done).toBe(true);
  });
});

describe("the History list", () => {
  it("renders only the rows in view of 100,000, and pages in more as it scrolls", async () => {
    const backend = new FakeBackend();
    const runs = many(100_000);
    backend.runs = runs;
    const history = new History(backend);
    await history.refresh();
    render(HistoryList, { props: { history }, context: backendContext(backend) });
    const rows = () => screen.getAllByTestId("history-item");
    expect(rows().length).toBeLessThan(30);
    expect(rows()[0].dataset.id).toBe("rt_100000");
    // Scrolled near the end of the first page: the window moves and the next page comes in.
    const list = screen.getByTestId("history-list");
    list.scrollTop = 58 * 90;
    await fireEvent.scroll(list);
    await waitFor(() => expect(history.runs.length).toBe(200));
    expect(rows()[0].dataset.row).toBe(String(90 - 6));
    expect(rows().length).toBeLessThan(30);
    const spacer = list.querySelector("ul") as HTMLElement;
    expect(spacer.style.height).toBe(`${200 * 58}px`);
  });

  it("asks how much of a conversation to delete: the turn and what follows, or all of it", async () => {
    const backend = new FakeBackend();
    for (const r of [run("c1", 1), run("c2", 2, "c1"), run("c3", 3, "c2"), run("solo", 4)]) backend.addRun(r);
    render(HistoryView, { props: { info: null, onopen: vi.fn(), onrerun: vi.fn(), onresolve: vi.fn() }, context: backendContext(backend) });
    await waitFor(() => expect(screen.getAllByTestId("history-item")).toHaveLength(2));
    const c3 = screen.getAllByTestId("history-item").find((li) => li.dataset.id === "c3")!;
    expect(c3.querySelector("[data-testid=history-turns]")?.textContent).toBe("3 turns");
    await fireEvent.click(c3.querySelector("button.item")!);
    await waitFor(() => expect(screen.getByTestId("detail-turns").textContent).toContain("3 turns"));
    await fireEvent.click(screen.getByLabelText("Delete this run"));
    expect(screen.getByTestId("delete-choices")).toBeTruthy();

    // Export the conversation through this turn.
    await fireEvent.click(screen.getByTestId("export-thread"));
    await waitFor(() => expect(backend.calls.find((c) => c.method === "exportThread")?.args).toEqual(["c3", "md"]));

    await fireEvent.click(screen.getByTestId("delete-after"));
    await waitFor(() => expect(backend.calls.some((c) => c.method === "deleteTurnAndAfter")).toBe(true));
    // c3 went; the conversation's line is now its turn 2.
    await waitFor(() => expect(screen.getAllByTestId("history-item").map((li) => li.dataset.id).sort()).toEqual(["c2", "solo"]));
    const c2 = screen.getAllByTestId("history-item").find((li) => li.dataset.id === "c2")!;
    await fireEvent.click(c2.querySelector("button.item")!);
    await waitFor(() => expect(screen.getByTestId("detail-turns")).toBeTruthy());
    await fireEvent.click(screen.getByLabelText("Delete this run"));
    await fireEvent.click(screen.getByTestId("delete-thread"));
    await waitFor(() => expect(screen.getAllByTestId("history-item").map((li) => li.dataset.id)).toEqual(["solo"]));
    expect(backend.runs.map((r) => r.summary.id)).toEqual(["solo"]);
  });
});
