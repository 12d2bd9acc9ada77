// What a person does with the cards, rendered: Ctrl/Cmd+Enter runs, a card
// expands and Escape brings it back among the others, Copy puts the answer on
// the clipboard, and the compare view marks the words two answers differ by.
import { afterEach, describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen } from "@testing-library/svelte";
import { flushSync } from "svelte";
import WorkbenchView from "../lib/views/WorkbenchView.svelte";
import CompareView from "../lib/views/CompareView.svelte";
import { Workbench } from "../lib/state/workbench.svelte";
import { RunState } from "../lib/state/run.svelte";
import { Settings, draftModel } from "../lib/state/settings.svelte";
import { backendContext } from "../lib/ipc/backend";
import { FakeBackend } from "../lib/testing/fake-backend";
import { response, result } from "./fixtures";

const BASE = "The sky is blue because air scatters blue light more.";
const OTHER = "The sky is blue because dust scatters blue light.";

/** A finished run of two models with `texts` as their answers. */
function finished(texts: string[]): RunState {
  const models = texts.map((_, i) => ({ name: `fake/m${i}` }));
  const run = new RunState("h", { input: "Why is the sky blue?", models, resolution: "fast" });
  const results = texts.map((t, i) => result(i, `fake/m${i}`, t));
  run.finish({ response: response(results), status: "completed" });
  flushSync();
  return run;
}

function renderWorkbench(wb: Workbench, backend = new FakeBackend()) {
  return render(WorkbenchView, {
    props: { wb, settings: new Settings(), suggestions: [], oncompare: vi.fn() },
    context: backendContext(backend),
  });
}

afterEach(() => vi.restoreAllMocks());

describe("the workbench's keys and card buttons", () => {
  it("Ctrl+Enter and Cmd+Enter in the prompt run the roundtable; Enter alone does not", async () => {
    const wb = new Workbench();
    wb.input = "Why is the sky blue?";
    wb.panel = [draftModel("fake/a")];
    const start = vi.spyOn(wb, "start").mockResolvedValue();
    renderWorkbench(wb);
    const prompt = screen.getByTestId("prompt");
    await fireEvent.keyDown(prompt, { key: "Enter" });
    expect(start).not.toHaveBeenCalled();
    await fireEvent.keyDown(prompt, { key: "Enter", ctrlKey: true });
    expect(start).toHaveBeenCalledTimes(1);
    await fireEvent.keyDown(prompt, { key: "Enter", metaKey: true });
    expect(start).toHaveBeenCalledTimes(2);
  });

  it("a card expands alone, and Escape brings the others back", async () => {
    const wb = new Workbench();
    wb.run = finished([BASE, OTHER]);
    renderWorkbench(wb);
    expect(screen.getAllByTestId("model-card")).toHaveLength(2);
    await fireEvent.click(screen.getByRole("button", { name: /Expand fake\/m1/ }));
    const alone = screen.getAllByTestId("model-card");
    expect(alone).toHaveLength(1);
    expect(alone[0].dataset.model).toBe("fake/m1");
    await fireEvent.keyDown(alone[0], { key: "Escape" });
    expect(screen.getAllByTestId("model-card")).toHaveLength(2);
  });

  it("Copy puts the card's answer on the clipboard and says so", async () => {
    const writeText = vi.fn().mockResolvedValue(undefined);
    Object.defineProperty(navigator, "clipboard", { value: { writeText }, configurable: true });
    const wb = new Workbench();
    wb.run = finished([BASE, OTHER]);
    renderWorkbench(wb);
    const card = screen.getAllByTestId("model-card")[1];
    const copy = [...card.querySelectorAll("button")].find((b) => b.textContent?.trim() === "Copy")!;
    await fireEvent.click(copy);
    expect(writeText).toHaveBeenCalledWith(OTHER);
    await vi.waitFor(() => expect(copy.textContent?.trim()).toBe("Copied"));
  });
});

describe("the compare view", () => {
  function compare(texts: string[]) {
    const wb = new Workbench();
    wb.run = finished(texts);
    wb.compare = texts.map((_, i) => i);
    render(CompareView, { props: { wb, onback: vi.fn() } });
  }
  const marked = (tag: string) => [...document.querySelectorAll(tag)].map((e) => e.textContent!.trim());

  it("marks the words an answer adds and drops against the baseline, with how much is the same", async () => {
    compare([BASE, OTHER]);
    expect(marked("ins")).toEqual(["dust"]);
    expect(marked("del")).toEqual(["air", "more"]);
    const badges = [...document.querySelectorAll("article header .badge")].map((b) => b.textContent);
    expect(badges[0]).toBe("baseline");
    expect(badges[1]).toMatch(/^\d+% same$/);
    expect(Number(badges[1]!.replace(/% same$/, ""))).toBeGreaterThan(60);

    // Removed words can be hidden; the other answer can be the baseline.
    await fireEvent.click(screen.getByLabelText("Show removed words"));
    expect(marked("del")).toEqual([]);
    await fireEvent.change(screen.getByLabelText("Baseline answer"), { target: { value: "1" } });
    await fireEvent.click(screen.getByLabelText("Show removed words"));
    expect(marked("ins")).toEqual(["air", "more"]);
    expect(marked("del")).toEqual(["dust"]);
  });

  it("asks for two answers when fewer are picked", () => {
    compare([BASE]);
    expect(screen.getByText("Pick two or more answers")).toBeTruthy();
    expect(document.querySelector("ins, del")).toBeNull();
  });
});
