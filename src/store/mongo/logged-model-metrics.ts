/**
 * Linked-metric summaries on logged-model documents, for searches. A logged model's linked metrics are its links in
 * logged_model_metrics (the source of truth, read whole by getLoggedModel); a search filters and
 * sorts models in one `find` on `logged_models`, so each model document also carries, per metric key and scope — any
 * dataset (`a`), one dataset name (`n.<name>`), one name and digest (`d.<name>.<digest>`) — the lowest and highest
 * value, whether a NaN was logged and the latest point (MetricScopeSummary in registry-mapping.ts), and which datasets
 * it has points on. Constant size per key and scope, however many points.
 *
 * Written by LogBatch after the points and links are stored, under the model's lease (registry-lease.ts: the same lock as
 * every other write of a logged model, so FerretDB's read-then-write updates lose nothing): one read of the touched
 * keys' summaries, one update. Merging is idempotent, so a batch sent again (a client retrying after an error)
 * repairs a summary a crash left behind. `summarize` rebuilds them from the links (init(), for documents written before).
 */
import type { Metric } from "../../domain/entities.js";
import { compareCodePoints } from "../../domain/filter/run-order.js";
import type { Collections } from "./connection.js";
import { encodeFieldKey } from "./key-fields.js";
import type { Leases } from "./registry-lease.js";
import type { LinkedDatasets, LinkedMetricSummaries, MetricScopeSummary } from "./registry-mapping.js";
import { decodeValue, valueSortKey } from "./value-encoding.js";

export interface LinkedPoint extends Pick<Metric, "key" | "value" | "timestamp" | "step" | "datasetName" | "datasetDigest"> {
  runId: string;
}

/** A value's sort key with -0 as 0 (equal values, one key); NaN's is above every number's. */
export const metricSortKey = (value: number) => valueSortKey(value === 0 ? 0 : value);

/** Whether `p` is later than the summary's latest point: timestamp, then step, then the smaller run id, then the smaller value. */
function isLater(s: MetricScopeSummary, p: LinkedPoint, vs: string): boolean {
  if (p.timestamp !== s.ts) return p.timestamp > s.ts;
  if (p.step !== s.step) return p.step > s.step;
  const byRun = compareCodePoints(p.runId, s.run);
  if (byRun !== 0) return byRun < 0;
  return vs < s.vs;
}

export function mergeScope(s: MetricScopeSummary | undefined, p: LinkedPoint): MetricScopeSummary {
  const nan = Number.isNaN(p.value);
  const vs = metricSortKey(p.value);
  const next: MetricScopeSummary = s ? { ...s } : { ts: p.timestamp, step: p.step, run: p.runId, vs };
  if (nan) next.nan = true;
  else {
    if (next.lo === undefined || vs < next.lo) next.lo = vs;
    if (next.hi === undefined || vs > next.hi) next.hi = vs;
  }
  if (!s || isLater(s, p, vs)) {
    Object.assign(next, { ts: p.timestamp, step: p.step, run: p.runId, vs });
    if (nan) {
      delete next.v;
      delete next.p;
    } else Object.assign(next, { v: vs, p: 1 as const });
  }
  return next;
}

type KeySummary = LinkedMetricSummaries[string];

/**
 * The summaries of one key with `points` (all of that key) merged in. Maps, then Object.fromEntries: a dataset named
 * `__proto__` is a field like any other.
 */
export function mergeKey(summary: KeySummary | undefined, points: readonly LinkedPoint[]): KeySummary {
  let a = summary?.a;
  const n = new Map(Object.entries(summary?.n ?? {}));
  const d = new Map(Object.entries(summary?.d ?? {}).map(([name, byDigest]) => [name, new Map(Object.entries(byDigest))]));
  for (const p of points) {
    a = mergeScope(a, p);
    if (p.datasetName === undefined) continue;
    const name = encodeFieldKey(p.datasetName);
    n.set(name, mergeScope(n.get(name), p));
    if (p.datasetDigest === undefined) continue;
    const digests = d.get(name) ?? new Map<string, MetricScopeSummary>();
    const digest = encodeFieldKey(p.datasetDigest);
    digests.set(digest, mergeScope(digests.get(digest), p));
    d.set(name, digests);
  }
  const merged: KeySummary = { a: a! };
  if (n.size > 0) merged.n = Object.fromEntries(n);
  if (d.size > 0) merged.d = Object.fromEntries([...d].map(([name, digests]) => [name, Object.fromEntries(digests)]));
  return merged;
}

/** The `$set` of a model's summaries and dataset flags after `points` (each keyed by its encoded metric key). */
function summaryUpdate(stored: LinkedMetricSummaries | undefined, points: readonly LinkedPoint[]): Record<string, unknown> {
  const set: Record<string, unknown> = {};
  const byKey = new Map<string, LinkedPoint[]>();
  for (const p of points) {
    const key = encodeFieldKey(p.key);
    byKey.set(key, [...(byKey.get(key) ?? []), p]);
    if (p.datasetName === undefined) continue;
    set[`datasets.n.${encodeFieldKey(p.datasetName)}`] = 1;
    if (p.datasetDigest !== undefined) set[`datasets.d.${encodeFieldKey(p.datasetName)}.${encodeFieldKey(p.datasetDigest)}`] = 1;
  }
  for (const [key, keyPoints] of byKey) set[`metrics.${key}`] = mergeKey(stored && Object.hasOwn(stored, key) ? stored[key] : undefined, keyPoints);
  return set;
}

/** Folds a batch's model-linked points into their models' summaries (a point of an unknown or deleted model: none). */
export async function linkMetrics(c: Collections, leases: Leases, runId: string, metrics: readonly Metric[]): Promise<void> {
  const byModel = new Map<string, LinkedPoint[]>();
  for (const m of metrics) {
    if (m.modelId === undefined) continue;
    byModel.set(m.modelId, [...(byModel.get(m.modelId) ?? []), { ...m, runId }]);
  }
  for (const [modelId, points] of byModel) {
    await leases.hold(modelId, async () => {
      const projection = Object.fromEntries([...new Set(points.map((p) => `metrics.${encodeFieldKey(p.key)}`))].map((f) => [f, 1]));
      const doc = await c.loggedModels.findOne({ _id: modelId }, { projection: { ...projection, deleted: 1 } });
      if (!doc || doc.deleted) return;
      await c.loggedModels.updateOne({ _id: modelId }, { $set: summaryUpdate(doc.metrics, points) });
    });
  }
}

/** Every given model's summaries rebuilt from its links (models written before summaries existed). */
export async function summarize(c: Collections, leases: Leases, modelIds: readonly string[]): Promise<void> {
  for (const modelId of modelIds) {
    await leases.hold(modelId, async () => {
      const points = await c.modelMetrics
        .find({ model_id: modelId }, { projection: { key: 1, v: 1, x: 1, ts: 1, step: 1, run_id: 1, dataset_name: 1, dataset_digest: 1 } })
        .toArray();
      const linked: LinkedPoint[] = [];
      for (const p of points) {
        const value = decodeValue(p);
        if (value === undefined) continue;
        linked.push({ key: p.key, value, timestamp: p.ts, step: p.step, runId: p.run_id, ...datasetOf(p) });
      }
      const metrics: LinkedMetricSummaries = {};
      const datasets: LinkedDatasets = {};
      for (const [path, value] of Object.entries(summaryUpdate(undefined, linked))) setPath(path.startsWith("metrics.") ? metrics : datasets, path.slice(path.indexOf(".") + 1), value);
      await c.loggedModels.updateOne({ _id: modelId }, { $set: { metrics, datasets } });
    });
  }
}

/** Sets `value` at a dotted path of `target`, creating objects on the way (own properties only). */
function setPath(target: object, path: string, value: unknown): void {
  const parts = path.split(".");
  let at = target as Record<string, unknown>;
  for (const part of parts.slice(0, -1)) {
    if (!Object.hasOwn(at, part)) Object.defineProperty(at, part, { value: {}, enumerable: true, writable: true, configurable: true });
    at = at[part] as Record<string, unknown>;
  }
  Object.defineProperty(at, parts[parts.length - 1]!, { value, enumerable: true, writable: true, configurable: true });
}

function datasetOf(p: { dataset_name?: string; dataset_digest?: string }): Pick<LinkedPoint, "datasetName" | "datasetDigest"> {
  return {
    ...(typeof p.dataset_name === "string" ? { datasetName: p.dataset_name } : {}),
    ...(typeof p.dataset_digest === "string" ? { datasetDigest: p.dataset_digest } : {}),
  };
}
