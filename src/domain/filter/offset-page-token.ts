/**
 * Page tokens of searches that sort in memory (registered models, model versions): MLflow's `{"offset": N}`,
 * base64url. Anything this server did not issue → INVALID_PARAMETER_VALUE "Invalid page token".
 */
import { invalidPageToken } from "../messages.js";

export const encodeOffsetPageToken = (offset: number) => Buffer.from(JSON.stringify({ offset }), "utf8").toString("base64url");

export function decodeOffsetPageToken(token: string | undefined): number {
  if (!token) return 0;
  try {
    const body = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as { offset?: unknown };
    const offset = body.offset;
    if (Number.isSafeInteger(offset) && (offset as number) >= 0 && encodeOffsetPageToken(offset as number) === token) return offset as number;
  } catch {
    // not JSON: fall through
  }
  throw invalidPageToken();
}

/** One page of an already sorted list, and the token of the next page ("" on the last). */
export function pageOf<T>(all: readonly T[], offset: number, maxResults: number): { items: T[]; nextPageToken: string } {
  const end = offset + maxResults;
  return { items: all.slice(offset, end), nextPageToken: end < all.length ? encodeOffsetPageToken(end) : "" };
}
