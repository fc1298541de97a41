/**
 * What a LogBatch changes on a run document, computed from the stored entries of the keys it touches: new params
 * (a param already logged with another value fails the whole batch before anything is written), tags upserted, and
 * for each metric key the batch's most recent point when it is more recent than the stored latest (MLflow's "latest":
 * step, then timestamp, then value — value-encoding.ts recencyKey). New keys take the next first-logged numbers.
 * Pure: run-writer.ts applies the result so that no other writer of the run comes in between.
 */
import type { Metric, Tag } from "../../domain/entities.js";
import { paramChanged } from "../../domain/messages.js";
import { uniqueByKey } from "./mapping.js";
import { type LatestMetricEntry, type RunDoc, latestMetricFields, paramPath, tagPath } from "./run-document.js";
import { encodeFieldKey } from "./key-fields.js";
import { decodeValue, recencyKey } from "./value-encoding.js";

export interface Batch {
  metrics: Metric[];
  params: Tag[];
  tags: Tag[];
}

/** The fields of the run a batch's change is computed from (a projection). */
export function batchProjection({ metrics, params, tags }: Batch): Record<string, 1> {
  const projection: Record<string, 1> = { start_time: 1, seq: 1 };
  for (const p of params) projection[paramPath(p.key)] = 1;
  for (const t of tags) projection[tagPath(t.key)] = 1;
  for (const m of metrics) projection[`metrics.${encodeFieldKey(m.key)}`] = 1;
  return projection;
}

const storedRecency = (entry: LatestMetricEntry) => recencyKey({ step: entry.step, timestamp: entry.ts, value: decodeValue(entry) ?? Number.NaN });

/** The most recent point of each key, keys in first-seen order. */
function latestPerKey(metrics: Metric[]): Metric[] {
  const best = new Map<string, { point: Metric; recency: string }>();
  for (const m of metrics) {
    const recency = recencyKey(m);
    const current = best.get(m.key);
    if (!current || recency > current.recency) best.set(m.key, { point: m, recency });
  }
  return [...best.values()].map((b) => b.point);
}

/**
 * The `$set` of a batch on `doc` (read with batchProjection), or null when it changes nothing.
 * @throws INVALID_PARAMETER_VALUE (paramChangedMessage) when a param is stored, or given earlier in the batch, with another value
 */
export function batchUpdate(runId: string, doc: Pick<RunDoc, "start_time" | "seq"> & Partial<Pick<RunDoc, "params" | "tags" | "metrics">>, batch: Batch): Record<string, unknown> | null {
  let seq = doc.seq;
  const set: Record<string, unknown> = {};
  const given = new Map<string, string>();
  for (const p of batch.params) {
    const stored = doc.params?.[encodeFieldKey(p.key)]?.v ?? given.get(p.key);
    if (stored !== undefined) {
      if (stored !== p.value) throw paramChanged(runId, p.key, stored, p.value);
      continue;
    }
    given.set(p.key, p.value);
    set[paramPath(p.key)] = { v: p.value, o: seq++ };
  }
  for (const t of uniqueByKey(batch.tags)) {
    const stored = doc.tags?.[encodeFieldKey(t.key)];
    if (stored?.v === t.value) continue;
    set[tagPath(t.key)] = { v: t.value, o: stored?.o ?? seq++ };
  }
  for (const m of latestPerKey(batch.metrics)) {
    const stored = doc.metrics?.[encodeFieldKey(m.key)];
    if (stored && storedRecency(stored) >= recencyKey(m)) continue;
    Object.assign(set, latestMetricFields(runId, doc.start_time, m, stored?.o ?? seq++));
  }
  if (Object.keys(set).length === 0) return null;
  if (seq !== doc.seq) set.seq = seq;
  return set;
}

/** `doc` with a batch applied, as a new document (for documents written whole: bulk seeding, migration). */
export function withBatch(runId: string, doc: RunDoc, batch: Batch): RunDoc {
  const set = batchUpdate(runId, doc, batch);
  if (set === null) return doc;
  const out: Record<string, unknown> = { ...doc };
  const copied = new Set<string>();
  for (const [path, value] of Object.entries(set)) {
    const dot = path.indexOf(".");
    if (dot < 0) {
      out[path] = value;
      continue;
    }
    const top = path.slice(0, dot);
    if (!copied.has(top)) {
      out[top] = { ...(out[top] as object | undefined) };
      copied.add(top);
    }
    (out[top] as Record<string, unknown>)[path.slice(dot + 1)] = value;
  }
  return out as unknown as RunDoc;
}
