/**
 * Opaque keyset page tokens of the experiment, registered-model and model-version searches (logged models wrap the
 * same values in MLflow's token body, logged-model-search.ts): base64url of JSON `{s, a}` — a fingerprint of the
 * search (filter, order, scope: a token continues only the search it came from) and the sort key of the last item
 * returned, one value per order term, tie-breaks included. Numbers travel as decimal strings (JSON has no
 * ±Infinity). Anything else → INVALID_PARAMETER_VALUE "Invalid page token".
 */
import { createHash } from "node:crypto";
import { invalidPageToken } from "../messages.js";

/** Where an item sorts: one value per order term of its search; null where the term has no value (sorted last). */
export type SortKeyValues = (string | number | null)[];

/** What each value of a search's sort key is. */
export interface KeysetTerm {
  kind: "string" | "number";
  /** The term may have no value (null). */
  nullable?: boolean;
}

type WireValue = ["n", string] | ["s", string] | null;

/** A short digest of the parsed search (any JSON value) a token belongs to. */
export const searchFingerprint = (search: unknown) =>
  createHash("sha256").update(JSON.stringify(search)).digest("base64url").slice(0, 16);

export const sortKeyToWire = (values: SortKeyValues): WireValue[] =>
  values.map((v) => (v === null ? null : typeof v === "number" ? ["n", String(v)] : ["s", v]));

/** The sort key a token carries, checked against the search's terms; throws "Invalid page token" otherwise. */
export function sortKeyFromWire(wire: unknown, terms: readonly KeysetTerm[]): SortKeyValues {
  if (!Array.isArray(wire) || wire.length !== terms.length) throw invalidPageToken();
  return wire.map((entry: unknown, i) => {
    const term = terms[i]!;
    if (entry === null) {
      if (!term.nullable) throw invalidPageToken();
      return null;
    }
    if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[1] !== "string") throw invalidPageToken();
    const [tag, text] = entry as [unknown, string];
    if (term.kind === "string") {
      if (tag !== "s") throw invalidPageToken();
      return text;
    }
    const n = Number(text);
    if (tag !== "n" || Number.isNaN(n) || String(n) !== text) throw invalidPageToken();
    return n;
  });
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** The JSON body of a base64url token, or "Invalid page token". */
export function tokenBody(token: string): Record<string, unknown> {
  if (!BASE64URL.test(token)) throw invalidPageToken();
  let body: unknown;
  try {
    body = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    throw invalidPageToken();
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw invalidPageToken();
  return body as Record<string, unknown>;
}

export const encodeBody = (body: unknown) => Buffer.from(JSON.stringify(body), "utf8").toString("base64url");

export function encodeKeysetToken(fingerprint: string, after: SortKeyValues): string {
  return encodeBody({ s: fingerprint, a: sortKeyToWire(after) });
}

export function decodeKeysetToken(token: string, fingerprint: string, terms: readonly KeysetTerm[]): SortKeyValues {
  const { s, a } = tokenBody(token);
  if (s !== fingerprint) throw invalidPageToken();
  return sortKeyFromWire(a, terms);
}
