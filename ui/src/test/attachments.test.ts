import { afterEach, describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, waitFor } from "@testing-library/svelte";
import { AttachmentTray, humanSize, kindOf, mediaTypeOf } from "../lib/state/attachments.svelte";
import { Workbench } from "../lib/state/workbench.svelte";
import { Settings, draftModel } from "../lib/state/settings.svelte";
import { RunState } from "../lib/state/run.svelte";
import { CostEstimate } from "../lib/state/estimate.svelte";
import { backendContext } from "../lib/ipc/backend";
import type { StoredRun } from "../lib/ipc/backend";
import { FakeBackend } from "../lib/testing/fake-backend";
import AttachmentTrayView from "../lib/components/AttachmentTray.svelte";
import WorkbenchView from "../lib/views/WorkbenchView.svelte";
import HistoryView from "../lib/views/HistoryView.svelte";
import ModelCard from "../lib/components/ModelCard.svelte";
import { response, result } from "./fixtures";

// A PNG's signature and a little more: what the engine checks; never decoded here.
const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
const PNG_B64 = btoa(String.fromCharCode(...PNG));

function png(name = "chart.png"): File {
  return new File([PNG], name, { type: "image/png" });
}
function text(name: string, body: string, type = ""): File {
  return new File([body], name, { type });
}

/** A drop or paste event as WebKit sends it: jsdom has no DataTransfer, so its files are given. */
function filesEvent(type: "drop" | "dragover" | "paste", files: File[]): Event {
  const e = new Event(type, { bubbles: true, cancelable: true });
  const transfer = { types: files.length ? ["Files"] : ["text/plain"], files, dropEffect: "none" };
  Object.defineProperty(e, type === "paste" ? "clipboardData" : "dataTransfer", { value: transfer });
  return e;
}

describe("attachment types and sizes", () => {
  it("knows the kinds a model takes, and guesses a type the system did not give", () => {
    expect(kindOf("image/png")).toBe("image");
    expect(kindOf("IMAGE/JPEG; q=1")).toBe("image");
    expect(kindOf("application/pdf")).toBe("pdf");
    expect(kindOf("text/markdown")).toBe("text");
    expect(kindOf("application/json")).toBe("text");
    expect(kindOf("image/svg+xml")).toBeNull();
    expect(kindOf("application/zip")).toBeNull();
    expect(mediaTypeOf({ name: "notes.md", type: "" })).toBe("text/markdown");
    // The system's type for .ts is a video stream's: the extension wins when no model takes it.
    expect(mediaTypeOf({ name: "main.ts", type: "video/mp2t" })).toBe("text/x-typescript");
    expect(mediaTypeOf({ name: "photo.JPG", type: "image/jpeg" })).toBe("image/jpeg");
    expect(mediaTypeOf({ name: "tool.exe", type: "application/x-msdownload" })).toBe("application/x-msdownload");
    expect([humanSize(900), humanSize(1500), humanSize(3.4 * 1024 * 1024)]).toEqual(["900 B", "2 KB", "3.4 MB"]);
  });
});

describe("AttachmentTray", () => {
  it("reads files as base64, shows their size and type, and removes them", async () => {
    const tray = new AttachmentTray();
    await tray.addFiles([png(), text("notes.md", "# Notes\n")]);
    expect(tray.refusals).toEqual([]);
    expect(tray.items.map((i) => [i.name, i.mediaType, i.kind, i.size])).toEqual([
      ["chart.png", "image/png", "image", PNG.length],
      ["notes.md", "text/markdown", "text", 8],
    ]);
    expect(tray.toRequest()).toEqual([
      { name: "chart.png", media_type: "image/png", data: PNG_B64 },
      { name: "notes.md", media_type: "text/markdown", data: btoa("# Notes\n") },
    ]);
    expect(tray.thumbnail(tray.items[0])).toBe(`data:image/png;base64,${PNG_B64}`);
    expect(tray.thumbnail(tray.items[1])).toBeNull();
    expect(tray.totalBytes).toBe(PNG.length + 8);
    tray.remove(tray.items[0].key);
    expect(tray.items.map((i) => i.name)).toEqual(["notes.md"]);
  });

  it("refuses, naming the file, a type no model takes, an empty file, a file or a run over the limits, a file twice", async () => {
    const tray = new AttachmentTray();
    tray.limits = { maxFileBytes: 100, maxRunBytes: 170 };
    await tray.addFiles([
      new File([new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0x14, 0x00])], "archive.zip", { type: "application/zip" }),
      text("Makefile", "all:\n\tcargo build\n"),
      text("empty.txt", ""),
      text("big.txt", "x".repeat(101)),
      text("a.txt", "a".repeat(80)),
      text("b.txt", "b".repeat(80)),
      png("ok.png"),
    ]);
    // Text of no known type (a Makefile) goes as text/plain, as the app reads a picked file.
    expect(tray.items.map((i) => [i.name, i.mediaType])).toEqual([["Makefile", "text/plain"], ["a.txt", "text/plain"], ["ok.png", "image/png"]]);
    expect(tray.refusals).toHaveLength(4);
    expect(tray.refusals[0]).toMatch(/“archive\.zip” \(application\/zip\) cannot be attached: models take images .*PDFs and text files/);
    expect(tray.refusals[1]).toBe("“empty.txt” is empty.");
    expect(tray.refusals[2]).toMatch(/“big\.txt” holds 101 B, over the limit of 100 B per file \(\[limits\] max_attachment_bytes\)/);
    expect(tray.refusals[3]).toMatch(/“b\.txt” would take the attachments to 178 B, over the limit of 170 B per run/);
    await tray.addFiles([png("ok.png")]);
    expect(tray.refusals).toEqual(["“ok.png” is already attached."]);
    expect(tray.items).toHaveLength(3);
  });

  it("the picker's files join the tray; its refusals and errors show", async () => {
    const backend = new FakeBackend();
    const tray = new AttachmentTray();
    backend.picked = [{ name: "report.pdf", media_type: "application/pdf", data: btoa("%PDF-1.7 x"), size: 10 }];
    render(AttachmentTrayView, { props: { tray, backend } });
    await fireEvent.click(screen.getByTestId("attach-files"));
    await waitFor(() => expect(screen.getAllByTestId("attachment")).toHaveLength(1));
    const chip = screen.getByTestId("attachment");
    expect(chip.dataset.kind).toBe("pdf");
    expect(screen.getByTestId("attachment-meta").textContent).toBe("PDF · 10 B");
    expect(screen.getByTestId("attachment-summary").textContent).toMatch(/1 file, 10 B/);
    expect(screen.queryByTestId("attachment-thumb")).toBeNull();

    backend.pickAttachments = async () => {
      throw { code: "io", message: "cannot read /x/secret: permission denied", field: null };
    };
    await fireEvent.click(screen.getByTestId("attach-files"));
    await waitFor(() => expect(screen.getByTestId("attach-error").textContent).toMatch(/permission denied/));
    await fireEvent.click(screen.getByRole("button", { name: "Remove report.pdf" }));
    expect(screen.queryByTestId("attachment")).toBeNull();
  });
});

function workbench(): Workbench {
  const wb = new Workbench();
  wb.input = "What does this chart show?";
  wb.panel = [draftModel("fake/a")];
  wb.resolution = "fast";
  return wb;
}

describe("drop and paste on the workbench", () => {
  it("a dropped image shows as a thumbnail and goes in the run's request; a pasted one joins it", async () => {
    const backend = new FakeBackend();
    backend.script = { events: [], result: { status: "completed", response: response([result(0, "fake/a", "A bar chart")]) } as never };
    const wb = workbench();
    const { container } = render(WorkbenchView, { props: { wb, settings: new Settings(), suggestions: [], oncompare: vi.fn() }, context: backendContext(backend) });
    const zone = container.querySelector(".workbench")!;

    const over = filesEvent("dragover", [png()]);
    zone.dispatchEvent(over);
    expect(over.defaultPrevented).toBe(true); // the webview does not open the file itself
    await waitFor(() => expect(screen.getByTestId("drop-overlay")).toBeTruthy());
    const drop = filesEvent("drop", [png()]);
    zone.dispatchEvent(drop);
    expect(drop.defaultPrevented).toBe(true);
    await waitFor(() => expect(screen.getByTestId("attachment-thumb").getAttribute("src")).toBe(`data:image/png;base64,${PNG_B64}`));
    expect(screen.queryByTestId("drop-overlay")).toBeNull();

    // Pasted into the prompt: the clipboard's image, named by the tray.
    const paste = filesEvent("paste", [new File([PNG], "", { type: "image/png" })]);
    screen.getByTestId("prompt").dispatchEvent(paste);
    expect(paste.defaultPrevented).toBe(true);
    await waitFor(() => expect(screen.getAllByTestId("attachment")).toHaveLength(2));
    expect(screen.getAllByTestId("attachment")[1].dataset.name).toBe("pasted-1.png");

    // Text dragged or pasted is the page's as usual.
    const plain = filesEvent("paste", []);
    screen.getByTestId("prompt").dispatchEvent(plain);
    expect(plain.defaultPrevented).toBe(false);

    await wb.start(backend);
    const sent = backend.calls.find((c) => c.method === "run")!.args[1] as { attachments: unknown[] };
    expect(sent.attachments).toEqual([
      { name: "chart.png", media_type: "image/png", data: PNG_B64 },
      { name: "pasted-1.png", media_type: "image/png", data: PNG_B64 },
    ]);
    // Kept for the next run.
    expect(wb.attachments.items).toHaveLength(2);
  });

  it("a dropped file of a type no model takes is refused with its name, and nothing is read", async () => {
    const wb = workbench();
    const { container } = render(WorkbenchView, { props: { wb, settings: new Settings(), suggestions: [], oncompare: vi.fn() }, context: backendContext(new FakeBackend()) });
    container.querySelector(".workbench")!.dispatchEvent(filesEvent("drop", [new File([new Uint8Array([0x4d, 0x5a, 0x90, 0x00])], "setup.exe", { type: "application/x-msdownload" })]));
    await waitFor(() => expect(screen.getByTestId("attach-error").textContent).toMatch(/“setup\.exe” \(application\/x-msdownload\) cannot be attached/));
    expect(wb.attachments.items).toHaveLength(0);
  });
});

function storedWithFiles(): StoredRun {
  const at = Date.now();
  const attachments = [
    { name: "chart.png", media_type: "image/png", sha256: "aa11", size: PNG.length },
    { name: "notes.md", media_type: "text/markdown", sha256: "bb22", size: 8 },
  ];
  return {
    summary: { id: "rt_9", created_at: new Date(at).toISOString(), created_at_ms: at, status: "completed", input: "What does this chart show?", resolution: "fast", models: ["fake/a"], total_cost: 0, duration_ms: 10, starred: false, tags: [], parent_id: null, parent_kind: null, previous_id: null, thread_id: "rt_9", turns: 1, data_preview: null },
    request: { input: "What does this chart show?", models: [{ name: "fake/a" }], resolution: "fast", attachments },
    response: response([result(0, "fake/a", "A bar chart")], { id: "rt_9" }),
  };
}

describe("a stored run's attachments", () => {
  it("History shows them, an image's thumbnail fetched by its hash (only the images')", async () => {
    const backend = new FakeBackend();
    backend.runs = [storedWithFiles()];
    backend.attachmentStore.set("aa11", { name: "chart.png", media_type: "image/png", data: PNG_B64, sha256: "aa11", size: PNG.length });
    render(HistoryView, { props: { info: null, onopen: vi.fn(), onrerun: vi.fn(), onresolve: vi.fn() }, context: backendContext(backend) });
    await waitFor(() => expect(screen.getAllByTestId("history-item")).toHaveLength(1));
    await fireEvent.click(screen.getByText("What does this chart show?"));
    await waitFor(() => expect(screen.getByTestId("attachment-thumb").getAttribute("src")).toBe(`data:image/png;base64,${PNG_B64}`));
    expect(screen.getAllByTestId("attachment").map((c) => c.dataset.name)).toEqual(["chart.png", "notes.md"]);
    expect(backend.calls.filter((c) => c.method === "attachmentData").map((c) => c.args[0])).toEqual(["aa11"]);
  });

  it("opened into the workbench, their bytes are fetched and a new run sends them again; one gone is named", async () => {
    const backend = new FakeBackend();
    backend.script = { events: [], result: { status: "completed", response: response([result(0, "fake/a", "A")]) } as never };
    backend.attachmentStore.set("aa11", { name: "chart.png", media_type: "image/png", data: PNG_B64 });
    backend.attachmentStore.set("bb22", { name: "notes.md", media_type: "text/markdown", data: btoa("# Notes\n") });
    const wb = new Workbench();
    wb.load(storedWithFiles().request);
    expect(wb.attachments.items.map((i) => [i.name, i.size, i.data])).toEqual([["chart.png", PNG.length, null], ["notes.md", 8, null]]);
    await wb.start(backend);
    const sent = backend.calls.find((c) => c.method === "run")!.args[1] as { attachments: unknown[] };
    expect(sent.attachments).toEqual([
      { name: "chart.png", media_type: "image/png", data: PNG_B64 },
      { name: "notes.md", media_type: "text/markdown", data: btoa("# Notes\n") },
    ]);

    const lost = new Workbench();
    lost.load(storedWithFiles().request);
    backend.attachmentStore.delete("bb22");
    await lost.start(backend);
    expect(lost.formError).toMatch(/“notes\.md” is no longer in the history: no attachment bb22.*Remove it to run/);
    expect(backend.calls.filter((c) => c.method === "run")).toHaveLength(1);
  });

  it("a model that cannot take one fails alone (unsupported), showing why like any failure", () => {
    const run = new RunState("h", { input: "Q", models: [{ name: "fake/a" }, { name: "fake/b" }] });
    const why = "attachment 'report.pdf' (application/pdf, 12 KB): an OpenAI-compatible server takes no PDF documents (attach the text instead)";
    run.card(0)?.applyResult(result(0, "fake/a", "", { outcome: "unsupported", error: why, cost: 0 }), Date.now());
    run.card(1)?.applyResult(result(1, "fake/b", "Fine"), Date.now());
    expect(run.cards.map((c) => c.status)).toEqual(["failed", "done"]);
    render(ModelCard, { props: { card: run.cards[0], now: Date.now() } });
    expect(screen.getByTestId("card-status").textContent).toMatch(/Failed/);
    expect(screen.getByTestId("card-error").textContent).toBe(why);
    expect(screen.getByTestId("model-card").dataset.outcome).toBe("unsupported");
  });
});

describe("the estimate of a draft with files", () => {
  afterEach(() => vi.useRealTimers());

  it("sends the files (the engine counts them), and asks again only when they change", async () => {
    const backend = new FakeBackend();
    const wb = workbench();
    // Read first: jsdom's FileReader answers on a timer.
    await wb.attachments.addFiles([text("notes.md", "# Notes\n")]);
    vi.useFakeTimers();
    const est = new CostEstimate();
    est.schedule(backend, wb.request());
    await vi.advanceTimersByTimeAsync(400);
    est.schedule(backend, wb.request());
    await vi.advanceTimersByTimeAsync(400);
    const asked = () => backend.calls.filter((c) => c.method === "estimateRun").map((c) => (c.args[0] as { attachments?: { name: string }[] }).attachments?.map((a) => a.name));
    expect(asked()).toEqual([["notes.md"]]);
    wb.attachments.addAttachments([{ name: "more.md", media_type: "text/markdown", data: btoa("More\n") }]);
    est.schedule(backend, wb.request());
    await vi.advanceTimersByTimeAsync(400);
    expect(asked()).toEqual([["notes.md"], ["notes.md", "more.md"]]);
  });
});
