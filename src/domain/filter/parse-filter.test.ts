/** The run filter and order-by parsers: the grammar, MLflow's messages, and a fuzz that only ever gets AppErrors. */
import { describe, expect, it } from "vitest";
import { AppError, ErrorCode } from "../errors.js";
import { decodeRunPageToken, encodeRunPageToken, parseOrderBy, parseRunFilter } from "./index.js";
import { parseError } from "../../../test/harness/parse-error.js";

describe("parseRunFilter", () => {
  it.each([
    ["", []],
    ["   ", []],
    ["metrics.r2 > 0.5", [{ type: "metric", key: "r2", comparator: ">", value: 0.5 }]],
    ["metric.loss <= -1e-3", [{ type: "metric", key: "loss", comparator: "<=", value: -0.001 }]],
    ["metrics.a.b.c = .5", [{ type: "metric", key: "a.b.c", comparator: "=", value: 0.5 }]],
    ['metrics."my key" != 2', [{ type: "metric", key: "my key", comparator: "!=", value: 2 }]],
    ["metrics.`my.key` >= 2", [{ type: "metric", key: "my.key", comparator: ">=", value: 2 }]],
    ["`metrics`.`k` < 1", [{ type: "metric", key: "k", comparator: "<", value: 1 }]],
    ["params.symbol = 'AAPL'", [{ type: "param", key: "symbol", comparator: "=", value: "AAPL" }]],
    ['param.symbol = "AAPL"', [{ type: "param", key: "symbol", comparator: "=", value: "AAPL" }]],
    ["parameters.s LIKE 'A%'", [{ type: "param", key: "s", comparator: "LIKE", value: "A%" }]],
    ["tags.team ilike 'al_ha'", [{ type: "tag", key: "team", comparator: "ILIKE", value: "al_ha" }]],
    ["tag.note IS NULL", [{ type: "tag", key: "note", comparator: "IS NULL" }]],
    ["tags.note is not null", [{ type: "tag", key: "note", comparator: "IS NOT NULL" }]],
    ["params.q = 'it''s'", [{ type: "param", key: "q", comparator: "=", value: "it's" }]],
    ["params.q = 'a\\'b'", [{ type: "param", key: "q", comparator: "=", value: "a'b" }]],
    ["attributes.status = 'FINISHED'", [{ type: "attribute", key: "status", comparator: "=", value: "FINISHED" }]],
    ["run_name != 'x'", [{ type: "attribute", key: "run_name", comparator: "!=", value: "x" }]],
    ['"run name" = \'x\'', [{ type: "attribute", key: "run_name", comparator: "=", value: "x" }]],
    ["attr.start_time > 5", [{ type: "attribute", key: "start_time", comparator: ">", value: 5 }]],
    ["run.created >= 5", [{ type: "attribute", key: "start_time", comparator: ">=", value: 5 }]],
    ["attributes.run_id IN ('a', \"b\")", [{ type: "attribute", key: "run_id", comparator: "IN", values: ["a", "b"] }]],
    ["run_id not in ('a')", [{ type: "attribute", key: "run_id", comparator: "NOT IN", values: ["a"] }]],
    [
      "metrics.r2 > 0.5 and params.symbol = 'AAPL' AND tags.x IS NULL",
      [
        { type: "metric", key: "r2", comparator: ">", value: 0.5 },
        { type: "param", key: "symbol", comparator: "=", value: "AAPL" },
        { type: "tag", key: "x", comparator: "IS NULL" },
      ],
    ],
  ])("%s", (filter, expected) => {
    expect(parseRunFilter(filter)).toEqual(expected);
  });

  it.each([
    ["metrics.A > 0.1 OR params.B = 'LR'", "Invalid clause(s) in filter string: 'OR'"],
    ["metrics.A > 0.1 AND (params.B = 'LR')", "Invalid clause(s) in filter string: '('"],
    ["metrics.A > 0.1 AND", "Invalid clause(s) in filter string"],
    ["foo.x = 1", "Invalid entity type 'foo'. Valid values are ['metric', 'parameter', 'tag', 'attribute', 'dataset']"],
    ["metrics.acc = 'x'", "Expected numeric value type for metric. Found 'x'"],
    ["metrics.acc LIKE '1'", "Invalid comparator 'LIKE' not one of"],
    ["metrics.acc IS NULL", "Invalid comparator 'IS NULL' not one of"],
    ["params.p > 'a'", "Invalid comparator '>' not one of"],
    ["params.p = 1", "Expected a quoted string value for parameter (e.g. 'my-value'). Got value 1"],
    ["tags.t = abc", "Parameter value is either not quoted or unidentified quote types used for string value abc"],
    ["attributes.nope = 'x'", "Invalid attribute key 'nope' specified. Valid keys are"],
    ["attributes.status IN ('a')", "Only the 'run_id' attribute supports comparison with a list of quoted string values."],
    ["attributes.start_time = 'x'", "Expected numeric value type for numeric attribute: start_time. Found 'x'"],
    ["attributes.run_id IN ('a', 1)", "While parsing a list in the query"],
    ["params.p = 'unterminated", "Invalid clause(s) in filter string"],
    ["metrics.r2 >", "Expected numeric value type for metric. Found nothing"],
    ["metrics.r2 == 1", "Invalid comparator '==' not one of"],
    ["metrics.r2 > 1e999", "Expected numeric value type for metric"],
    ["datasets.name = 'x'", "Filtering runs by datasets is not supported by Logbook yet."],
    ["params.x = '1'; DROP TABLE runs", "Invalid clause(s) in filter string: ';"],
  ])("rejects %s", (filter, message) => {
    expect(parseError(() => parseRunFilter(filter))).toContain(message);
  });

  it("fuzz: random input never throws anything but INVALID_PARAMETER_VALUE", () => {
    const alphabet = ["metrics.", "params.", "tags.", "attributes.", "run_id", "r2", "=", "!=", ">", "<=", " ", " AND ", " OR ", "LIKE", "ILIKE", "IS", "NOT", "NULL", "IN", "(", ")", ",", "'", '"', "`", ".", "-", "1", "0.5", "e9", "%", "_", "\\", "$ne", "{", "}", ";", "\u0000", "é", "𝄞"];
    let seed = 42;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    let parsed = 0;
    for (let i = 0; i < 20_000; i++) {
      const n = 1 + Math.floor(rnd() * 12);
      let s = "";
      for (let j = 0; j < n; j++) s += rnd() < 0.1 ? String.fromCharCode(Math.floor(rnd() * 0x3000)) : alphabet[Math.floor(rnd() * alphabet.length)]!;
      try {
        parseRunFilter(s);
        parsed++;
      } catch (err) {
        if (!(err instanceof AppError) || err.code !== ErrorCode.INVALID_PARAMETER_VALUE) throw new Error(`${JSON.stringify(s)} threw ${String(err)}`);
      }
      try {
        parseOrderBy([s]);
      } catch (err) {
        if (!(err instanceof AppError) || err.code !== ErrorCode.INVALID_PARAMETER_VALUE) throw new Error(`order_by ${JSON.stringify(s)} threw ${String(err)}`);
      }
    }
    expect(parsed).toBeGreaterThan(0);
  });
});

describe("parseOrderBy", () => {
  it("parses identifiers, directions and aliases", () => {
    expect(parseOrderBy(["metrics.sharpe_ratio DESC", "params.`a b` asc", "created", "attributes.run_name DESC"])).toEqual([
      { type: "metric", key: "sharpe_ratio", ascending: false },
      { type: "param", key: "a b", ascending: true },
      { type: "attribute", key: "start_time", ascending: true },
      { type: "attribute", key: "run_name", ascending: false },
    ]);
  });

  it.each([
    [["metrics.x DESC extra"], "Invalid order_by clause 'metrics.x DESC extra'. Could not be parsed."],
    [["metrics.x sideways"], "Invalid order_by clause"],
    [["= 1"], "Invalid order_by clause"],
    [["attributes.nope"], "Invalid attribute key 'nope' specified"],
    [["metrics.x", "metrics.x DESC"], "`order_by` contains duplicate fields"],
  ])("rejects %j", (entries, message) => {
    expect(parseError(() => parseOrderBy(entries))).toContain(message);
  });
});

describe("run page tokens", () => {
  const order = parseOrderBy(["metrics.x DESC", "params.p"]);
  const key = { terms: [[0, Number.NEGATIVE_INFINITY], [2, null]] as [0 | 1 | 2, number | string | null][], startTime: 5, runId: "abc" };

  it("round-trip, ±Infinity included", () => {
    expect(decodeRunPageToken(encodeRunPageToken(key, order), order)).toEqual(key);
  });

  it("reject tampering and another order", () => {
    const token = encodeRunPageToken(key, order);
    expect(parseError(() => decodeRunPageToken(token, parseOrderBy(["metrics.x ASC", "params.p"])))).toBe("Invalid page token");
    for (const bad of ["x y", "abc", Buffer.from('{"o":1}').toString("base64url"), token.slice(1)]) {
      expect(parseError(() => decodeRunPageToken(bad, order))).toBe("Invalid page token");
    }
  });
});
