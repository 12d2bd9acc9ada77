// The History view's state against the fake backend, without the view.
import { afterEach, describe, expect, it, vi } from "vitest";
import { History, SEARCH_DELAY_MS } from "../lib/state/history.svelte";
import { FakeBackend } from "../lib/testing/fake-backend";
import type { HistoryQuery, RunSummary, StoredRun } from "../lib/ipc/backend";
import { response, result } from "./fixtures";

function stored(id: string, input: string, extra: { tags?: string[]; choices?: string[]; starred?: boolean } = {}): StoredRun {
  const at = Date.now();
  return {
    summary: { id, created_at: new Date(at).toISOString(), created_at_ms: at, status: "completed", input, resolution: "summary", models: ["fake/a"], total_cost: 0, duration_ms: 10, starred: extra.starred ?? false, tags: extra.tags ?? [], parent_id: null, parent_kind: null, previous_id: null, thread_id: id, turns: 1, data_preview: null },
    request: { input, models: [{ name: "fake/a" }], choices: extra.choices },
    response: response([result(0, "fake/a", "A")], { id }),
  };
}

function setup(...runs: StoredRun[]) {
  const backend = new FakeBackend();
  backend.runs = runs;
  return { backend, history: new History(backend) };
}

const ids = (runs: RunSummary[]) => runs.map((r) => r.id);

afterEach(() => vi.useRealTimers());

describe("History (state)", () => {
  it("asks the backend with the filters as typed, trimmed and without the tag's #", () => {
    const { history } = setup();
    // One line per conversation, a page at a time.
    expect(history.query()).toEqual({ threads: true, limit: 100 });
    expect(history.filtering).toBe(false);
    history.text = "  sky ";
    history.model = " fake/a";
    history.status = "failed";
    history.starredOnly = true;
    history.tag = " #physics ";
    // A search finds any turn: no `threads`.
    expect(history.query()).toEqual({ text: "sky", model: "fake/a", status: "failed", starred: true, tag: "physics", limit: 100 });
    expect(history.filtering).toBe(true);
    history.period = "7d";
    expect(history.query().since_ms).toBeLessThan(Date.now());
  });

  it("lists the runs found, gathers their tags and keeps only the selection still listed", async () => {
    const { backend, history } = setup(stored("rt_1", "Why is the sky blue?", { tags: ["physics"] }), stored("rt_2", "Capital of Australia?", { tags: ["geo", "quiz"] }));
    expect(history.loading).toBe(true);
    await history.refresh();
    expect([history.loading, history.error]).toEqual([false, null]);
    expect(ids(history.runs)).toEqual(["rt_1", "rt_2"]);
    expect(history.knownTags).toEqual(["geo", "physics", "quiz"]);

    history.toggle("rt_1");
    history.toggle("rt_2");
    history.toggle("rt_2");
    expect(history.selected).toEqual(["rt_1"]);
    history.toggle("rt_2");
    history.text = "sky";
    await history.refresh();
    expect(ids(history.runs)).toEqual(["rt_1"]);
    expect(history.selected).toEqual(["rt_1"]);
    // Tags once seen stay suggested.
    expect(history.knownTags).toEqual(["geo", "physics", "quiz"]);
    expect(backend.calls.filter((c) => c.method === "listRuns")).toHaveLength(2);
  });

  it("drops an answer a later search overtook, and shows a failed search", async () => {
    const backend = new FakeBackend();
    backend.runs = [stored("rt_1", "Why is the sky blue?"), stored("rt_2", "Capital of Australia?")];
    const pending: (() => void)[] = [];
    const list = backend.listRuns.bind(backend);
    backend.listRuns = (q: HistoryQuery) => new Promise((done) => pending.push(() => void list(q).then(done)));
    const history = new History(backend);
    const first = history.refresh();
    history.text = "Australia";
    const second = history.refresh();
    pending[1]();
    await second;
    pending[0](); // the first answer comes last: dropped
    await first;
    expect(ids(history.runs)).toEqual(["rt_2"]);

    backend.listRuns = async () => {
      throw { code: "store", message: "the history is busy", field: null };
    };
    await history.refresh();
    expect(history.error).toBe("the history is busy");
    expect(ids(history.runs)).toEqual(["rt_2"]);
  });

  it("searches once, a moment after the last change, and refreshes when the history changes", async () => {
    vi.useFakeTimers();
    const { backend, history } = setup(stored("rt_1", "Why is the sky blue?"));
    const searches = () => backend.calls.filter((c) => c.method === "listRuns").length;
    let cancel = history.searchSoon();
    vi.advanceTimersByTime(SEARCH_DELAY_MS - 1);
    cancel(); // a filter changed: the effect reruns
    cancel = history.searchSoon();
    vi.advanceTimersByTime(SEARCH_DELAY_MS - 1);
    expect(searches()).toBe(0);
    vi.advanceTimersByTime(1);
    expect(searches()).toBe(1);
    cancel();
    vi.useRealTimers();

    const unwatch = history.watch();
    await vi.waitFor(() => expect(backend.historyListeners).toHaveLength(1));
    backend.historyListeners.forEach((l) => l());
    expect(searches()).toBe(2);
    unwatch();
    expect(backend.historyListeners).toHaveLength(0);
  });

  it("opens a run with its own choices to vote among, and no delete half-confirmed", async () => {
    const { history } = setup(stored("rt_1", "Capital of Australia?", { choices: ["Sydney", "Canberra"] }), stored("rt_2", "Rust lifetimes"));
    await history.focus("rt_1");
    expect(history.focused?.summary.id).toBe("rt_1");
    expect(history.choicesText).toBe("Sydney, Canberra");
    history.reresolveAs = "multiple_choice";
    expect([history.canReresolve, history.reresolveArgs()]).toEqual([true, ["Sydney", "Canberra"]]);
    history.choicesText = " Sydney ,, ";
    expect(history.canReresolve).toBe(false);
    history.reresolveAs = "fast";
    expect([history.canReresolve, history.reresolveArgs()]).toEqual([true, null]);

    history.confirmDelete = true;
    await history.focus("rt_1"); // the same run again: as it was
    expect([history.confirmDelete, history.choicesText]).toEqual([true, " Sydney ,, "]);
    await history.focus("rt_2");
    expect([history.confirmDelete, history.choicesText]).toEqual([false, ""]);

    await history.focus("rt_9");
    expect(history.error).toBe("no run rt_9");
    expect(history.focused?.summary.id).toBe("rt_2");
  });

  it("keeps open a run only filtered out, and closes one deleted elsewhere", async () => {
    const { backend, history } = setup(stored("rt_1", "Why is the sky blue?"), stored("rt_2", "Capital of Australia?"));
    await history.refresh();
    await history.focus("rt_1");
    history.text = "Australia";
    await history.refresh();
    expect(ids(history.runs)).toEqual(["rt_2"]);
    expect(history.focused?.summary.id).toBe("rt_1");
    backend.runs = backend.runs.filter((r) => r.summary.id !== "rt_1");
    await history.refresh();
    expect(history.focused).toBeNull();
  });

  it("stars, tags and deletes the run in focus, then lists again", async () => {
    const { backend, history } = setup(stored("rt_1", "Why is the sky blue?", { starred: true, tags: ["physics"] }));
    await history.refresh();
    await history.toggleStar(); // nothing in focus: nothing done
    await history.focus("rt_1");
    await history.toggleStar();
    history.newTag = "   ";
    await history.addTag();
    history.newTag = " optics ";
    await history.addTag();
    expect(history.newTag).toBe("");
    await history.removeTag("physics");
    const done = backend.calls.filter((c) => ["setStarred", "addTag", "removeTag"].includes(c.method)).map((c) => [c.method, ...c.args]);
    expect(done).toEqual([
      ["setStarred", "rt_1", false],
      ["addTag", "rt_1", "optics"],
      ["removeTag", "rt_1", "physics"],
    ]);
    expect(backend.calls.filter((c) => c.method === "listRuns")).toHaveLength(4);

    backend.addTag = async () => {
      throw { code: "invalid_request", message: "a tag is one word", field: "tag" };
    };
    history.newTag = "two words";
    await history.addTag();
    expect([history.error, history.newTag]).toEqual(["a tag is one word", "two words"]);

    await history.deleteFocused();
    expect(history.focused).toBeNull();
    expect(backend.runs).toEqual([]);
    expect(history.runs).toEqual([]);
    expect(history.error).toBeNull();
  });

  it("exports the runs ticked, else the one in focus, and says where they went", async () => {
    const { backend, history } = setup(stored("rt_1", "Why is the sky blue?"), stored("rt_2", "Capital of Australia?"));
    await history.refresh();
    await history.export(); // nothing ticked nor open
    expect(backend.calls.some((c) => c.method === "exportRuns")).toBe(false);

    await history.focus("rt_2");
    history.format = "csv";
    await history.export();
    expect(history.notice).toBe("Exported 1 run to /tmp/export.csv");

    history.toggle("rt_1");
    history.toggle("rt_2");
    history.format = "json";
    await history.export();
    expect(backend.calls.filter((c) => c.method === "exportRuns").map((c) => c.args)).toEqual([
      [["rt_2"], "csv"],
      [["rt_1", "rt_2"], "json"],
    ]);
    expect(history.notice).toBe("Exported 2 runs to /tmp/export.json");

    backend.exportTo = null; // the save dialog cancelled: nothing said
    history.notice = null;
    await history.export();
    expect([history.notice, history.error]).toEqual([null, null]);
  });
});
