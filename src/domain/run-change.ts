/**
 * The change log: every committed write to a run (or to an experiment's runs) as one record with a sequence number,
 * kept by the store for live watches (WatchRun, WatchLeaderboard). A record is written in the same commit as the
 * change it describes (SQLite: the same transaction), so a watcher never sees a change that did not happen.
 *
 * Sequences increase in commit order. A record holds the items of one write (a LogBatch's params, tags and new metric
 * points, in that order), and each item has a sequence of its own derived from its record's: `seq * 2^12 + index`.
 * So a watcher can resume after any single item, and the number stays an exact JavaScript number up to 2^41
 * records.
 */
import type { LifecycleStage, Metric, RunInfo, Tag } from "./entities.js";

/** One change within a record. */
export type ChangeItem =
  | { kind: "metric"; metric: Metric }
  | { kind: "param"; param: Tag }
  /** A tag set, or deleted (`value` absent). */
  | { kind: "tag"; key: string; value?: string }
  /** The run's info after the write (created, status, end time, name; `lifecycle`: deleted or restored). */
  | { kind: "info"; info: RunInfo; lifecycle?: true }
  /** The experiment moved to `lifecycleStage` with every one of its runs (a record without `runId`). */
  | { kind: "experiment"; lifecycleStage: LifecycleStage };

export interface RunChange {
  /** The record's place in the log (≥ 1), strictly increasing in commit order. */
  seq: number;
  /** The run written; absent for a change of a whole experiment's runs. */
  runId?: string;
  experimentId: string;
  /** When it was committed (ms since the epoch), for retention. */
  at: number;
  items: ChangeItem[];
}

/** Items per record are below this; an item's sequence is `seq * ITEMS_PER_CHANGE + index`. */
export const ITEMS_PER_CHANGE = 4096;

/** The sequence of item `index` of record `seq`. */
export const itemSequence = (seq: number, index: number): number => seq * ITEMS_PER_CHANGE + index;

/** The sequence that stands for "everything up to and including record `seq`" (a snapshot's, a board's). */
export const recordSequence = (seq: number): number => seq * ITEMS_PER_CHANGE + (ITEMS_PER_CHANGE - 1);

/** The record and item index an item sequence names (a resume point); a record sequence names its last item. */
export function positionOf(sequence: number): { seq: number; index: number } {
  const seq = Math.floor(sequence / ITEMS_PER_CHANGE);
  return { seq, index: sequence - seq * ITEMS_PER_CHANGE };
}

/** The metric points, params, tags and info a run write produced, as one record's items (empty ones are not logged). */
export function batchItems(batch: { metrics: Metric[]; params: Tag[]; tags: Tag[] }): ChangeItem[] {
  const items: ChangeItem[] = [];
  for (const param of batch.params) items.push({ kind: "param", param });
  for (const tag of batch.tags) items.push({ kind: "tag", key: tag.key, value: tag.value });
  for (const metric of batch.metrics) items.push({ kind: "metric", metric });
  if (items.length >= ITEMS_PER_CHANGE) throw new Error(`a change record holds fewer than ${ITEMS_PER_CHANGE} items`);
  return items;
}

type Encoded =
  | [kind: "m", key: string, value: number | string, timestamp: number, step: number, modelId?: string | null, datasetName?: string | null, datasetDigest?: string | null]
  | [kind: "p", key: string, value: string]
  | [kind: "t", key: string, value?: string]
  | [kind: "i", info: RunInfo, lifecycle?: 1]
  | [kind: "e", stage: LifecycleStage];

/** JSON has no NaN, ±Infinity or -0: those travel as text. */
const encodeValue = (v: number): number | string => (Number.isFinite(v) && !Object.is(v, -0) ? v : String(Object.is(v, -0) ? "-0" : v));
const decodeValue = (v: number | string): number => (typeof v === "number" ? v : v === "-0" ? -0 : Number(v));

/** A record's items as compact JSON text (how both stores keep them). */
export function encodeChangeItems(items: ChangeItem[]): string {
  return JSON.stringify(
    items.map((item): Encoded => {
      switch (item.kind) {
        case "metric": {
          const m = item.metric;
          const e: Encoded = ["m", m.key, encodeValue(m.value), m.timestamp, m.step];
          if (m.modelId !== undefined || m.datasetName !== undefined || m.datasetDigest !== undefined) {
            e.push(m.modelId ?? null, m.datasetName ?? null, m.datasetDigest ?? null);
          }
          return e;
        }
        case "param":
          return ["p", item.param.key, item.param.value];
        case "tag":
          return item.value === undefined ? ["t", item.key] : ["t", item.key, item.value];
        case "info":
          return item.lifecycle ? ["i", item.info, 1] : ["i", item.info];
        case "experiment":
          return ["e", item.lifecycleStage];
      }
    }),
  );
}

export function decodeChangeItems(text: string): ChangeItem[] {
  return (JSON.parse(text) as Encoded[]).map((e): ChangeItem => {
    switch (e[0]) {
      case "m": {
        const metric: Metric = { key: e[1], value: decodeValue(e[2]), timestamp: e[3], step: e[4] };
        if (e[5] != null) metric.modelId = e[5];
        if (e[6] != null) metric.datasetName = e[6];
        if (e[7] != null) metric.datasetDigest = e[7];
        return { kind: "metric", metric };
      }
      case "p":
        return { kind: "param", param: { key: e[1], value: e[2] } };
      case "t":
        return e.length > 2 ? { kind: "tag", key: e[1], value: e[2]! } : { kind: "tag", key: e[1] };
      case "i":
        return e[2] ? { kind: "info", info: e[1], lifecycle: true } : { kind: "info", info: e[1] };
      case "e":
        return { kind: "experiment", lifecycleStage: e[1] };
    }
  });
}
