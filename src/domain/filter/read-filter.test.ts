/**
 * The one filter reader under every search: its structure (comparisons, comparators, values, lists), the experiment
 * grammar's messages, and a fuzz of all five filter grammars and their order_by parsers that only ever gets
 * INVALID_PARAMETER_VALUE AppErrors (no other exception, no hang) and keeps injection attempts literal.
 */
import { describe, expect, it } from "vitest";
import { AppError, ErrorCode } from "../errors.js";
import { parseExperimentFilter, parseExperimentOrderBy } from "./experiment-search.js";
import { parseLoggedModelFilter, parseLoggedModelOrderBy } from "./logged-model-search.js";
import { parseModelVersionFilter, parseModelVersionOrderBy } from "./model-version-search.js";
import { parseRunFilter } from "./parse-filter.js";
import { parseOrderBy } from "./parse-order-by.js";
import { type FilterSyntax, readComparisons } from "./read-filter.js";
import { parseRegisteredModelFilter, parseRegisteredModelOrderBy } from "./registered-model-search.js";
import { parseError } from "../../../test/harness/parse-error.js";

describe("readComparisons", () => {
  const syntax = (over: Partial<FilterSyntax> = {}): FilterSyntax => ({
    invalidClause: (f) => new AppError(ErrorCode.INVALID_PARAMETER_VALUE, `bad: ${f}`),
    nullTests: true,
    strictValues: false,
    readAllFirst: false,
    ...over,
  });
  const read = (filter: string, over?: Partial<FilterSyntax>) => [...readComparisons(filter, syntax(over))];

  it("reads identifiers, comparators and values as written", () => {
    expect(read("metrics.`a b` >= -1.5e2 and tags.x IS NOT NULL AND name NOT IN ('a', \"b\") and p = 'it''s'")).toEqual([
      { parts: [{ text: "metrics", quote: "" }, { text: "a b", quote: "`" }], identifier: "metrics.`a b`", comparator: ">=", value: { kind: "number", value: -150, raw: "-1.5e2" } },
      { parts: [{ text: "tags", quote: "" }, { text: "x", quote: "" }], identifier: "tags.x", comparator: "IS NOT NULL" },
      {
        parts: [{ text: "name", quote: "" }],
        identifier: "name",
        comparator: "NOT IN",
        value: { kind: "list", raw: "('a',\"b\")", items: expect.any(Array) },
      },
      { parts: [{ text: "p", quote: "" }], identifier: "p", comparator: "=", value: { kind: "string", value: "it's", raw: "'it''s'", quote: "'" } },
    ]);
  });

  it("hands non-literal values to lenient grammars and refuses them in strict ones", () => {
    expect(read("a = true")[0]!.value).toEqual({ kind: "word", raw: "true" });
    expect(read("a =")[0]!.value).toEqual({ kind: "other", raw: "" });
    expect(read("a = `x`")[0]!.value).toEqual({ kind: "other", raw: "`x`" });
    expect(parseError(() => read("a = true", { strictValues: true }))).toBe("bad: true");
    expect(parseError(() => read("a =", { strictValues: true }))).toBe("bad: a =");
    expect(read("a = bare", { strictValues: true })[0]!.value).toEqual({ kind: "word", raw: "bare" });
  });

  it("reads lazily, so a lenient grammar judges a clause before the next one is read", () => {
    const it = readComparisons("a = 1 OR b = 2", syntax());
    expect(it.next().value).toMatchObject({ identifier: "a" });
    expect(parseError(() => it.next())).toBe("bad: OR");
  });

  it.each([
    ["a = 1 OR b = 2", "bad: OR"],
    ["(a = 1)", "bad: ("],
    ["a = 1 AND", "bad: a = 1 AND"],
    ["a IN 'x'", "bad: 'x'"],
    ["a IN ('x'", "bad: a IN ('x'"],
    ["a IS NULL", "bad: IS"],
  ])("%s → %s", (filter, message) => {
    expect(parseError(() => read(filter, { nullTests: filter !== "a IS NULL" }))).toBe(message);
  });
});

describe("experiment filter", () => {
  it.each([
    ["name = 'a'", [{ type: "attribute", key: "name", comparator: "=", value: "a" }]],
    ["attributes.name ILIKE \"%x%\"", [{ type: "attribute", key: "name", comparator: "ILIKE", value: "%x%" }]],
    ["creation_time >= 5 and attr.last_update_time < 9", [
      { type: "attribute", key: "creation_time", comparator: ">=", value: 5 },
      { type: "attribute", key: "last_update_time", comparator: "<", value: 9 },
    ]],
    ["tags.`a.b` != 'x' and tag.t IS NULL", [
      { type: "tag", key: "a.b", comparator: "!=", value: "x" },
      { type: "tag", key: "t", comparator: "IS NULL" },
    ]],
  ])("%s", (filter, clauses) => {
    expect(parseExperimentFilter(filter)).toEqual(clauses);
  });

  it.each([
    ["params.x = 'a'", "Invalid entity type 'params'. Valid values are ['tag', 'attribute']"],
    ["artifact_location = 'a'", "Invalid attribute key 'artifact_location' specified. Valid keys are '['name', 'creation_time', 'last_update_time']'"],
    ["name > 'a'", "Invalid comparator '>' not one of '{'=', '!=', 'LIKE', 'ILIKE'}'"],
    ["creation_time LIKE 'a'", "Invalid comparator 'LIKE' not one of '{'=', '!=', '>', '>=', '<', '<='}'"],
    ["creation_time > 'a'", "Expected numeric value type for numeric attribute: creation_time. Found 'a'"],
    ["name = 5", "Expected a quoted string value for attributes (e.g. 'my-value'). Got value 5"],
    ["tags.t = x", "Expected a quoted string value for tag (e.g. 'my-value'). Got value x"],
    ["name", "Invalid comparison clause. Expected comparison found 'end of filter'"],
    ["name = 'a' OR name = 'b'", "Invalid clause(s) in filter string: 'OR'"],
  ])("%s → %s", (filter, message) => {
    expect(parseError(() => parseExperimentFilter(filter))).toBe(message);
  });

  it("orders by its four keys, creation_time DESC by default", () => {
    expect(parseExperimentOrderBy([])).toEqual([
      { key: "creation_time", ascending: false },
      { key: "experiment_id", ascending: false },
    ]);
    expect(parseExperimentOrderBy(["attributes.name DESC", "`experiment_id`"])).toEqual([
      { key: "name", ascending: false },
      { key: "experiment_id", ascending: true },
    ]);
    expect(parseError(() => parseExperimentOrderBy(["tags.x"]))).toBe("Invalid order_by clause 'tags.x'. Could not be parsed.");
    expect(parseError(() => parseExperimentOrderBy(["colour"]))).toBe(
      'Invalid order by key \'colour\' specified. Valid keys are ["name","experiment_id","creation_time","last_update_time"]',
    );
    expect(parseError(() => parseExperimentOrderBy(["name", "name DESC"]))).toBe("`order_by` contains duplicate fields: ['name DESC']");
  });
});

describe("every search's parsers under fuzz", () => {
  const parsers: [string, (s: string) => unknown][] = [
    ["runs", parseRunFilter],
    ["experiments", parseExperimentFilter],
    ["registered models", parseRegisteredModelFilter],
    ["model versions", parseModelVersionFilter],
    ["logged models", parseLoggedModelFilter],
    ["run order_by", (s) => parseOrderBy([s])],
    ["experiment order_by", (s) => parseExperimentOrderBy([s])],
    ["registered-model order_by", (s) => parseRegisteredModelOrderBy([s])],
    ["model-version order_by", (s) => parseModelVersionOrderBy([s])],
    ["logged-model order_by", (s) => parseLoggedModelOrderBy([{ fieldName: s }])],
  ];
  const alphabet = ["metrics.", "params.", "tags.", "attributes.", "name", "run_id", "version_number", "creation_time", "model_type", "r2", "=", "!=", ">", "<=", " ", " AND ", " OR ", "LIKE", "ILIKE", "IS", "NOT", "NULL", "IN", "(", ")", ",", "'", '"', "`", ".", "-", "1", "0.5", "e9", "%", "_", "\\", "$ne", "{", "}", ";", "\u0000", "é", "𝄞", " ASC", " DESC"];

  it("never throws anything but INVALID_PARAMETER_VALUE, and parses some", () => {
    let seed = 1234;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const parsed = new Map<string, number>(parsers.map(([name]) => [name, 0]));
    for (let i = 0; i < 20_000; i++) {
      const n = 1 + Math.floor(rnd() * 10);
      let s = "";
      for (let j = 0; j < n; j++) s += rnd() < 0.1 ? String.fromCharCode(Math.floor(rnd() * 0x3000)) : alphabet[Math.floor(rnd() * alphabet.length)]!;
      for (const [name, parse] of parsers) {
        try {
          parse(s);
          parsed.set(name, parsed.get(name)! + 1);
        } catch (err) {
          if (!(err instanceof AppError) || err.code !== ErrorCode.INVALID_PARAMETER_VALUE) throw new Error(`${name}: ${JSON.stringify(s)} threw ${String(err)}`);
        }
      }
    }
    for (const [name, count] of parsed) expect(count, name).toBeGreaterThan(0);
  });

  it("keeps operators, quotes and SQL in values literal", () => {
    const evil = "x' OR '1'='1\"; DROP TABLE t; --{\"$ne\": null}";
    const quoted = `'${evil.replaceAll("'", "''")}'`;
    expect(parseRunFilter(`params.p = ${quoted}`)).toEqual([{ type: "param", key: "p", comparator: "=", value: evil }]);
    expect(parseExperimentFilter(`name = ${quoted}`)).toEqual([{ type: "attribute", key: "name", comparator: "=", value: evil }]);
    expect(parseRegisteredModelFilter(`tags.t = ${quoted}`).clauses).toEqual([{ type: "tag", key: "t", comparator: "=", value: evil }]);
    expect(parseModelVersionFilter(`run_id IN (${quoted})`).clauses).toEqual([{ type: "attribute", key: "run_id", comparator: "IN", values: [evil] }]);
    expect(parseLoggedModelFilter(`params.p LIKE ${quoted}`)).toEqual([{ type: "param", key: "p", comparator: "LIKE", value: evil }]);
  });
});
