// Where the answers agree: the panel expanded for samples, the cards grouped,
// the field table's cells, the heatmap's colours, the claims by kind, and the
// request a workbench with claims and samples sends (against the fake backend).
import { describe, expect, it, vi } from "vitest";
import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { expandPanel, fieldCells, fieldsAgreeing, groupClaims, groupSimilarity, heatColor, heatInk, sampleGroups, voteShare } from "../lib/agreement";
import AgreementPanel from "../lib/components/AgreementPanel.svelte";
import WorkbenchView from "../lib/views/WorkbenchView.svelte";
import { RunState } from "../lib/state/run.svelte";
import { Workbench, collapseSamples } from "../lib/state/workbench.svelte";
import { Settings, draftModel } from "../lib/state/settings.svelte";
import { backendContext, type ClaimMatrix, type FieldTable, type Meta, type Similarity } from "../lib/ipc/backend";
import { FakeBackend } from "../lib/testing/fake-backend";
import { response, result } from "./fixtures";

const TABLE: FieldTable = {
  answers: [0, 1, 2, 3],
  invalid: [3],
  fields: [
    { pointer: "/city", values: [{ value: "Paris", results: [0, 1] }, { value: "Lyon", results: [2] }], majority: "Paris", share: 2 / 3 },
    { pointer: "/n", values: [{ value: 1, results: [0] }, { value: 2, results: [1] }], missing: [2], majority: null, share: 1 / 3 },
    { pointer: "/ok", values: [{ value: true, results: [0, 1, 2] }], majority: true, share: 1 },
  ],
};
const SIM: Similarity = {
  results: [0, 1, 2],
  matrix: [
    [1, 0.9, 0.2],
    [0.9, 1, 0.3],
    [0.2, 0.3, 1],
  ],
  mean: [0.55, 0.6, 0.25],
  outliers: [2],
};
const CLAIMS: ClaimMatrix = {
  results: [0, 1, 2],
  claims: [
    { text: "Paris is the capital", stances: ["supports", "supports", "supports"], kind: "unanimous" },
    { text: "<img src=x onerror=alert(1)> Lyon is", stances: ["contradicts", "silent", "supports"], kind: "contested" },
    { text: "It is large", stances: ["supports", "supports", "silent"], kind: "majority" },
  ],
  agreement_rate: 2 / 3,
};

function meta(extra: Partial<Meta>): Meta {
  return { resolution: "summary", models_used: [], total_cost: 0, total_duration_ms: 1, summary_model: "fake/s", ...extra };
}

describe("samples", () => {
  it("expands a sampled entry as the engine does, and keeps an expanded panel as it is", () => {
    const panel = expandPanel([{ name: "fake/a", samples: 3, temperature: 1 }, { name: "fake/b" }]);
    expect(panel).toEqual([
      { name: "fake/a", temperature: 1, sample: 1 },
      { name: "fake/a", temperature: 1, sample: 2 },
      { name: "fake/a", temperature: 1, sample: 3 },
      { name: "fake/b" },
    ]);
    expect(expandPanel(panel)).toEqual(panel);
    expect(sampleGroups(panel)).toEqual([{ name: "fake/a", indices: [0, 1, 2] }]);
    // Two entries of one model, each sampled twice: two groups.
    expect(sampleGroups(expandPanel([{ name: "x/m", samples: 2 }, { name: "x/m", samples: 2 }])).map((g) => g.indices)).toEqual([[0, 1], [2, 3]]);
    expect(collapseSamples(panel)).toEqual([{ name: "fake/a", temperature: 1, samples: 3 }, { name: "fake/b" }]);
  });

  it("builds a card per sample, as RunStarted lists the panel", () => {
    const run = new RunState("h", { input: "q", models: [{ name: "fake/a", samples: 3 }, { name: "fake/b" }] });
    expect(run.cards.map((c) => c.model)).toEqual(["fake/a", "fake/a", "fake/a", "fake/b"]);
    run.apply({ type: "run_started", id: "rt_1", trace_uuid: "t", models: ["fake/a", "fake/a", "fake/a", "fake/b"] });
    expect(run.cards).toHaveLength(4);
    run.apply({ type: "model_finished", result: result(3, "fake/b", "B") });
    expect(run.cards[3].text).toBe("B");
  });

  it("measures a group's agreement: its pairs' mean similarity, or its votes' share", () => {
    expect(groupSimilarity(SIM, (i) => i, [0, 1])).toBeCloseTo(0.9);
    expect(groupSimilarity(SIM, (i) => i, [0, 1, 2])).toBeCloseTo((0.9 + 0.2 + 0.3) / 3);
    expect(groupSimilarity(null, (i) => i, [0, 1])).toBeNull();
    expect(voteShare(["A", "B", "A", null])).toEqual({ choice: "A", share: 0.5, votes: 2, answers: 4 });
    expect(voteShare([null])).toBeNull();
  });
});

describe("the agreement views' logic", () => {
  it("groups a field's equal values, the majority first, and marks missing and invalid", () => {
    expect(fieldCells(TABLE, TABLE.fields[0])).toEqual([
      { kind: "value", text: "Paris", group: 0, majority: true },
      { kind: "value", text: "Paris", group: 0, majority: true },
      { kind: "value", text: "Lyon", group: 1, majority: false },
      { kind: "invalid" },
    ]);
    const n = fieldCells(TABLE, TABLE.fields[1]);
    expect(n[0]).toEqual({ kind: "value", text: "1", group: 0, majority: false });
    expect(n[2]).toEqual({ kind: "missing" });
    expect(fieldsAgreeing(TABLE)).toEqual({ agreeing: 1, total: 3 });
  });

  it("colours the heatmap stronger the more similar", () => {
    const pct = (v: number) => Number(/(\d+)%/.exec(heatColor(v))![1]);
    expect(pct(1)).toBe(80);
    expect(pct(0.1)).toBe(8);
    expect(pct(0.9)).toBeGreaterThan(pct(0.6));
    expect(heatInk(0.9)).toBe("light");
    expect(heatInk(0.3)).toBe("dark");
  });

  it("orders the claims unanimous, majority, minority, contested, leaving out empty kinds", () => {
    expect(groupClaims(CLAIMS).map((g) => [g.kind, g.claims.length])).toEqual([["unanimous", 1], ["majority", 1], ["contested", 1]]);
  });
});

describe("AgreementPanel", () => {
  function finished(m: Partial<Meta>, n = 3) {
    const models = Array.from({ length: n }, (_, i) => ({ name: `fake/${"abcd"[i]}` }));
    const run = new RunState("h", { input: "q", models });
    const results = models.map((m, i) => result(i, m.name, `answer ${i}`));
    run.finish({ response: response(results, { meta: meta(m) }), status: "completed" });
    return run;
  }

  it("shows the field table with its groups and the consensus object", () => {
    render(AgreementPanel, { props: { run: finished({ agreement: { fields: TABLE, consensus: { object: { city: "Paris", ok: true }, no_majority: ["/n"] } } }, 4) } });
    const rows = screen.getAllByTestId("field-row");
    expect(rows.map((r) => r.dataset.pointer)).toEqual(["/city", "/n", "/ok"]);
    expect(within(rows[0]).getAllByTestId("field-cell").map((c) => c.dataset.group)).toEqual(["0", "0", "1", "invalid"]);
    expect(within(rows[1]).getByTestId("no-majority")).toBeTruthy();
    expect(screen.getByTestId("consensus").textContent).toContain('"city": "Paris"');
    expect(screen.getByTestId("consensus").textContent).toContain("/n");
    expect(screen.getByTestId("fields-agreeing").textContent).toBe("1/3 fields unanimous");
  });

  it("shows the heatmap with the outlier marked, and the claims as text only", () => {
    const { container } = render(AgreementPanel, { props: { run: finished({ agreement: { similarity: SIM }, claims: CLAIMS }) } });
    expect(screen.getAllByTestId("heat-cell")).toHaveLength(9);
    expect(screen.getAllByTestId("heat-row").map((r) => r.dataset.outlier)).toEqual(["false", "false", "true"]);
    expect(screen.getAllByTestId("heat-mean")[2].textContent).toContain("outlier");
    expect(screen.getAllByTestId("claims-group").map((g) => g.dataset.kind)).toEqual(["unanimous", "majority", "contested"]);
    expect(screen.getByTestId("agreement-rate").textContent).toContain("67%");
    expect(container.querySelector("img")).toBeNull();
    expect(screen.getAllByTestId("claim-row")[2].textContent).toContain("<img src=x");
  });

  it("says why there is no claims matrix, and shows a multiple-choice share", () => {
    render(AgreementPanel, { props: { run: finished({ claims_error: "the reply was not JSON", agreement: { choice: { choice: "Paris", votes: 2, answers: 3, share: 2 / 3 } } }) } });
    expect(screen.getByTestId("claims-note").textContent).toContain("the reply was not JSON");
    expect(screen.getByTestId("choice-share").textContent).toContain("67%");
  });

  it("shows nothing while the run is running", () => {
    const run = new RunState("h", { input: "q", models: [{ name: "fake/a" }] });
    render(AgreementPanel, { props: { run } });
    expect(screen.queryByTestId("agreement")).toBeNull();
  });
});

describe("the workbench with claims and samples", () => {
  it("sends consensus and samples, and shows a sampled model's cards as a group", async () => {
    const backend = new FakeBackend();
    const wb = new Workbench();
    wb.input = "Capital?";
    wb.panel = [draftModel("fake/a"), draftModel("fake/b")];
    render(WorkbenchView, { props: { wb, settings: new Settings(), suggestions: [], oncompare: vi.fn() }, context: backendContext(backend) });
    await fireEvent.click(screen.getByTestId("consensus-switch"));
    await fireEvent.click(screen.getAllByRole("button", { name: "Options of model 1" })[0]);
    await fireEvent.click(screen.getByTestId("samples-up"));
    await fireEvent.click(screen.getByTestId("samples-up"));
    expect(screen.getByTestId("row-samples").textContent).toBe("×3");
    const req = wb.request();
    expect(req.consensus).toBe(true);
    expect(req.models).toEqual([{ name: "fake/a", samples: 3 }, { name: "fake/b" }]);
    wb.resolution = "fast";
    expect(wb.request().consensus).toBeUndefined();
    wb.resolution = "summary";

    const results = [0, 1, 2].map((i) => result(i, "fake/a", "Paris", { sample: i + 1 })).concat(result(3, "fake/b", "Lyon"));
    const sim: Similarity = { results: [0, 1, 2, 3], matrix: [[1, 1, 0.9, 0.2], [1, 1, 0.9, 0.2], [0.9, 0.9, 1, 0.2], [0.2, 0.2, 0.2, 1]], mean: [0.7, 0.7, 0.67, 0.2], outliers: [3] };
    backend.script = {
      events: [{ type: "run_started", id: "rt_1", trace_uuid: "t", models: ["fake/a", "fake/a", "fake/a", "fake/b"] }],
      result: { response: response(results, { meta: meta({ agreement: { similarity: sim } }) }), status: "completed" },
    };
    await fireEvent.click(screen.getByTestId("run"));
    await waitFor(() => expect(screen.getAllByTestId("model-card")).toHaveLength(4));
    expect((backend.calls.find((c) => c.method === "run")!.args[1] as { consensus?: boolean }).consensus).toBe(true);
    const group = screen.getByTestId("sample-group");
    expect(within(group).getAllByTestId("model-card")).toHaveLength(3);
    expect(within(group).getByTestId("sample-agreement").textContent).toBe("similarity 0.93");
  });
});
