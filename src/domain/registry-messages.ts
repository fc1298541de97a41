/**
 * The errors the stores raise for registry and logged-model state, with MLflow's wording (mlflow/store/model_registry,
 * mlflow/store/tracking/sqlalchemy_store.py), so both stores say exactly the same thing.
 */
import { AppError, ErrorCode, invalidParameter, notFound } from "./errors.js";

export const registeredModelNotFound = (name: string) => notFound(`Registered Model with name=${name} not found`);

export const registeredModelExists = (name: string, cause?: unknown) =>
  new AppError(ErrorCode.RESOURCE_ALREADY_EXISTS, `Registered Model (name=${name}) already exists.`, { cause });

export const modelVersionNotFound = (name: string, version: number | string) =>
  notFound(`Model Version (name=${name}, version=${version}) not found`);

/** MLflow answers an unknown alias with INVALID_PARAMETER_VALUE (400), not RESOURCE_DOES_NOT_EXIST: kept for the wire. */
export const aliasNotFound = (_name: string, alias: string) => invalidParameter(`Registered model alias ${alias} not found.`);

export const loggedModelNotFound = (modelId: string) => notFound(`Logged model with ID '${modelId}' not found.`);

export const loggedModelTagNotFound = (modelId: string, key: string) =>
  notFound(`No tag with key '${key}' found for model with ID '${modelId}'.`);

export const loggedModelParamChanged = (modelId: string, key: string, oldValue: string, newValue: string) =>
  invalidParameter(
    `Changing param values is not allowed. Param with key='${key}' was already logged with value='${oldValue}' for logged model ID '${modelId}'. Attempted logging new value '${newValue}'.`,
  );
