/**
 * Opaque keyset page tokens of run searches: base64url of JSON `{o, t, s, r}` — a fingerprint of the order
 * (a token only continues the ordering it came from), the last run's (rank, value) per order term, its
 * start_time and run_id. Numbers travel as decimal strings (JSON has no ±Infinity). Anything else →
 * INVALID_PARAMETER_VALUE "Invalid page token".
 */
import { createHash } from "node:crypto";
import { invalidPageToken } from "../messages.js";
import type { OrderTerm, Rank } from "./ast.js";
import { tokenBody } from "./keyset-token.js";
import type { SortKey, SortValue } from "./run-order.js";

const fingerprint = (order: OrderTerm[]) =>
  createHash("sha256").update(JSON.stringify(order.map((t) => [t.type, t.key, t.ascending]))).digest("base64url").slice(0, 12);

type WireValue = ["n", string] | ["s", string] | null;

export function encodeRunPageToken(key: SortKey, order: OrderTerm[]): string {
  const t = key.terms.map(([rank, v]): [Rank, WireValue] => [rank, v === null ? null : typeof v === "number" ? ["n", String(v)] : ["s", v]]);
  return Buffer.from(JSON.stringify({ o: fingerprint(order), t, s: key.startTime, r: key.runId }), "utf8").toString("base64url");
}

export function decodeRunPageToken(token: string, order: OrderTerm[]): SortKey {
  const { o, t, s, r } = tokenBody(token);
  if (o !== fingerprint(order) || !Array.isArray(t) || t.length !== order.length) throw invalidPageToken();
  if (!Number.isSafeInteger(s) || typeof r !== "string" || r === "") throw invalidPageToken();
  const terms = t.map((entry: unknown): [Rank, SortValue] => {
    if (!Array.isArray(entry) || entry.length !== 2) throw invalidPageToken();
    const [rank, wire] = entry as [unknown, unknown];
    if (rank !== 0 && rank !== 1 && rank !== 2) throw invalidPageToken();
    if (rank !== 0) {
      if (wire !== null) throw invalidPageToken();
      return [rank, null];
    }
    if (!Array.isArray(wire) || wire.length !== 2 || typeof wire[1] !== "string") throw invalidPageToken();
    if (wire[0] === "s") return [0, wire[1]];
    const n = Number(wire[1]);
    if (wire[0] !== "n" || Number.isNaN(n) || String(n) !== wire[1]) throw invalidPageToken();
    return [0, n];
  });
  return { terms, startTime: s as number, runId: r };
}
