import { describe, expect, it } from "vitest";
import { JsonSyntaxError, parseJson, stringifyJson, type JsonValue } from "./json-text.js";

describe("parseJson", () => {
  const same: string[] = [
    "{}",
    "[]",
    '{"a":1,"b":[true,false,null],"c":{"d":"e"}}',
    '"\\u00e9\\n\\"\\\\\\/"',
    "-0.5e-3",
    "1E+2",
    '[1, 2.5, "x", {"y": [ ]}]',
    ' \t\n\r{ "k" : "v" } \n',
    '"€ and 😀"',
  ];
  it.each(same)("agrees with JSON.parse on %j", (text) => {
    expect(parseJson(text)).toEqual(JSON.parse(text));
  });

  it("accepts the bare NaN and Infinity literals Python writes", () => {
    const v = parseJson('{"value": NaN, "hi": Infinity, "lo": -Infinity, "list": [NaN,-Infinity]}') as Record<string, JsonValue>;
    expect(v.value).toBeNaN();
    expect(v.hi).toBe(Infinity);
    expect(v.lo).toBe(-Infinity);
    expect(v.list).toEqual([NaN, -Infinity]);
  });

  it("reads long floats natively and long integers exactly, wherever they sit", () => {
    // 17-digit fractions (what Python's repr writes) take the native path; integers of 16+ digits never do.
    expect(parseJson('{"v": 0.30000000000000004, "w": 1.2345678901234567e-7, "t": 1700000000000}')).toEqual({
      v: 0.30000000000000004,
      w: 1.2345678901234567e-7,
      t: 1700000000000,
    });
    expect(parseJson('{"v": 0.5, "step": 12345678901234567}')).toEqual({ v: 0.5, step: 12345678901234567n });
    expect(parseJson('{"step": 1234567890123456789, "x": "9007199254740993"}')).toEqual({ step: 1234567890123456789n, x: "9007199254740993" });
    const proto = parseJson('{"__proto__": {"polluted": true}}') as Record<string, JsonValue>;
    expect(Object.getPrototypeOf(proto)).toBe(Object.prototype);
    expect(Object.keys(proto)).toEqual(["__proto__"]);
  });

  it("leaves the words alone inside strings", () => {
    expect(parseJson('{"s": "NaN", "t": "-Infinity"}')).toEqual({ s: "NaN", t: "-Infinity" });
  });

  it("keeps integers beyond 2^53 exact as bigint, and safe ones as numbers", () => {
    expect(parseJson("[9007199254740993, -9223372036854775808, 9007199254740991, 1.5, 1e300]")).toEqual([
      9007199254740993n,
      -9223372036854775808n,
      9007199254740991,
      1.5,
      1e300,
    ]);
  });

  it("makes __proto__ an own property, never the prototype", () => {
    const v = parseJson('{"__proto__": {"polluted": true}, "a": 1}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(v)).toEqual(["__proto__", "a"]);
  });

  it("lets the last of duplicate keys win", () => {
    expect(parseJson('{"a":1,"a":2}')).toEqual({ a: 2 });
  });

  const malformed: Array<[string, string]> = [
    ["", "Unexpected end of JSON input"],
    ["{", "Unexpected end of JSON input, expected a property name in double quotes"],
    ['{"a" 1}', "Unexpected character '1' at position 5, expected ':'"],
    ['{"a":1,}', "Unexpected character '}' at position 7, expected a property name"],
    ["[1 2]", "Unexpected character '2' at position 3, expected ',' or ']'"],
    ["{'a':1}", "Unexpected character ''' at position 1"],
    ['{"a":1}x', "Unexpected character 'x' at position 7"],
    ["nan", "Unexpected character 'n' at position 0"],
    ["NaNa", "Unexpected character 'a' at position 3"],
    ["-", "Unexpected end of JSON input, expected a digit"],
    ["01", "Unexpected character '1' at position 1"],
    ["1.", "expected a digit"],
    ["1e", "expected a digit"],
    ['"abc', "Unterminated string starting at position 0"],
    ['"a\\x"', "Invalid escape sequence"],
    ['"a\nb"', "Unescaped control character in string at position 2"],
    ["tru", "Unexpected character 't' at position 0"],
    ["[".repeat(300), "nested deeper than 256"],
  ];
  it.each(malformed)("rejects %j", (text, message) => {
    expect(() => parseJson(text)).toThrow(JsonSyntaxError);
    expect(() => parseJson(text)).toThrow(message);
  });

  it.each([
    ["100,000 nested lists (well-formed: the native parser takes it)", `${"[".repeat(100_000)}${"]".repeat(100_000)}`],
    ["a deep value inside a field", `{"name": ${"[".repeat(100_000)}1${"]".repeat(100_000)}}`],
    ["257 nested objects", `${'{"a":'.repeat(257)}1${"}".repeat(257)}`],
  ])("refuses nesting deeper than 256 levels on every path: %s", (_label, text) => {
    expect(() => parseJson(text)).toThrow("nested deeper than 256");
  });

  it("takes 256 levels of nesting", () => {
    expect(() => parseJson(`${"[".repeat(256)}${"]".repeat(256)}`)).not.toThrow();
  });

  it.each([
    ['{"name": "\\ud800"}', "d800"],
    ['{"name": "x\\udfffy"}', "dfff"],
    ['{"\\udc00": 1}', "dc00"],
    ['["\\udbff\\u0041", NaN]', "dbff"],
    ['{"a": ["ok", "\\ud800"], "n": 12345678901234567}', "d800"],
  ])("refuses a lone surrogate in %s", (text, hex) => {
    expect(() => parseJson(text)).toThrow(JsonSyntaxError);
    expect(() => parseJson(text)).toThrow(`lone surrogate \\u${hex}`);
  });

  it("takes surrogate pairs", () => {
    expect(parseJson('{"e": "\\ud83d\\ude00"}')).toEqual({ e: "\u{1F600}" });
  });
});

describe("stringifyJson", () => {
  it("writes bigint as a bare number and matches JSON.stringify otherwise", () => {
    expect(stringifyJson({ a: 9007199254740993n, b: [1, "x\n", true, null], c: {} })).toBe(
      '{"a":9007199254740993,"b":[1,"x\\n",true,null],"c":{}}',
    );
  });

  it("round-trips through parseJson", () => {
    const v: JsonValue = { big: -9223372036854775808n, s: "é\u2028", n: [0, -1.5e-7, 12345678.9] };
    expect(parseJson(stringifyJson(v))).toEqual(v);
  });
});
