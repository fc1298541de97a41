/**
 * An experiment's `artifact_location` as MLflow 3.17.2's server takes it (handlers.py `_validate_storage_location_uri`,
 * the SQL store's `resolve_uri_if_local`): no fragment or params, no `..` in the query, not a `runs:/` URI, at most
 * 2048 characters; a relative local path (or `file:` URI) is made absolute against the server's working directory.
 *
 * One rule MLflow lacks: a location may not lie inside a run's or a logged model's artifact directory
 * (`…/<run_id>/artifacts/…`, `…/models/<model_id>/artifacts/…`) — the runs of such an experiment would write into
 * another run's files. Run ids are 32 hexadecimal digits (whoever chooses them) and model ids `m-<32 hex>`, so the
 * rule holds for runs and models that do not exist yet too.
 */
import { invalidParameter } from "./errors.js";
import { LOGGED_MODEL_ID_PATTERN } from "./logged-model.js";
import { absoluteIfLocal, parseUri, unquote } from "./model-version-source.js";

/** MLflow's MLFLOW_ARTIFACT_LOCATION_MAX_LENGTH default. */
export const MAX_ARTIFACT_LOCATION_LENGTH = 2048;

/** Schemes whose last path segment Python's urlparse splits `;params` from (urllib.parse.uses_params). */
const USES_PARAMS = new Set(["", "ftp", "hdl", "prospero", "http", "imap", "https", "shttp", "rtsp", "rtspu", "sip", "sips", "mms", "sftp", "tel"]);

const RUN_ID = /^[0-9a-f]{32}$/;

/** `urllib.parse.unquote` until the text stops changing (MLflow's `_decode`, ten rounds at most). */
function decodeFully(text: string): string {
  let current = text;
  for (let i = 0; i < 10; i++) {
    const next = unquote(current);
    if (next === current) return current;
    current = next;
  }
  return current;
}

/** The run or logged model whose artifact directory `location` lies in, if any. */
function ownerOfTree(location: string): string | undefined {
  const segments = decodeFully(parseUri(location).path).split("/").filter((s) => s !== "" && s !== ".");
  for (let i = 0; i + 1 < segments.length; i++) {
    if (segments[i + 1] !== "artifacts") continue;
    const id = segments[i]!;
    if (RUN_ID.test(id)) return `run '${id}'`;
    if (LOGGED_MODEL_ID_PATTERN.test(id) && segments[i - 1] === "models") return `logged model '${id}'`;
  }
  return undefined;
}

/** The location to store for `artifact_location` (absolute when local). @throws INVALID_PARAMETER_VALUE */
export function experimentArtifactLocationOf(location: string, cwd?: string): string {
  const { scheme, path } = parseUri(location, false);
  const lastSegment = path.slice(path.lastIndexOf("/") + 1);
  if (location.includes("#") || (USES_PARAMS.has(scheme) && lastSegment.includes(";"))) {
    throw invalidParameter("'artifact_location' URL can't include fragments or params.");
  }
  const query = location.includes("?") ? location.slice(location.indexOf("?") + 1) : "";
  if (decodeFully(query).includes("..")) throw invalidParameter("Invalid query string");
  if (location.startsWith("runs:")) throw invalidParameter(`Artifact location cannot be a runs:/ URI. Given: '${location}'`);
  const stored = absoluteIfLocal(location, cwd);
  if (stored.length > MAX_ARTIFACT_LOCATION_LENGTH) {
    throw invalidParameter(
      `Invalid artifact path length. The length of the artifact path cannot be greater than ${MAX_ARTIFACT_LOCATION_LENGTH} characters. ` +
        "To configure this limit, please set the MLFLOW_ARTIFACT_LOCATION_MAX_LENGTH environment variable.",
    );
  }
  const owner = ownerOfTree(stored);
  if (owner) {
    throw invalidParameter(`Invalid artifact location '${location}': it lies inside the artifact directory of ${owner}, whose files it would overwrite.`);
  }
  return stored;
}
