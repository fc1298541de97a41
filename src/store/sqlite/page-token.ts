/**
 * Keyset page tokens for metric history: base64url of the JSON array of the last point's sort key,
 * `[timestamp, step, is_nan, value, is_negative_zero]` (metric_history's primary key after run and
 * key, i.e. the history order). The value travels as its decimal string because JSON has no ±Infinity. Decoding accepts only what
 * `encodeHistoryCursor` writes; anything else is INVALID_PARAMETER_VALUE.
 */
import { invalidPageToken } from "../../domain/messages.js";
import type { StoredMetricValue } from "./mapping.js";

/** The history sort key of one point, as stored (see schema.ts: metric_history's primary key). */
export interface HistoryCursor extends StoredMetricValue {
  step: number;
  timestamp: number;
}

export function encodeHistoryCursor(c: HistoryCursor): string {
  const key = [c.timestamp, c.step, c.is_nan, String(c.value), c.is_negative_zero];
  return Buffer.from(JSON.stringify(key), "utf8").toString("base64url");
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;
const isFlag = (x: unknown): x is 0 | 1 => x === 0 || x === 1;

export function decodeHistoryCursor(token: string): HistoryCursor {
  if (!BASE64URL.test(token)) throw invalidPageToken();
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    throw invalidPageToken();
  }
  if (!Array.isArray(key) || key.length !== 5) throw invalidPageToken();
  const [timestamp, step, isNan, valueText, isNegativeZero] = key as unknown[];
  if (!Number.isSafeInteger(step) || !Number.isSafeInteger(timestamp)) throw invalidPageToken();
  if (!isFlag(isNan) || !isFlag(isNegativeZero) || typeof valueText !== "string") throw invalidPageToken();
  const value = Number(valueText);
  // Round-trip check: rejects "", " 1", "0x10" and NaN; NaN points are stored with value 0.
  if (String(value) !== valueText || Number.isNaN(value)) throw invalidPageToken();
  if ((isNan && value !== 0) || (isNegativeZero && value !== 0)) throw invalidPageToken();
  const cursor = { step: step as number, timestamp: timestamp as number, is_nan: isNan, value, is_negative_zero: isNegativeZero };
  // Only the exact bytes we issue: no padding, whitespace or reordered variants.
  if (encodeHistoryCursor(cursor) !== token) throw invalidPageToken();
  return cursor;
}
