/**
 * Password hashes: scrypt (node:crypto), a memory-hard KDF, with OWASP's scrypt settings N=2^15, r=8, p=3 (32 MiB,
 * a few hundred milliseconds here) and a 16-byte random salt. The stored string names its parameters
 * (`scrypt$<log2 N>$<r>$<p>$<salt>$<hash>`, base64url), so they can be raised later without invalidating old hashes.
 * Derivation runs on libuv's thread pool, never on the event loop; comparison is constant-time.
 */
import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";

const LOG_N = 15;
const R = 8;
const P = 3;
const KEY_BYTES = 32;
const SALT_BYTES = 16;
/** Largest parameters a stored hash may ask for (bounds the memory an edited row could make a sign-in use). */
const MAX_LOG_N = 20;
const MAX_MEMORY = 256 * 1024 * 1024;

function derive(password: string, salt: Buffer, logN: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password.normalize("NFC"), salt, KEY_BYTES, { N: 2 ** logN, r, p, maxmem: MAX_MEMORY }, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, LOG_N, R, P);
  return ["scrypt", LOG_N, R, P, salt.toString("base64url"), key.toString("base64url")].join("$");
}

/** False for a wrong password and for a hash this code cannot read (never throws on a bad stored value). */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split("$");
  if (parts.length !== 6 || parts[0] !== "scrypt") return false;
  const [logN, r, p] = parts.slice(1, 4).map(Number) as [number, number, number];
  if (![logN, r, p].every(Number.isSafeInteger) || logN < 1 || logN > MAX_LOG_N || r < 1 || r > 32 || p < 1 || p > 16) return false;
  const expected = Buffer.from(parts[5]!, "base64url");
  if (expected.length !== KEY_BYTES) return false;
  const key = await derive(password, Buffer.from(parts[4]!, "base64url"), logN, r, p);
  return timingSafeEqual(key, expected);
}

/** A well-formed hash of no password, verified against when a username is unknown so that both take as long. */
let decoy: Promise<string> | undefined;
export function decoyHash(): Promise<string> {
  decoy ??= hashPassword(randomBytes(18).toString("base64url"));
  return decoy;
}
