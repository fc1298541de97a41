import { describe, expect, it } from "vitest";
import { compareMetricRecency, type Metric } from "./entities.js";
import { validateBatch, validateKey, validateMetric } from "./validation.js";

const m = (value: number, timestamp: number, step: number): Metric => ({ key: "k", value, timestamp, step });

describe("validateKey", () => {
  it.each(["a", "a.b", "a/b", "loss val", "x-y_z:1", "précision", "損失", "Ω_2"])("accepts %s", (key) => {
    expect(() => validateKey("metric", key)).not.toThrow();
  });
  it.each([
    ["a$b", "Invalid metric name: 'a$b'. Names may only contain"],
    ["../x", "This name would resolve to '../x'"],
    ["a//b", "This name would resolve to 'a/b'"],
    ["/abs", "Invalid metric name: '/abs'"],
    [".", "Invalid metric name: '.'"],
    ["k".repeat(251), "which exceeded length limit of 250"],
  ])("rejects %s", (key, message) => {
    expect(() => validateKey("metric", key)).toThrow(message);
  });
});

describe("validateMetric", () => {
  it("accepts NaN and infinities as values", () => {
    for (const v of [Number.NaN, Infinity, -Infinity]) expect(validateMetric(m(v, 1, 0)).value).toBe(v);
  });
  it("rejects negative timestamps and unsafe steps", () => {
    expect(() => validateMetric(m(1, -1, 0))).toThrow("Timestamp must be a nonnegative long");
    expect(() => validateMetric(m(1, 1, 2 ** 60))).toThrow("Step must be a valid long");
  });
});

describe("validateBatch", () => {
  it("enforces MLflow's batch limits", () => {
    const metrics = Array.from({ length: 1001 }, (_, i) => m(i, 1, i));
    expect(() => validateBatch({ metrics, params: [], tags: [] })).toThrow(
      "A batch logging request can contain at most 1000 metrics. Got 1001 metrics.",
    );
    const params = Array.from({ length: 101 }, (_, i) => ({ key: `p${i}`, value: "v" }));
    expect(() => validateBatch({ metrics: [], params, tags: [] })).toThrow("at most 100 params");
    expect(() =>
      validateBatch({ metrics: metrics.slice(0, 901), params: params.slice(0, 50), tags: params.slice(0, 50) }),
    ).toThrow("at most 1000 metrics, params, and tags. Got 1001");
  });
  it("rejects duplicate param keys and truncates long values", () => {
    expect(() => validateBatch({ metrics: [], params: [{ key: "a", value: "1" }, { key: "a", value: "2" }], tags: [] })).toThrow(
      "Duplicate parameter keys have been submitted: ['a']",
    );
    const out = validateBatch({ metrics: [], params: [{ key: "a", value: "x".repeat(7000) }], tags: [{ key: "t", value: "y".repeat(9000) }] });
    expect(out.params[0]!.value).toHaveLength(6000);
    expect(out.tags[0]!.value).toHaveLength(8000);
  });
});

describe("compareMetricRecency", () => {
  it("orders by step, then timestamp, then value (MLflow's latest)", () => {
    const points = [m(1.0, 1, 5), m(2.0, 10, 3), m(0.5, 1, 5)];
    const latest = points.reduce((a, b) => (compareMetricRecency(b, a) > 0 ? b : a));
    expect(latest).toEqual(m(1.0, 1, 5));
    expect(compareMetricRecency(m(Number.NaN, 1, 1), m(-Infinity, 1, 1))).toBeLessThan(0);
  });
});
