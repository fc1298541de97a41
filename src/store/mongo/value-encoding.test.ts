import { describe, expect, it } from "vitest";
import { compareMetricRecency, type Metric } from "../../domain/entities.js";
import { AppError, ErrorCode } from "../../domain/errors.js";
import { decodeHistoryCursor, encodeHistoryCursor } from "./page-token.js";
import {
  decodeValue,
  encodeValue,
  escapeIdPart,
  historyId,
  historyPosition,
  historyPrefix,
  historySuffix,
  METRIC_ORDER_NAN,
  metricOrderKey,
  metricValueBounds,
  recencyKey,
  stepKey,
  timestampKey,
  valueFromSortKey,
  valueSortKey,
} from "./value-encoding.js";

/** Doubles in ascending IEEE order (-0 before 0), NaN last. */
const ORDERED = [
  -Infinity, -1.7976931348623157e308, -1e300, -2, -1.5, -1, -Number.MIN_VALUE * 2, -Number.MIN_VALUE, -0, 0, Number.MIN_VALUE,
  2 ** -1022, 0.1, 0.30000000000000004, 1, 1 + Number.EPSILON, 2, 1e15, 2 ** 53, 1e300, 1.7976931348623157e308, Infinity, Number.NaN,
];

function mulberry32(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("metric value encoding", () => {
  it("round-trips every value exactly and never stores a non-finite double", () => {
    for (const value of ORDERED) {
      const encoded = encodeValue(value);
      if (encoded.v !== undefined) expect(Number.isFinite(encoded.v) && !Object.is(encoded.v, -0)).toBe(true);
      expect(Object.is(decodeValue(encoded), value)).toBe(true);
    }
    expect(encodeValue(-0)).toEqual({ v: 0, x: "-0" });
    expect(encodeValue(Number.NaN)).toEqual({ x: "NaN" });
    expect(decodeValue({ x: "bogus" })).toBeUndefined();
    expect(decodeValue({})).toBeUndefined();
  });

  it("gives sort keys in numeric order, -0 below 0, NaN last, one key per value", () => {
    const keys = ORDERED.map(valueSortKey);
    for (const key of keys) expect(key).toMatch(/^[0-9a-f]{16}$/);
    expect([...keys].sort()).toEqual(keys);
    expect(new Set(keys).size).toBe(keys.length);
    const rnd = mulberry32(9);
    for (let i = 0; i < 2000; i++) {
      const a = (rnd() - 0.5) * 10 ** Math.floor(rnd() * 40 - 20);
      const b = (rnd() - 0.5) * 10 ** Math.floor(rnd() * 40 - 20);
      expect(valueSortKey(a) < valueSortKey(b)).toBe(a < b);
      expect(valueSortKey(a) === valueSortKey(b)).toBe(Object.is(a, b));
    }
  });

  it("reads every sort key back as its value (search page tokens carry values)", () => {
    for (const value of ORDERED) expect(Object.is(valueFromSortKey(valueSortKey(value)), value)).toBe(true);
    expect(() => valueFromSortKey("x")).toThrow();
  });

  it("orders steps (negative too) and timestamps as fixed-width hex", () => {
    const steps = [-(2 ** 53 - 1), -1000, -1, 0, 1, 999, 2 ** 53 - 1];
    const keys = steps.map(stepKey);
    expect(keys.every((k) => k.length === 14)).toBe(true);
    expect([...keys].sort()).toEqual(keys);
    expect(stepKey(-0)).toBe(stepKey(0));
    const times = [0, 1, 1_700_000_000_000, 2 ** 53 - 1].map(timestampKey);
    expect([...times].sort()).toEqual(times);
  });

  it("orders points by recency exactly as compareMetricRecency, ties only for equal points", () => {
    const rnd = mulberry32(4);
    const values = [Number.NaN, -Infinity, -1, -0, 0, 0.5, 1, Infinity];
    const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
    for (let i = 0; i < 5000; i++) {
      const a: Metric = { key: "k", value: pick(values), timestamp: pick([0, 1, 2]), step: pick([-1, 0, 1]) };
      const b: Metric = { key: "k", value: pick(values), timestamp: pick([0, 1, 2]), step: pick([-1, 0, 1]) };
      const expected = Math.sign(compareMetricRecency(a, b));
      const ka = recencyKey(a);
      const kb = recencyKey(b);
      const actual = ka === kb ? 0 : ka > kb ? 1 : -1;
      // The key refines MLflow's order (-0 below 0), so it may only break MLflow's ties.
      if (expected !== 0) expect(actual).toBe(expected);
      else if (actual !== 0) expect([a.value, b.value].every((v) => v === 0)).toBe(true);
    }
  });

  it("orders history ids by timestamp, step, then value with NaN last, one id per distinct point", () => {
    const rnd = mulberry32(11);
    const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
    const historyOrder = (a: Metric, b: Metric) =>
      a.timestamp - b.timestamp || a.step - b.step || (Number.isNaN(a.value) ? 1 : 0) - (Number.isNaN(b.value) ? 1 : 0) || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0);
    for (let i = 0; i < 5000; i++) {
      const a: Metric = { key: "k", value: pick(ORDERED), timestamp: pick([0, 1, 2 ** 53 - 1]), step: pick([-(2 ** 53 - 1), -1, 0, 1]) };
      const b: Metric = { key: "k", value: pick(ORDERED), timestamp: pick([0, 1, 2 ** 53 - 1]), step: pick([-(2 ** 53 - 1), -1, 0, 1]) };
      const ia = historyId("r", a);
      const ib = historyId("r", b);
      const actual = ia === ib ? 0 : ia > ib ? 1 : -1;
      const expected = Math.sign(historyOrder(a, b));
      // Ties of the order are -0 against 0 (ordered -0 first, as valueSortKey does) and identical points.
      if (expected !== 0) expect(actual, `${JSON.stringify([a, b])}`).toBe(expected);
      else expect(actual === 0).toBe(Object.is(a.value, b.value) || (Number.isNaN(a.value) && Number.isNaN(b.value)));
    }
    const m = { step: -7, timestamp: 42, value: -0 };
    expect(historySuffix(m)).toBe(historyPosition(42, -7, valueSortKey(-0)));
    expect(historySuffix(m)).toBe(timestampKey(42) + stepKey(-7) + valueSortKey(-0));
  });

  it("builds ids whose prefixes never overlap, whatever the key", () => {
    const keys = ["a", "a:b", "a%3Ab", "a.b", "x$y", "$lead", "100%", "a:", ":", "%", ""];
    expect(new Set(keys.map(escapeIdPart)).size).toBe(keys.length);
    for (const key of keys) expect(escapeIdPart(key)).not.toContain(":");
    const point = { step: 1, timestamp: 2, value: 3 };
    for (const k1 of keys) {
      for (const k2 of keys) {
        if (k1 === k2) continue;
        expect(historyId("r", { key: k2, ...point }).startsWith(historyPrefix("r", k1))).toBe(false);
      }
      expect(historyPrefix("run-1", k1).startsWith(`${escapeIdPart("run-12")}:`)).toBe(false);
    }
    expect(historyId("r", { key: "k", ...point })).toMatch(/^r:k:[0-9a-f]{44}$/);
  });
});

describe("metric order keys", () => {
  /** Runs of a search: (value, start time, run id). */
  const runs = ORDERED.flatMap((value, i) => [
    { value, startTime: 1000 - i, runId: `r${i}a` },
    { value, startTime: 1000 - i, runId: `r${i}b` },
    { value, startTime: -5, runId: `r${i}c` },
  ]);

  /** MLflow's order for one metric term: value in direction (-0 = 0), NaN after, then start_time DESC, run_id ASC. */
  function mlflowOrder(ascending: boolean) {
    return (a: (typeof runs)[number], b: (typeof runs)[number]) => {
      const an = Number.isNaN(a.value);
      const bn = Number.isNaN(b.value);
      if (an !== bn) return an ? 1 : -1;
      if (!an && a.value !== b.value) return (a.value < b.value ? -1 : 1) * (ascending ? 1 : -1);
      if (a.startTime !== b.startTime) return b.startTime - a.startTime;
      return a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : 0;
    };
  }

  it.each([true, false])("sort in MLflow's order as plain strings (ascending: %s)", (ascending) => {
    const keyed = runs.map((r) => ({ ...r, key: metricOrderKey(ascending, r.value, r.startTime, r.runId) }));
    const byKey = [...keyed].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).map((r) => r.runId);
    expect(byKey).toEqual([...runs].sort(mlflowOrder(ascending)).map((r) => r.runId));
    expect(new Set(keyed.map((r) => r.key)).size).toBe(runs.length);
    expect(metricOrderKey(ascending, -0, 5, "r")).toBe(metricOrderKey(ascending, 0, 5, "r"));
    expect(metricOrderKey(ascending, Number.NaN, 5, "r").startsWith(METRIC_ORDER_NAN)).toBe(true);
  });

  it("bound each value's keys: [low, high) holds exactly the keys of that value (-0 as 0), NaN above every bound", () => {
    for (const value of ORDERED.filter((v) => !Number.isNaN(v))) {
      const { low, high } = metricValueBounds(value);
      expect(high < METRIC_ORDER_NAN).toBe(true);
      for (const other of runs) {
        const key = metricOrderKey(true, other.value, other.startTime, other.runId);
        const inside = key >= low && key < high;
        expect(inside, `${value} vs ${other.value}`).toBe(!Number.isNaN(other.value) && other.value === value);
        if (!Number.isNaN(other.value)) expect(key < low).toBe(other.value < value);
      }
    }
  });
});

describe("metric history page tokens", () => {
  const cursor = { timestamp: 17, step: -3, value: valueSortKey(Number.NaN) };

  it("round-trips a cursor", () => {
    expect(decodeHistoryCursor(encodeHistoryCursor(cursor))).toEqual(cursor);
    // The array is the sort key in history order: timestamp, step, value.
    expect(JSON.parse(Buffer.from(encodeHistoryCursor(cursor), "base64url").toString("utf8"))).toEqual([17, -3, valueSortKey(Number.NaN)]);
  });

  it("rejects anything it did not issue with INVALID_PARAMETER_VALUE", () => {
    const b64 = (text: string) => Buffer.from(text).toString("base64url");
    const token = encodeHistoryCursor(cursor);
    const bad = [
      "", "not a token", "%%%", `${token}=`, `${token}x`, ` ${token}`, b64("{}"), b64("[]"), b64("null"), b64("[1,2]"),
      b64('[1,2,"0000000000000000",4]'), b64('[1.5,2,"0000000000000000"]'), b64('[1,2.5,"0000000000000000"]'), b64('[-1,2,"0000000000000000"]'),
      b64('[1,2,"000000000000000G"]'), b64('[1,2,"00000000000000000"]'), b64(`[${2 ** 53},0,"0000000000000000"]`),
      b64('[1, 2, "0000000000000000"]'), b64('["1",2,"0000000000000000"]'),
    ];
    for (const t of bad) {
      let caught: unknown;
      try {
        decodeHistoryCursor(t);
      } catch (err) {
        caught = err;
      }
      expect(caught, t).toBeInstanceOf(AppError);
      expect((caught as AppError).code).toBe(ErrorCode.INVALID_PARAMETER_VALUE);
    }
  });
});
