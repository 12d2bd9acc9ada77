// The output-schema editor's check, as you type: the text must be JSON, an
// object, and a valid JSON Schema (checked against the draft-07 meta-schema, with
// `$defs` allowed). @cfworker/json-schema interprets schemas without eval, which
// the window's CSP forbids (ajv compiles to code with `new Function`).
// The engine checks the schema again, authoritatively, when the run starts.
import { Validator, type Schema } from "@cfworker/json-schema";
import meta from "./draft-07.json";

export type SchemaCheck =
  | { state: "empty" }
  | { state: "valid"; schema: Record<string, unknown> }
  | { state: "invalid"; message: string };

const validator = new Validator(meta as unknown as Schema, "7", false);

export function checkSchema(text: string): SchemaCheck {
  if (!text.trim()) return { state: "empty" };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { state: "invalid", message: `Not JSON: ${(e as Error).message}` };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { state: "invalid", message: "A schema is a JSON object, e.g. {\"type\": \"object\", …}" };
  }
  const result = validator.validate(value);
  if (!result.valid) {
    // The deepest error names the offending keyword best.
    const errors = result.errors.filter((e) => e.keyword !== "$ref" && e.keyword !== "properties" && e.keyword !== "anyOf");
    const e = errors[errors.length - 1] ?? result.errors[0];
    const where = e.instanceLocation.replace(/^#\/?/, "").replaceAll("/", ".") || "(root)";
    return { state: "invalid", message: `Not a valid JSON Schema at ${where}: ${e.error}` };
  }
  return { state: "valid", schema: value as Record<string, unknown> };
}
