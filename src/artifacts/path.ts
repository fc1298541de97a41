/**
 * Artifact path safety (DESIGN.md §3): a path is relative, "/"-separated, and can never leave its
 * root, on disk or in GridFS naming. Rejected with MLflow's 400 INVALID_PARAMETER_VALUE "Invalid path":
 * `..` segments, absolute paths (leading "/", drive letters), backslashes, NUL and other control
 * characters — also when they only appear after percent-decoding the path once or several times
 * (`%2e%2e`, `%252e%252e`, `%5c`, `%00`, …), since some layer between a client and a disk may decode again.
 */
import { invalidParameter } from "../domain/errors.js";

/** The folder of in-progress uploads at the root of a filesystem store; never an artifact path. */
export const UPLOADS_DIR = ".logbook-uploads";

/** How many rounds of percent-decoding are checked (a path still changing after that is refused). */
const MAX_DECODE_ROUNDS = 4;

export const invalidPath = () => invalidParameter("Invalid path");

const CONTROL = /[\u0000-\u001f\u007f]/;
const DRIVE = /^[a-zA-Z]:/;

function unsafe(form: string): boolean {
  if (form.includes("\\") || CONTROL.test(form)) return true;
  if (form.startsWith("/") || DRIVE.test(form)) return true;
  return form.split("/").some((s) => s === ".." || s === UPLOADS_DIR);
}

/**
 * Validates an artifact path and returns its normal form: segments joined by "/", without empty and
 * "." segments ("" for the root). `allowRoot` is false for paths that must name a file.
 */
export function normalizeArtifactPath(path: string, options: { allowRoot?: boolean } = {}): string {
  let form = path;
  for (let round = 0; ; round++) {
    if (unsafe(form)) throw invalidPath();
    if (!form.includes("%")) break;
    let decoded: string;
    try {
      decoded = decodeURIComponent(form);
    } catch {
      break; // a literal '%' that is not an escape: nothing more to decode
    }
    if (decoded === form) break;
    if (round === MAX_DECODE_ROUNDS) throw invalidPath();
    form = decoded;
  }
  const normal = path
    .split("/")
    .filter((s) => s !== "" && s !== ".")
    .join("/");
  if (!normal && !options.allowRoot) throw invalidPath();
  return normal;
}

/** Joins normal paths ("" is the root). */
export function joinArtifactPath(...parts: string[]): string {
  return parts.filter((p) => p !== "").join("/");
}

/** The last segment of a normal path. */
export function baseName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}
