/** One keyset page of a search, from and to the opaque page tokens of src/domain/filter/keyset-token.ts. */
import { type KeysetTerm, type SortKeyValues, decodeKeysetToken, encodeKeysetToken, searchFingerprint } from "../domain/filter/keyset-token.js";
import type { KeysetPage } from "../store/types.js";

/**
 * A keyset page of a search whose query is `search`: the store's page from the token's sort key, and the token of the
 * next page ("" on the last).
 */
export async function keysetPage<T>(
  search: unknown,
  terms: readonly KeysetTerm[],
  req: { maxResults: number; pageToken: string | undefined },
  read: (page: KeysetPage) => Promise<{ items: T[]; next?: SortKeyValues }>,
): Promise<{ items: T[]; nextPageToken: string }> {
  const fingerprint = searchFingerprint(search);
  const page: KeysetPage = { maxResults: req.maxResults };
  if (req.pageToken) page.after = decodeKeysetToken(req.pageToken, fingerprint, terms);
  const { items, next } = await read(page);
  return { items, nextPageToken: next ? encodeKeysetToken(fingerprint, next) : "" };
}
