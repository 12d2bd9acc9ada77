import { describe, expect, it } from "vitest";
import { fireEvent, render, screen } from "@testing-library/svelte";
import SchemaEditor from "../lib/components/SchemaEditor.svelte";
import { checkSchema } from "../lib/schema/check";

describe("checkSchema", () => {
  it("accepts an empty text and valid schemas", () => {
    expect(checkSchema("  ").state).toBe("empty");
    expect(checkSchema('{"type":"object","properties":{"a":{"type":"string"}},"required":["a"]}').state).toBe("valid");
    expect(checkSchema('{"$defs":{"x":{"type":"integer","minimum":0}},"$ref":"#/$defs/x"}').state).toBe("valid");
  });
  it("rejects what is not JSON, not an object, or not a schema", () => {
    expect(checkSchema("{type: object}")).toMatchObject({ state: "invalid", message: expect.stringContaining("Not JSON") });
    expect(checkSchema("[1]")).toMatchObject({ state: "invalid", message: expect.stringContaining("JSON object") });
    expect(checkSchema('{"type":"strin"}')).toMatchObject({ state: "invalid", message: expect.stringContaining("type") });
    expect(checkSchema('{"required":"a"}').state).toBe("invalid");
    expect(checkSchema('{"properties":{"a":{"minLength":-1}}}').state).toBe("invalid");
  });
});

describe("SchemaEditor", () => {
  it("validates as you type", async () => {
    render(SchemaEditor, { props: { value: "" } });
    const editor = screen.getByTestId("schema-editor");
    const status = screen.getByTestId("schema-status");
    expect(status.textContent).toContain("No schema");
    await fireEvent.input(editor, { target: { value: '{"type": "object"' } });
    expect(status.textContent).toContain("Not JSON");
    expect(editor.getAttribute("aria-invalid")).toBe("true");
    await fireEvent.input(editor, { target: { value: '{"type": "objet"}' } });
    expect(status.textContent).toContain("Not a valid JSON Schema");
    await fireEvent.input(editor, { target: { value: '{"type": "object"}' } });
    expect(status.textContent).toContain("Valid JSON Schema");
    expect(editor.getAttribute("aria-invalid")).toBe("false");
  });
});
