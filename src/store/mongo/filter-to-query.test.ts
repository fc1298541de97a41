/**
 * The query documents the run filter compiles to, checked without a server: the shapes MongoDB's indexes need, values
 * that stay literals, and — with a small evaluator of the range operators used — that metric conditions on order keys
 * mean exactly MLflow's comparisons (the conformance suite checks the same against FerretDB).
 */
import { describe, expect, it } from "vitest";
import { holds } from "../../domain/filter/holds.js";
import { ilike, like, likeToRegexSource } from "../../domain/filter/like.js";
import { parseRunFilter } from "../../domain/filter/index.js";
import type { NumericComparator } from "../../domain/filter/ast.js";
import { clauseToQuery, filterToQuery } from "./filter-to-query.js";
import { metricOrderKey } from "./value-encoding.js";

const compile = (filter: string) => filterToQuery([], parseRunFilter(filter));

/** `value` against a condition of $gt/$gte/$lt/$lte/$exists/$not on strings (what metric conditions use). */
function satisfies(value: string | undefined, condition: Record<string, unknown>): boolean {
  return Object.entries(condition).every(([op, operand]) => {
    if (op === "$exists") return (value !== undefined) === operand;
    if (value === undefined) return false;
    if (op === "$not") return !satisfies(value, operand as Record<string, unknown>);
    const o = operand as string;
    return op === "$gt" ? value > o : op === "$gte" ? value >= o : op === "$lt" ? value < o : op === "$lte" ? value <= o : op === "$eq" ? value === o : false;
  });
}

describe("run filter → MongoDB query", () => {
  it("puts params, tags and attributes on plain fields, keys encoded, values as literals", () => {
    expect(compile("params.symbol = 'AAPL'")).toEqual({ "params.symbol.v": { $eq: "AAPL" } });
    expect(compile("tags.`a.b$c` != '{\"$ne\": 1}'")).toEqual({ "tags.a%2Eb%24c.v": { $exists: true, $ne: '{"$ne": 1}' } });
    expect(compile("params.x IS NULL and tags.y IS NOT NULL")).toEqual({
      $and: [{ "params.x": { $exists: false } }, { "tags.y": { $exists: true } }],
    });
    expect(compile("attributes.run_id IN ('a', 'b') and attributes.status = 'FINISHED' and attributes.end_time != 5")).toEqual({
      $and: [{ _id: { $in: ["a", "b"] } }, { status: { $eq: "FINISHED" } }, { end_time: { $exists: true, $ne: 5 } }],
    });
    expect(compile("attributes.run_name LIKE 'a.b%'")).toEqual({ run_name: { $regex: "^a\\.b[\\s\\S]*\\z" } });
  });

  it("turns metric comparisons into ranges of the metric's ascending order key (index metric_asc)", () => {
    const query = compile("metrics.`r.2` > 0.5");
    expect(Object.keys(query)).toEqual(["metric_asc.r%2E2"]);
  });

  it("gives metric conditions MLflow's meaning: -0 equals 0, NaN fails all but !=, a missing metric fails all", () => {
    const values = [-Infinity, -1e300, -2, -0.5, -0, 0, 5e-324, 0.5, 2, 1e300, Infinity, Number.NaN];
    const comparators: NumericComparator[] = ["=", "!=", ">", ">=", "<", "<="];
    for (const operand of values.filter((v) => !Number.isNaN(v))) {
      for (const comparator of comparators) {
        const query = clauseToQuery({ type: "metric", key: "m", comparator, value: operand });
        const condition = query["metric_asc.m"] as Record<string, unknown>;
        expect(satisfies(undefined, condition), `missing ${comparator} ${operand}`).toBe(false);
        for (const [i, value] of values.entries()) {
          const key = metricOrderKey(true, value, 1000 - i, `run${i}`);
          expect(satisfies(key, condition), `${value} ${comparator} ${operand}`).toBe(holds(value, comparator, operand));
        }
      }
    }
    expect(clauseToQuery({ type: "metric", key: "m", comparator: "=", value: Number.NaN })).toEqual({ _id: { $in: [] } });
    expect(clauseToQuery({ type: "metric", key: "m", comparator: "!=", value: Number.NaN })).toEqual({ "metric_asc.m": { $exists: true } });
  });
});

describe("LIKE patterns as server regular expressions", () => {
  /** The server's regex read by JavaScript: `\z` is JavaScript's `$` without the m flag; `\x00` reads the same. */
  const asJs = (source: string) => new RegExp(source.replace(/\\z$/, "$"));

  it("escape every special character and anchor at both ends", () => {
    expect(likeToRegexSource("a%b_c", false)).toBe("^a[\\s\\S]*b[\\s\\S]c\\z");
    expect(likeToRegexSource("Ab.", true)).toBe("^[aA][bB]\\.\\z");
    expect(likeToRegexSource("é\0$", true)).toBe("^é\\x00\\$\\z");
  });

  it("match exactly what LIKE and ILIKE match", () => {
    const alphabet = ["a", "A", "b", "%", "_", ".", "*", "+", "?", "\\", "[", "]", "(", ")", "^", "$", "|", "{", "}", "/", "-", " ", "\n", "é", "É", "\0"];
    let seed = 7;
    const pick = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return alphabet[seed % alphabet.length]!;
    };
    const word = (n: number) => Array.from({ length: n }, pick).join("");
    for (let i = 0; i < 3000; i++) {
      const pattern = word(1 + (i % 5));
      const value = i % 3 === 0 ? pattern.replace(/[%_]/g, "a") : word(i % 7);
      expect(asJs(likeToRegexSource(pattern, false)).test(value), `${JSON.stringify(value)} LIKE ${JSON.stringify(pattern)}`).toBe(like(value, pattern));
      expect(asJs(likeToRegexSource(pattern, true)).test(value), `${JSON.stringify(value)} ILIKE ${JSON.stringify(pattern)}`).toBe(ilike(value, pattern));
    }
  });
});
