import { describe, expect, it } from "vitest";
import { pythonJson } from "../domain/python-format.js";
import { valueAtParam } from "./as-written.js";
import { parseJsonAsWritten } from "./json-text.js";

describe("valueAtParam", () => {
  const doc = parseJsonAsWritten('{"artifactLocation": 9.0, "tags": [{"key": "k", "value": 1e2}], "m": {"x.y": 3}}');
  it.each([
    ["artifact_location", "9.0"],
    ["tags[0].value", "100.0"],
    ["m[x.y]", "3"],
  ])("%s", (param, shown) => {
    expect(pythonJson(valueAtParam(doc, param)!)).toBe(shown);
  });
  it("is undefined for a path the body does not have", () => {
    expect(valueAtParam(doc, "tags[3].key")).toBeUndefined();
    expect(valueAtParam(doc, "name")).toBeUndefined();
  });
});
