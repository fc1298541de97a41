/**
 * Input rules for MLflow 3 logged models (mlflow/utils/validation.py, mlflow/store/tracking/sqlalchemy_store.py).
 * Like validation.ts, every check throws before storage is touched.
 */
import type { Tag } from "./entities.js";
import { invalidParameter } from "./errors.js";
import { LOGGED_MODEL_ID_PATTERN } from "./logged-model.js";
import { loggedModelNotFound } from "./registry-messages.js";
import { requireField, validateParam, validateRunTag } from "./validation.js";

/** Characters MLflow refuses in a logged model's name (they would break `models:/` URIs and paths). */
const NAME_BAD_CHARACTERS = ["/", ":", ".", "%", '"', "'"];
/** The list as MLflow's message prints it (a Python tuple). */
const NAME_BAD_CHARACTERS_TEXT = `('/', ':', '.', '%', '"', "'")`;

/** MLflow's `_validate_logged_model_name`: a given name is non-empty and free of path and URI characters. */
export function validateLoggedModelName(name: string): void {
  if (NAME_BAD_CHARACTERS.some((c) => name.includes(c))) {
    throw invalidParameter(
      `Invalid model name ('${name}') provided. Model name must be a non-empty string and cannot contain the following characters: ${NAME_BAD_CHARACTERS_TEXT}`,
    );
  }
}

/**
 * A logged model id of a request that addresses one model. MLflow looks any string up, so an id that no model can
 * have is simply not found (RESOURCE_DOES_NOT_EXIST) — answered here without a store round trip.
 */
export function requireLoggedModelId(modelId: string): string {
  requireField(modelId, "model_id");
  if (!LOGGED_MODEL_ID_PATTERN.test(modelId)) throw loggedModelNotFound(modelId);
  return modelId;
}

/** A model id given as a reference to link (LogOutputs): it must be one a logged model can have. */
export function validateLoggedModelReference(modelId: string, field: string): string {
  requireField(modelId, field);
  if (!LOGGED_MODEL_ID_PATTERN.test(modelId)) {
    throw invalidParameter(`Invalid value '${modelId}' for parameter '${field}' supplied: a logged model ID is 'm-' followed by 32 hex characters.`);
  }
  return modelId;
}

/**
 * Params of one call, with run-param rules (key characters and length; over-long values truncated as MLflow 3 does).
 * The same key twice with one value is one param; with two values the call is refused, nothing written.
 */
export function validateLoggedModelParams(params: Tag[]): Tag[] {
  const byKey = new Map<string, Tag>();
  for (const p of params.map(validateParam)) {
    const seen = byKey.get(p.key);
    if (seen && seen.value !== p.value) {
      throw invalidParameter(
        `Duplicate parameter keys have been submitted: ['${p.key}']. Please ensure the request contains only one param value per param key.`,
      );
    }
    byKey.set(p.key, p);
  }
  return [...byKey.values()];
}

/** Tags of one call, with run-tag rules; a key given twice keeps its last value. */
export function validateLoggedModelTags(tags: Tag[]): Tag[] {
  const byKey = new Map<string, Tag>();
  for (const t of tags.map(validateRunTag)) byKey.set(t.key, t);
  return [...byKey.values()];
}
