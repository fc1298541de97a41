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

/**
 * The steps of several histories seen so far, page by page: enough to build their grid, in memory bounded by
 * `maxPoints` (the distinct steps are kept only until there are more than that).
 */
export class StepSpan {
  private readonly steps = new Set<number>();
  private low = Infinity;
  private high = -Infinity;

  constructor(private readonly maxPoints: number) {}

  add(points: readonly Metric[]): void {
    for (const point of points) {
      if (this.steps.size <= this.maxPoints) this.steps.add(point.step);
      if (point.step < this.low) this.low = point.step;
      if (point.step > this.high) this.high = point.step;
    }
  }

  grid(): StepGrid {
    const { maxPoints, low } = this;
    if (this.steps.size <= maxPoints) {
      const index = new Map([...this.steps].sort((a, b) => a - b).map((step, i) => [step, i]));
      return { bucketOf: (step) => index.get(step)! };
    }
    const width = (this.high - low + 1) / maxPoints;
    return { bucketOf: (step) => Math.min(maxPoints - 1, Math.floor((step - low) / width)) };
  }
}

/** The grid shared by these histories (each a run's points of one metric, in any order). */
export function stepGrid(histories: readonly (readonly Metric[])[], maxPoints: number): StepGrid {
  const span = new StepSpan(maxPoints);
  for (const history of histories) span.add(history);
  return span.grid();
}

/** One run's history put on a grid page by page: memory is one entry per bucket, whatever the number of points. */
export class BucketSampler {
  private readonly buckets = new Map<number, { last: Metric; min: number; max: number }>();

  constructor(private readonly grid: StepGrid) {}

  add(points: readonly Metric[]): void {
    for (const point of points) {
      const b = this.grid.bucketOf(point.step);
      const bucket = this.buckets.get(b);
      if (bucket === undefined) {
        this.buckets.set(b, { last: point, min: point.value, max: point.value });
        continue;
      }
      if (compareMetricRecency(point, bucket.last) > 0) bucket.last = point;
      if (!Number.isNaN(point.value)) {
        if (Number.isNaN(bucket.min) || point.value < bucket.min) bucket.min = point.value;
        if (Number.isNaN(bucket.max) || point.value > bucket.max) bucket.max = point.value;
      }
    }
  }

  /** At most one point per bucket, by step. */
  points(): DownsampledPoint[] {
    return [...this.buckets.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([, b]) => ({ step: b.last.step, value: b.last.value, min: b.min, max: b.max }));
  }
}

/** One run's history on the grid: at most one point per bucket, by step. */
export function downsample(history: readonly Metric[], grid: StepGrid): DownsampledPoint[] {
  const sampler = new BucketSampler(grid);
  sampler.add(history);
  return sampler.points();
}
