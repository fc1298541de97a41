import { describe, expect, it } from "vitest";
import type { Metric } from "./entities.js";
import { downsample, stepGrid } from "./downsample.js";

const p = (step: number, value: number, timestamp = step): Metric => ({ key: "m", step, value, timestamp });

describe("downsampling on a shared step grid", () => {
  it("keeps one point per step when the runs have few steps, min and max over a step's points", () => {
    const a = [p(0, 1), p(1, 5, 10), p(1, 3, 11), p(2, Number.NaN)];
    const b = [p(1, 2), p(3, 4)];
    const grid = stepGrid([a, b], 10);
    expect(downsample(a, grid)).toEqual([
      { step: 0, value: 1, min: 1, max: 1 },
      { step: 1, value: 3, min: 3, max: 5 },
      { step: 2, value: Number.NaN, min: Number.NaN, max: Number.NaN },
    ]);
    expect(downsample(b, grid)).toEqual([
      { step: 1, value: 2, min: 2, max: 2 },
      { step: 3, value: 4, min: 4, max: 4 },
    ]);
  });

  it("cuts the step range into max_points equal buckets shared by every run: last, min and max per bucket", () => {
    const a = Array.from({ length: 1000 }, (_, i) => p(i, i % 100 === 50 ? 1000 : i));
    const b = Array.from({ length: 500 }, (_, i) => p(i * 2, 0 - i));
    const grid = stepGrid([a, b], 10);
    const da = downsample(a, grid);
    const db = downsample(b, grid);
    expect(da).toHaveLength(10);
    expect(db).toHaveLength(10);
    expect(da[0]).toEqual({ step: 99, value: 99, min: 0, max: 1000 }); // the spike at step 50 survives as max
    expect(db[0]).toEqual({ step: 98, value: -49, min: -49, max: 0 });
    // Bucket i covers the same steps in both runs.
    da.forEach((point, i) => expect(Math.floor(point.step / 100)).toBe(Math.floor(db[i]!.step / 100)));
    expect(da.at(-1)).toMatchObject({ step: 999, value: 999 });
  });

  it("NaN stays out of min and max when the bucket has numbers", () => {
    const a = [p(0, Number.NaN), p(1, 2), p(2, Number.NaN), p(3, -1)];
    expect(downsample(a, stepGrid([a], 1))).toEqual([{ step: 3, value: -1, min: -1, max: 2 }]);
  });
});
