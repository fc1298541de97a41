/**
 * The errors every store raises for stored state, with MLflow's wording (mlflow/store/tracking/*),
 * so the SQLite and MongoDB stores say exactly the same thing. Clients and the MLflow test suite
 * match on these texts: change them only together with the conformance suite.
 */
import { AppError, ErrorCode, invalidParameter, notFound } from "./errors.js";
import type { LifecycleStage } from "./entities.js";
import { paramChangedMessage } from "./validation.js";

export const experimentNotFound = (experimentId: string) => notFound(`No Experiment with id=${experimentId} exists`);

export const experimentNameExists = (name: string, cause?: unknown) =>
  new AppError(ErrorCode.RESOURCE_ALREADY_EXISTS, `Experiment(name=${name}) already exists.`, { cause });

/** Creating a run in (or renaming, tagging) a deleted experiment. MLflow says INVALID_PARAMETER_VALUE. */
export const experimentNotActive = (experimentId: string, stage: LifecycleStage = "deleted") =>
  invalidParameter(`The experiment ${experimentId} must be in the 'active' state. Current state is ${stage}.`);

export const experimentTagNotFound = (experimentId: string, key: string) =>
  notFound(`No tag with name: ${key} in experiment with id ${experimentId}`);

export const runNotFound = (runId: string) => notFound(`Run with id=${runId} not found`);

export const runAlreadyExists = (runId: string, cause?: unknown) =>
  new AppError(ErrorCode.RESOURCE_ALREADY_EXISTS, `Run with id=${runId} already exists.`, { cause });

/** Writing to a deleted run. MLflow says INVALID_PARAMETER_VALUE (HTTP 400), not INVALID_STATE (500). */
export const runNotActive = (runId: string, stage: LifecycleStage = "deleted") =>
  invalidParameter(`The run ${runId} must be in the 'active' state. Current state is ${stage}.`);

export const runTagNotFound = (runId: string, key: string) => notFound(`No tag with name: ${key} in run with id ${runId}`);

/** A param logged again with another value (MLflow params are immutable). */
export const paramChanged = (runId: string, key: string, oldValue: string, newValue: string) =>
  invalidParameter(paramChangedMessage(runId, key, oldValue, newValue));

/** A page token this server did not issue, or one that was altered. */
export const invalidPageToken = () => invalidParameter("Invalid page token");
