/**
 * Metric histories downsampled for comparison (CompareRuns). Several runs' histories of one metric share one grid of
 * step buckets, so bucket i covers the same steps in every run and the charts line up: when all the runs together
 * have at most `maxPoints` distinct steps, each step is its own bucket; otherwise the range from the lowest to the
 * highest step is cut into `maxPoints` buckets of equal width. Each bucket that has points yields one point: its last
 * (highest step, then latest timestamp, then — as MLflow's "latest" — the highest value) with the smallest and
 * largest values of the bucket, so spikes survive the downsampling. NaN is left out of min and max unless every value
 * of the bucket is NaN. (MLflow's get-history-bulk-interval keeps its own sampler: service-side step sampling.)
 */
import { type Metric, compareMetricRecency } from "./entities.js";

export interface DownsampledPoint {
  step: number;
  /** The bucket's last value. */
  value: number;
  min: number;
  max: number;
}

/** The bucket of `step` on a grid: one bucket per distinct step, or `count` equal-width buckets over [low, high]. */
export interface StepGrid {
  bucketOf(step: number): number;
}

/** The grid shared by these histories (each a run's points of one metric, in any order). */
export function stepGrid(histories: readonly (readonly Metric[])[], maxPoints: number): StepGrid {
  const steps = new Set<number>();
  let low = Infinity;
  let high = -Infinity;
  for (const history of histories) {
    for (const point of history) {
      if (steps.size <= maxPoints) steps.add(point.step);
      if (point.step < low) low = point.step;
      if (point.step > high) high = point.step;
    }
  }
  if (steps.size <= maxPoints) {
    const index = new Map([...steps].sort((a, b) => a - b).map((step, i) => [step, i]));
    return { bucketOf: (step) => index.get(step)! };
  }
  const width = (high - low + 1) / maxPoints;
  return { bucketOf: (step) => Math.min(maxPoints - 1, Math.floor((step - low) / width)) };
}

/** One run's history on the grid: at most one point per bucket, by step. */
export function downsample(history: readonly Metric[], grid: StepGrid): DownsampledPoint[] {
  const buckets = new Map<number, { last: Metric; min: number; max: number }>();
  for (const point of history) {
    const b = grid.bucketOf(point.step);
    const bucket = buckets.get(b);
    if (bucket === undefined) {
      buckets.set(b, { last: point, min: point.value, max: point.value });
      continue;
    }
    if (compareMetricRecency(point, bucket.last) > 0) bucket.last = point;
    if (!Number.isNaN(point.value)) {
      if (Number.isNaN(bucket.min) || point.value < bucket.min) bucket.min = point.value;
      if (Number.isNaN(bucket.max) || point.value > bucket.max) bucket.max = point.value;
    }
  }
  return [...buckets.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([, b]) => ({ step: b.last.step, value: b.last.value, min: b.min, max: b.max }));
}
