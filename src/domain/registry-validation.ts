/**
 * Registry input validation with MLflow 3's rules and messages (mlflow/utils/validation.py,
 * mlflow/entities/model_registry/model_version_stages.py). Every check throws INVALID_PARAMETER_VALUE.
 */
import type { Tag } from "./entities.js";
import { invalidParameter } from "./errors.js";
import { canonicalStage, type Stage } from "./model-registry.js";

export const MAX_REGISTRY_TAG_KEY_LENGTH = 250;
export const MAX_REGISTRY_TAG_VALUE_LENGTH = 5000;
export const MAX_ALIAS_LENGTH = 255;
/** The stages `archive_existing_versions` may be used with (MLflow's DEFAULT_STAGES_FOR_GET_LATEST_VERSIONS). */
export const ACTIVE_STAGES: readonly Stage[] = ["Staging", "Production"];

// Python's \w is Unicode-aware: letters, digits and underscore of any script.
const VALID_TAG_KEY = /^[/\p{L}\p{N}_.\- :]*$/u;
const VALID_ALIAS = /^[\p{L}\p{N}_-]*$/u;
const VERSION_ALIAS = /^[vV]\d+$/;
// What Python's int() accepts: optional sign, digits with single underscores between them, surrounding blanks.
const PY_INT = /^\s*[+-]?\d+(?:_\d+)*\s*$/;
const BAD_CHARACTERS =
  "Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colon(:) and slashes (/).";

const missing = (name: string) =>
  invalidParameter(`Missing value for required parameter '${name}'. See the API docs for more information about request parameters.`);

/** json.dumps as Python writes it (ASCII only), for MLflow's "Invalid value …" messages. */
function pyJson(value: string): string {
  return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

const invalidValue = (path: string, value: string, message: string) =>
  invalidParameter(`Invalid value ${pyJson(value)} for parameter '${path}' supplied: ${message}`);

/** Python's posixpath.normpath. */
export function pyNormpath(path: string): string {
  if (path === "") return ".";
  const leading = path.startsWith("/") ? (path.startsWith("//") && !path.startsWith("///") ? 2 : 1) : 0;
  const parts: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part !== ".." || (!leading && parts.length === 0) || parts.at(-1) === "..") parts.push(part);
    else if (parts.length) parts.pop();
  }
  return "/".repeat(leading) + parts.join("/") || ".";
}

function pathNotUnique(name: string): boolean {
  const norm = pyNormpath(name);
  return norm !== name || norm === "." || norm.startsWith("..") || norm.startsWith("/");
}

const badPath = (name: string) =>
  `Names may be treated as files in certain cases, and must not resolve to other names when treated as such. This name would resolve to '${pyNormpath(name)}'`;

const exceedsLength = (what: string, limit: number) => invalidParameter(`'${what}' exceeds the maximum length of ${limit} characters`);

/** A name given to look a registered model up: present and not blank. */
export function requireModelName(name: string, field = "name"): void {
  if (!name || name.trim() === "") throw missing(field);
}

/** A name a registered model is created or renamed to: no "/" or ":" (they would make `models:/` URIs ambiguous). */
export function validateNewModelName(name: string, field = "name"): void {
  requireModelName(name, field);
  if (name.includes("/") || name.includes(":")) {
    throw invalidParameter(`Invalid model name '${name}'. Names cannot contain '/' or ':'.`);
  }
  if (pathNotUnique(name)) throw invalidValue("name", name, badPath(name));
}

/** A version number as sent ("3"); MLflow parses it with Python's int(). */
export function parseModelVersion(version: string): number {
  if (!version) throw missing("version");
  if (!PY_INT.test(version)) throw invalidParameter(`Parameter 'version' must be an integer, got '${version}'.`);
  return Number(version.trim().replaceAll("_", ""));
}

/** Registered-model and model-version tags: MLflow's key characters and path rules, key ≤ 250, value ≤ 5,000. */
export function validateRegistryTag(tag: Tag): Tag {
  if (!VALID_TAG_KEY.test(tag.key)) throw invalidValue("key", tag.key, BAD_CHARACTERS);
  if (pathNotUnique(tag.key)) throw invalidValue("key", tag.key, badPath(tag.key));
  if (tag.key.length > MAX_REGISTRY_TAG_KEY_LENGTH) throw exceedsLength("key", MAX_REGISTRY_TAG_KEY_LENGTH);
  if (tag.value.length > MAX_REGISTRY_TAG_VALUE_LENGTH) throw exceedsLength("value", MAX_REGISTRY_TAG_VALUE_LENGTH);
  return tag;
}

/** A key given to delete a tag: present and a valid key name (its length is not checked, as in MLflow). */
export function validateTagKeyName(key: string): void {
  if (!key) throw missing("key");
  if (!VALID_TAG_KEY.test(key)) throw invalidValue("key", key, BAD_CHARACTERS);
  if (pathNotUnique(key)) throw invalidValue("key", key, badPath(key));
}

/** Any alias given: present, `^[\w-]*$`, at most 255 characters. */
export function validateAliasName(alias: string): void {
  if (!alias) throw missing("alias");
  if (!VALID_ALIAS.test(alias)) {
    throw invalidParameter(`Invalid alias name: '${alias}'. Names may only contain alphanumerics, underscores (_), and dashes (-).`);
  }
  if (alias.length > MAX_ALIAS_LENGTH) throw exceedsLength("Registered model alias name", MAX_ALIAS_LENGTH);
}

/** An alias being set: also not `latest` (any case) nor a version alias (`v3`), which `models:/` URIs reserve. */
export function validateNewAlias(alias: string): void {
  validateAliasName(alias);
  if (alias.toLowerCase() === "latest") throw invalidParameter("'latest' alias name (case insensitive) is reserved.");
  if (VERSION_ALIAS.test(alias)) throw invalidParameter(`Version alias name '${alias}' is reserved.`);
}

/** A stage in any case, as its canonical spelling. */
export function parseStage(stage: string): Stage {
  const canonical = canonicalStage(stage);
  if (!canonical) {
    throw invalidParameter(`Invalid Model Version stage: ${stage}. Value must be one of None, Staging, Production, Archived.`);
  }
  return canonical;
}

/**
 * Archiving the versions already in a stage makes sense only for Staging and Production. (MLflow raises this as an
 * INTERNAL_ERROR, a 500; it is the caller's mistake, so Logbook answers 400.)
 */
export function validateArchiveExisting(givenStage: string, stage: Stage, archiveExisting: boolean): void {
  if (archiveExisting && !ACTIVE_STAGES.includes(stage)) {
    throw invalidParameter(
      `Model version transition cannot archive existing model versions because '${givenStage}' is not an Active stage. Valid stages are ['Staging', 'Production']`,
    );
  }
}
