import { describe, expect, it } from "vitest";
import { WrittenFloat, pythonDumps, pythonFloat, pythonJson, pythonStr } from "./python-format.js";

describe("pythonFloat (Python's repr, checked against CPython 3.11)", () => {
  it.each([
    [9, "9.0"],
    [1.5, "1.5"],
    [1e16, "1e+16"],
    [1e15, "1000000000000000.0"],
    [123456789012345678, "1.2345678901234568e+17"],
    [1.5e-7, "1.5e-07"],
    [0.0001, "0.0001"],
    [0.00001, "1e-05"],
    [-0, "-0.0"],
    [-2.5, "-2.5"],
    [1e300, "1e+300"],
    [5e-324, "5e-324"],
    [0.1 + 0.2, "0.30000000000000004"],
    [100, "100.0"],
    [1e22, "1e+22"],
    [12345.678, "12345.678"],
    [Number.NaN, "NaN"],
    [-Infinity, "-Infinity"],
  ])("%d → %s", (n, repr) => {
    expect(pythonFloat(n)).toBe(repr);
  });
});

describe("pythonJson (json.dumps with sort_keys and compact separators)", () => {
  it("sorts keys, keeps a written float's point, escapes non-ASCII", () => {
    const doc = { b: [1, new WrittenFloat(2), { z: "é", a: true }], a: null };
    expect(pythonJson(doc)).toBe('{"a":null,"b":[1,2.0,{"a":true,"z":"\\u00e9"}]}');
  });

  it("writes json.dumps' default separators, and its indent form", () => {
    const doc = { columns: ["name", "prompt"], data: [["Bob", null]], n: 0.5 };
    expect(pythonDumps(doc)).toBe('{"columns": ["name", "prompt"], "data": [["Bob", null]], "n": 0.5}');
    expect(pythonDumps({ inputs: { inputs: ["Bob"] }, e: [] }, { indent: 2 })).toBe('{\n  "inputs": {\n    "inputs": [\n      "Bob"\n    ]\n  },\n  "e": []\n}');
  });

  it("str() of parameter values", () => {
    expect([pythonStr("x"), pythonStr(10), pythonStr(0.5), pythonStr(new WrittenFloat(2)), pythonStr(true), pythonStr(null)]).toEqual(["x", "10", "0.5", "2.0", "True", "None"]);
  });

  it("shows integral numbers not known as floats as ints, others as floats", () => {
    expect([pythonJson(9), pythonJson(9.5), pythonJson(new WrittenFloat(9)), pythonJson(2n ** 64n)]).toEqual(["9", "9.5", "9.0", "18446744073709551616"]);
  });
});

