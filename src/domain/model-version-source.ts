/**
 * The source URI of a model version, read the way MLflow's server reads it (mlflow/server/handlers.py
 * `_validate_source_run`, `_validate_source_model`, `_validate_non_local_source_contains_relative_paths`;
 * mlflow/utils/uri.py; mlflow/store/artifact/utils/models.py): Python's urllib.parse semantics, MLflow's messages.
 * Pure functions; the checks that need stored runs and logged models live in the registry service.
 */
import { posix } from "node:path";
import { AppError, ErrorCode, invalidParameter } from "./errors.js";

export interface ParsedUri {
  /** Lower-cased; "" when there is none. */
  scheme: string;
  netloc: string;
  path: string;
}

const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*$/;

/** urllib.parse.urlsplit: scheme, authority and path (query and fragment dropped). */
export function parseUri(uri: string, allowFragments = true): ParsedUri {
  let rest = uri;
  let scheme = "";
  const colon = rest.indexOf(":");
  if (colon > 0 && SCHEME.test(rest.slice(0, colon))) {
    scheme = rest.slice(0, colon).toLowerCase();
    rest = rest.slice(colon + 1);
  }
  let netloc = "";
  if (rest.startsWith("//")) {
    const end = rest.slice(2).search(/[/?#]/);
    netloc = end < 0 ? rest.slice(2) : rest.slice(2, end + 2);
    rest = end < 0 ? "" : rest.slice(end + 2);
  }
  if (allowFragments && rest.includes("#")) rest = rest.slice(0, rest.indexOf("#"));
  if (rest.includes("?")) rest = rest.slice(0, rest.indexOf("?"));
  return { scheme, netloc, path: rest };
}

/** The host part of an authority, lower-cased (Python's `hostname`); "" when there is none. */
export function hostnameOf(netloc: string): string {
  const host = netloc.slice(netloc.lastIndexOf("@") + 1);
  if (host.startsWith("[")) return host.slice(1, host.indexOf("]") < 0 ? undefined : host.indexOf("]")).toLowerCase();
  return (host.split(":")[0] ?? "").toLowerCase();
}

/** urllib.parse.unquote: %XX sequences decoded as UTF-8 (bad bytes become U+FFFD), anything else kept. */
export function unquote(value: string): string {
  return value.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => new TextDecoder().decode(Buffer.from(run.replaceAll("%", ""), "hex")));
}

const unquotePlus = (value: string) => unquote(value.replaceAll("+", " "));

/**
 * A local path or `file:` URI (MLflow's is_local_uri); a `file:` URI naming another host is refused — with MLflow's
 * message and, as MLflow 3.17.2 raises it without an error code, INTERNAL_ERROR (HTTP 500; its own tests expect that).
 */
export function isLocalUri(uri: string): boolean {
  const { scheme, netloc } = parseUri(uri);
  if (scheme === "") return true;
  if (scheme !== "file") return false;
  const host = hostnameOf(netloc);
  if (host && host !== "." && !host.startsWith("localhost") && !host.startsWith("127.0.0.1")) {
    throw new AppError(
      ErrorCode.INTERNAL_ERROR,
      `${uri} is not a valid remote uri. For remote access on windows, please consider using a different scheme such as SMB (e.g. smb://<hostname>/<path>).`,
    );
  }
  return true;
}

/** The absolute, normalised file-system path of a local URI (relative paths resolve against the server's directory). */
export function localPathOf(uri: string): string {
  const path = uri.startsWith("file:") ? parseUri(uri).path : uri;
  return posix.resolve(unquote(path));
}

/**
 * MLflow's resolve_uri_if_local: a relative local path, or a `file:` URI with a relative path, made absolute against
 * `cwd` (a path stays a path; `file:rel` becomes `file:///<cwd>/rel`). Other URIs are returned as given.
 */
export function absoluteIfLocal(uri: string, cwd: string = process.cwd()): string {
  if (!isLocalUri(uri)) return uri;
  const { scheme, path } = parseUri(uri);
  if (scheme === "") return posix.isAbsolute(uri) ? uri : posix.resolve(cwd, uri);
  const decoded = unquote(path);
  if (posix.isAbsolute(decoded)) return uri;
  return `file://${posix.resolve(cwd, decoded)}`;
}

export const isPathWithin = (path: string, dir: string) => path === dir || path.startsWith(dir.endsWith("/") ? dir : `${dir}/`);

/**
 * Refuses `..` segments, NUL and any other relative reference, however often percent-encoded: the path of a
 * non-local source must be absolute and normal (`s3://bucket/a/b`, `runs:/<id>/model`).
 */
export function assertNoRelativeReferences(source: string): void {
  let decoded = source;
  for (let next = unquotePlus(decoded); next !== decoded; next = unquotePlus(decoded)) decoded = next;
  const path = parseUri(decoded).path.replace(/\/+$/, "").replace(/\/+/g, "/");
  const relative =
    path.includes("\0") ||
    decoded.split("/").includes("..") ||
    !path.startsWith("/") ||
    posix.normalize(path) !== path;
  if (relative) {
    throw invalidParameter(
      `Invalid model version source: '${source}'. If supplying a source as an http, https, local file path, ftp, objectstore, or mlflow-artifacts uri, an absolute path must be provided without relative path references present. Please provide an absolute path.`,
    );
  }
}

/** The run id of a `runs:/<run_id>/<path>` URI. */
export function runIdOfRunsUri(uri: string): string {
  const { path } = parseUri(uri);
  const runId = path.startsWith("/") ? (path.slice(1).split("/")[0] ?? "") : "";
  if (!runId) {
    throw invalidParameter(
      `Not a proper runs:/ URI: ${uri}. Runs URIs must be of the form 'runs:/<run_id>/run-relative/path/to/artifact'`,
    );
  }
  return runId;
}

/** What a `models:/` URI names: a logged model, or a registered model's version, stage, alias or latest version. */
export type ModelsUri =
  | { modelId: string }
  | { name: string; version?: string; stage?: string; alias?: string };

/** MLflow's _parse_model_uri; undefined when the URI is not a proper `models:/` URI. */
export function parseModelsUri(uri: string): ModelsUri | undefined {
  const { scheme, path } = parseUri(uri, false);
  if (scheme !== "models" || !path.startsWith("/") || path.length <= 1) return undefined;
  const parts = path.replace(/^\/+/, "").split("/");
  const [first = "", suffix] = parts;
  if (parts.length > 2 || first.trim() === "") return undefined;
  if (suffix !== undefined) {
    if (suffix.trim() === "") return undefined;
    if (/^\d+$/.test(suffix)) return { name: first, version: suffix };
    if (suffix.toLowerCase() === "latest") return { name: first };
    return { name: first, stage: suffix };
  }
  if (path.includes("@")) {
    const at = first.lastIndexOf("@");
    if (at < 0 || first.slice(at + 1).trim() === "") return undefined;
    return { name: first.slice(0, at), alias: first.slice(at + 1) };
  }
  return { modelId: first };
}

function uriParts(uri: string): { scheme: string; netloc: string; parts: string[] } {
  const { scheme, netloc, path } = parseUri(uri);
  const parts = path.split("/").filter(Boolean).map((p) => {
    let decoded = p;
    for (let next = unquote(decoded); next !== decoded; next = unquote(decoded)) decoded = next;
    return decoded;
  });
  return { scheme, netloc: netloc.toLowerCase(), parts };
}

const PROXY_ROUTE = ["api", "2.0", "mlflow-artifacts", "artifacts"];

/** An artifact the tracking server proxies: `mlflow-artifacts:` or an http(s) URL through its artifacts route. */
export function isProxiedArtifactSource(source: string): boolean {
  const { scheme, parts } = uriParts(source);
  if (scheme === "mlflow-artifacts") return true;
  if (scheme !== "http" && scheme !== "https") return false;
  return parts.some((_, i) => PROXY_ROUTE.every((segment, j) => parts[i + j] === segment));
}

/** Whether `source` lies under `root`: same scheme and authority, and the root's path segments as a prefix. */
export function isUriWithinRoot(source: string, root: string): boolean {
  const s = uriParts(source);
  const r = uriParts(root);
  return s.scheme === r.scheme && s.netloc === r.netloc && r.parts.length > 0 && r.parts.every((p, i) => s.parts[i] === p);
}

/** The source does not belong to the run (`run_id`) or logged model (`model_id`) the request names. */
export const sourceNotOfResource = (source: string, idName: "run_id" | "model_id") =>
  invalidParameter(
    `Invalid model version source: '${source}'. The ${idName} request parameter must identify the resource that contains the source.`,
  );

/** A local source outside the artifact directory of the named run or logged model. */
export const localSourceOutside = (source: string, idName: "run_id" | "model_id") =>
  invalidParameter(
    idName === "run_id"
      ? `Invalid model version source: '${source}'. To use a local path as a model version source, the run_id request parameter has to be specified and the local path has to be contained within the artifact directory of the run specified by the run_id.`
      : `Invalid model version source: '${source}'. To use a local path as a model version source, the model_id request parameter has to be specified and the local path has to be contained within the artifact directory of the run specified by the model_id.`,
  );
