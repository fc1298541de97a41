/**
 * Personal access tokens: `lbk_<token id: 16 hex>_<secret: 32 random bytes, base64url>`. The id finds the stored
 * record; only the secret's SHA-256 is stored (the secret has 256 bits of entropy, so a fast hash is enough — no KDF),
 * compared in constant time.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

const TOKEN = /^lbk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

export interface NewToken {
  tokenId: string;
  /** What the user is given, once. */
  token: string;
  secretHash: string;
}

export const hashSecret = (secret: string) => createHash("sha256").update(secret).digest("hex");

export function newAccessToken(): NewToken {
  const tokenId = randomBytes(8).toString("hex");
  const secret = randomBytes(32).toString("base64url");
  return { tokenId, token: `lbk_${tokenId}_${secret}`, secretHash: hashSecret(secret) };
}

/** The parts of a string shaped like a token; undefined otherwise. */
export function parseAccessToken(value: string): { tokenId: string; secret: string } | undefined {
  const m = TOKEN.exec(value);
  return m ? { tokenId: m[1]!, secret: m[2]! } : undefined;
}

export function secretMatches(secret: string, secretHash: string): boolean {
  const expected = Buffer.from(secretHash, "hex");
  const actual = Buffer.from(hashSecret(secret), "hex");
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
