/**
 * How metric values, steps, timestamps and keys become stored fields, field names and `_id`s.
 *
 * Values: FerretDB refuses ±Infinity and drops the connection on a NaN double, and it stores -0 as 0, so a value
 * is kept as `v` (a finite double, exact: 1.7976931348623157e308 and 5e-324 round-trip) plus, for the four values a
 * double field cannot carry, a marker `x` ("NaN", "Infinity", "-Infinity", "-0"; -0 also keeps `v: 0` so range
 * filters on `v` still see a zero). No NaN or infinite double is ever sent.
 *
 * Sort keys are fixed-width lowercase hex strings, so the server's plain binary string order is numeric order:
 * - `valueSortKey`: the IEEE-754 total order (-Infinity < … < -0 < 0 < … < Infinity < NaN), injective on the
 *   value's bits with NaN canonicalised.
 * - `recencyKey`: MLflow's "latest" order (step, then timestamp, then value with NaN lowest), refined so -0 < 0:
 *   a total order, so the latest point of a key is the same whatever the arrival order.
 * - `metricOrderKey`: where a run sorts in a search ordered by one metric (value, NaN, then MLflow's tie-break).
 * - `historySuffix`: MLflow's history order (timestamp, then step, then value with NaN last), the `_id` order.
 * Both are injective on (step, timestamp, value bits with NaN canonicalised).
 */
import type { Metric } from "../../domain/entities.js";

export type SpecialValue = "NaN" | "Infinity" | "-Infinity" | "-0";

/** A metric value as stored: `v` when it is a finite double, `x` for what a double field cannot hold. */
export interface EncodedValue {
  v?: number;
  x?: SpecialValue;
}

export function encodeValue(value: number): EncodedValue {
  if (Number.isNaN(value)) return { x: "NaN" };
  if (value === Infinity) return { x: "Infinity" };
  if (value === -Infinity) return { x: "-Infinity" };
  if (Object.is(value, -0)) return { v: 0, x: "-0" };
  return { v: value };
}

const SPECIAL: Record<SpecialValue, number> = { NaN: Number.NaN, Infinity: Infinity, "-Infinity": -Infinity, "-0": -0 };

/** The stored value back; `undefined` when the fields are not something `encodeValue` writes. */
export function decodeValue(doc: { v?: unknown; x?: unknown }): number | undefined {
  if (doc.x !== undefined && doc.x !== null) {
    return typeof doc.x === "string" && Object.hasOwn(SPECIAL, doc.x) ? SPECIAL[doc.x as SpecialValue] : undefined;
  }
  return typeof doc.v === "number" && Number.isFinite(doc.v) ? doc.v : undefined;
}

const SIGN = 1n << 63n;
const ALL = (1n << 64n) - 1n;
const CANONICAL_NAN = 0x7ff8000000000000n;
const scratch = new DataView(new ArrayBuffer(8));

function hex(n: bigint, width: number): string {
  return n.toString(16).padStart(width, "0");
}

/** 16 hex digits ordering doubles totally: negatives below -0 below 0 below positives below NaN. */
export function valueSortKey(value: number): string {
  let bits: bigint;
  if (Number.isNaN(value)) {
    bits = CANONICAL_NAN;
  } else {
    scratch.setFloat64(0, value);
    bits = scratch.getBigUint64(0);
  }
  // Positive: set the sign bit (above every negative). Negative: flip every bit (larger magnitude sorts lower).
  return hex(bits & SIGN ? ~bits & ALL : bits | SIGN, 16);
}

/** The double a `valueSortKey` was made from (NaN for the canonical NaN key); throws on anything else. */
export function valueFromSortKey(key: string): number {
  if (!/^[0-9a-f]{16}$/.test(key)) throw new Error(`not a value sort key: ${key}`);
  const k = BigInt(`0x${key}`);
  scratch.setBigUint64(0, k & SIGN ? k ^ SIGN : ~k & ALL);
  return scratch.getFloat64(0);
}

/** Below every `valueSortKey` (no double maps to 0): where NaN goes in the recency order. */
const NAN_RECENCY = "0".repeat(16);

/** Steps (and start times) are safe integers (validated upstream), possibly negative: offset by 2^53 into 14 hex digits. */
export function stepKey(step: number): string {
  return hex(BigInt(step) + (1n << 53n), 14);
}

/** Timestamps are non-negative safe integers: 14 hex digits. */
export function timestampKey(timestamp: number): string {
  return hex(BigInt(timestamp), 14);
}

/** (step, timestamp, value) in MLflow's recency order; a larger key is a later point. */
export function recencyKey(m: Pick<Metric, "step" | "timestamp" | "value">): string {
  return stepKey(m.step) + timestampKey(m.timestamp) + (Number.isNaN(m.value) ? NAN_RECENCY : valueSortKey(m.value));
}

/**
 * Keys and run ids inside `_id` strings: `%` and `:` percent-encoded, so `:` separates parts and no escaped part
 * is a prefix of another part's range. Injective, and readable for the usual keys ("train/loss" stays as is).
 */
export function escapeIdPart(part: string): string {
  return part.replace(/%/g, "%25").replace(/:/g, "%3A");
}

const HEX_COMPLEMENT: Record<string, string> = Object.fromEntries([..."0123456789abcdef"].map((d, i) => [d, (15 - i).toString(16)]));
/** Each hex digit d as 15 − d: the same width, in the opposite order. */
const complement = (hexDigits: string) => hexDigits.replace(/./g, (d) => HEX_COMPLEMENT[d]!);

/** Above every hex digit: where NaN goes in a metric order key, in both directions. */
const NAN_ORDER = "n";

/**
 * Where a run sorts by one metric's latest value, as one string whose plain (binary) order is MLflow's search order
 * for `order_by metrics.<key> ASC|DESC` with its tie-break: the value in the term's direction (-0 as 0), then NaN,
 * then start_time DESC, then run_id ASC. Fixed-width hex parts, then the run id: unique per run, so one ascending
 * index on this field alone serves the whole order and a keyset page is `field > last key`.
 */
export function metricOrderKey(ascending: boolean, value: number, startTime: number, runId: string): string {
  let head: string;
  if (Number.isNaN(value)) head = NAN_ORDER;
  else {
    const key = valueSortKey(value === 0 ? 0 : value);
    head = ascending ? key : complement(key);
  }
  return head + complement(stepKey(startTime)) + runId;
}

/** The bounds of a value's part of ascending metric order keys: every key of a run whose value is `value` (-0 as 0). */
export function metricValueBounds(value: number): { low: string; high: string } {
  const low = valueSortKey(value === 0 ? 0 : value);
  // The part after the value is hex: "g" is above all of it.
  return { low, high: `${low}g` };
}

/** Above every number in ascending metric order keys, at or below every NaN. */
export const METRIC_ORDER_NAN = NAN_ORDER;

/** Every metric_history `_id` of (run, key) is this prefix followed by exactly 44 hex digits. */
export function historyPrefix(runId: string, key: string): string {
  return `${escapeIdPart(runId)}:${escapeIdPart(key)}:`;
}

/** Above every hex suffix of a history prefix. */
export const HISTORY_SUFFIX_END = "g";

/** The hex suffix of a history `_id`: timestamp, step and value sort key (44 digits), in history order. */
export function historySuffix(m: Pick<Metric, "step" | "timestamp" | "value">): string {
  return historyPosition(m.timestamp, m.step, valueSortKey(m.value));
}

/** `historySuffix` from its parts, the value already as its `valueSortKey` (as page tokens carry it). */
export function historyPosition(timestamp: number, step: number, valueKey: string): string {
  return timestampKey(timestamp) + stepKey(step) + valueKey;
}

/**
 * The deterministic `_id` of a metric point: (run, key, timestamp, step, exact value bits), so an identical point
 * is a duplicate key and is stored once, and `_id` order within a (run, key) is MLflow's history order
 * (timestamp, step, value, NaN last) — the `_id` index alone serves history reads and keyset pages.
 * Recency (step first) is another order: the run document's latest values are compared by `recencyKey`.
 */
export function historyId(runId: string, m: Pick<Metric, "key" | "step" | "timestamp" | "value">): string {
  return historyPrefix(runId, m.key) + historySuffix(m);
}

/** The `_id` of a logged model's link to a point: the model, then the point's historyId (so it ends in its suffix). */
export function modelMetricId(modelId: string, runId: string, m: Pick<Metric, "key" | "step" | "timestamp" | "value">): string {
  return `${escapeIdPart(modelId)}:${historyId(runId, m)}`;
}
