/**
 * Keyset page tokens for metric history: base64url of the JSON array `[timestamp, step, valueSortKey]` of the
 * last point returned — its history `_id` suffix (value-encoding.ts historySuffix), after which the next page
 * starts in `_id` order.
 * Decoding accepts exactly the bytes `encodeHistoryCursor` writes; anything else is INVALID_PARAMETER_VALUE.
 */
import { invalidPageToken } from "../../domain/messages.js";

export interface HistoryCursor {
  timestamp: number;
  step: number;
  /** `valueSortKey` of the point's value: 16 lowercase hex digits. */
  value: string;
}

export function encodeHistoryCursor(c: HistoryCursor): string {
  return Buffer.from(JSON.stringify([c.timestamp, c.step, c.value]), "utf8").toString("base64url");
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;
const SORT_KEY = /^[0-9a-f]{16}$/;

export function decodeHistoryCursor(token: string): HistoryCursor {
  if (!BASE64URL.test(token)) throw invalidPageToken();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    throw invalidPageToken();
  }
  if (!Array.isArray(parsed) || parsed.length !== 3) throw invalidPageToken();
  const [timestamp, step, value] = parsed as unknown[];
  if (typeof timestamp !== "number" || !Number.isSafeInteger(timestamp) || timestamp < 0) throw invalidPageToken();
  if (typeof step !== "number" || !Number.isSafeInteger(step)) throw invalidPageToken();
  if (typeof value !== "string" || !SORT_KEY.test(value)) throw invalidPageToken();
  const cursor = { timestamp, step, value };
  // Only the canonical spelling: trailing bits, whitespace or reordered variants are not ours.
  if (encodeHistoryCursor(cursor) !== token) throw invalidPageToken();
  return cursor;
}
