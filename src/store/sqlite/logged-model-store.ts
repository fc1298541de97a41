/**
 * MLflow 3 logged models on SQLite. Mutations are IMMEDIATE transactions; reads are deferred ones (one snapshot).
 * A deleted model keeps its row with lifecycle_stage 'deleted' (as in MLflow) and is unknown to every method.
 * Linked metrics are the model's links in logged_model_metrics (written by logBatch for every point carrying a model
 * id); registrations are the model versions whose model_id it is.
 */
import type { Database } from "better-sqlite3";
import type { LifecycleStage, Metric, Tag } from "../../domain/entities.js";
import { type LoggedModel, type LoggedModelStatus, loggedModelArtifactUri } from "../../domain/logged-model.js";
import { experimentNotActive, experimentNotFound } from "../../domain/messages.js";
import { loggedModelNotFound, loggedModelParamChanged, loggedModelTagNotFound } from "../../domain/registry-messages.js";
import type { LoggedModelStore, NewLoggedModel } from "../types.js";
import { type MetricRow, parseExperimentId, rowToMetric } from "./mapping.js";
import type { Synchronous } from "./synchronous.js";

export interface LoggedModelRow {
  model_id: string;
  experiment_id: number;
  name: string;
  creation_time: number;
  last_updated_time: number;
  artifact_uri: string;
  status: LoggedModelStatus;
  status_message: string | null;
  creator_id: string | null;
  model_type: string | null;
  source_run_id: string | null;
}

export const MODEL_COLUMNS = `model_id, experiment_id, name, creation_time, last_updated_time, artifact_uri, status, status_message,
  creator_id, model_type, source_run_id`;

/** A stored model whole: tags, params, linked metrics (history order) and registrations (name, then version). */
export function createLoggedModelReader(db: Database): (row: LoggedModelRow) => LoggedModel {
  const selectTags = db.prepare<[string], Tag>("SELECT key, value FROM logged_model_tags WHERE model_id = ? ORDER BY key");
  const selectParams = db.prepare<[string], Tag>("SELECT key, value FROM logged_model_params WHERE model_id = ? ORDER BY key");
  // logged_model_metrics' primary key serves both the filter and the order.
  const selectMetrics = db.prepare<[string], MetricRow & { run_id: string }>(
    `SELECT run_id, key, step, timestamp, is_nan, value, is_negative_zero, model_id, dataset_name, dataset_digest
     FROM logged_model_metrics WHERE model_id = ?
     ORDER BY timestamp, step, is_nan, value, is_negative_zero, run_id, key`,
  );
  const selectRegistrations = db.prepare<[string], { name: string; version: number }>(
    `SELECT r.name, v.version FROM model_versions v JOIN registered_models r ON r.model_key = v.model_key
     WHERE v.model_id = ? ORDER BY r.name, v.version`,
  );

  return (row: LoggedModelRow): LoggedModel => {
    const model: LoggedModel = {
      modelId: row.model_id,
      experimentId: String(row.experiment_id),
      name: row.name,
      creationTimestampMs: row.creation_time,
      lastUpdatedTimestampMs: row.last_updated_time,
      artifactUri: row.artifact_uri,
      status: row.status,
      tags: selectTags.all(row.model_id),
      params: selectParams.all(row.model_id),
      metrics: selectMetrics.all(row.model_id).map((m): Metric & { runId: string } => ({ ...rowToMetric(m), runId: m.run_id })),
      registrations: selectRegistrations.all(row.model_id).map((r) => ({ name: r.name, version: String(r.version) })),
    };
    if (row.status_message !== null) model.statusMessage = row.status_message;
    if (row.creator_id !== null) model.creatorId = row.creator_id;
    if (row.model_type !== null) model.modelType = row.model_type;
    if (row.source_run_id !== null) model.sourceRunId = row.source_run_id;
    return model;
  };
}

export function createLoggedModelStore(db: Database): Synchronous<LoggedModelStore> {
  const selectExperiment = db.prepare<[number], { lifecycle_stage: LifecycleStage; artifact_location: string }>(
    "SELECT lifecycle_stage, artifact_location FROM experiments WHERE experiment_id = ?",
  );
  const insertModel = db.prepare<[Omit<LoggedModelRow, "status_message">]>(
    `INSERT INTO logged_models (model_id, experiment_id, name, creation_time, last_updated_time, artifact_uri, status,
       creator_id, model_type, source_run_id, lifecycle_stage)
     VALUES (@model_id, @experiment_id, @name, @creation_time, @last_updated_time, @artifact_uri, @status,
       @creator_id, @model_type, @source_run_id, 'active')`,
  );
  const selectModel = db.prepare<[string], LoggedModelRow>(
    `SELECT ${MODEL_COLUMNS} FROM logged_models WHERE model_id = ? AND lifecycle_stage = 'active'`,
  );
  const setStatus = db.prepare<[LoggedModelStatus, number, string]>(
    "UPDATE logged_models SET status = ?, last_updated_time = ? WHERE model_id = ?",
  );
  const touch = db.prepare<[number, string]>("UPDATE logged_models SET last_updated_time = ? WHERE model_id = ?");
  const markDeleted = db.prepare<[number, string]>(
    "UPDATE logged_models SET lifecycle_stage = 'deleted', last_updated_time = ? WHERE model_id = ?",
  );
  const upsertTag = db.prepare<[string, string, string]>(
    `INSERT INTO logged_model_tags (model_id, key, value) VALUES (?, ?, ?)
     ON CONFLICT (model_id, key) DO UPDATE SET value = excluded.value`,
  );
  const deleteTag = db.prepare<[string, string]>("DELETE FROM logged_model_tags WHERE model_id = ? AND key = ?");
  const insertParam = db.prepare<[string, string, string]>(
    "INSERT INTO logged_model_params (model_id, key, value) VALUES (?, ?, ?) ON CONFLICT (model_id, key) DO NOTHING",
  );
  const selectParam = db
    .prepare<[string, string], string>("SELECT value FROM logged_model_params WHERE model_id = ? AND key = ?")
    .pluck();
  const whole = createLoggedModelReader(db);

  /** @throws RESOURCE_DOES_NOT_EXIST loggedModelNotFound for an unknown or deleted model. */
  const requireModel = (modelId: string): LoggedModelRow => {
    const row = selectModel.get(modelId);
    if (row === undefined) throw loggedModelNotFound(modelId);
    return row;
  };

  /** Params are immutable: checked all before any is written, so a refused call writes none (and the rollback is moot). */
  const addParams = (modelId: string, params: Tag[]) => {
    for (const param of params) {
      const logged = selectParam.get(modelId, param.key);
      if (logged !== undefined && logged !== param.value) throw loggedModelParamChanged(modelId, param.key, logged, param.value);
    }
    for (const param of params) insertParam.run(modelId, param.key, param.value);
  };

  const create = (model: NewLoggedModel): LoggedModel => {
    const experimentId = parseExperimentId(model.experimentId);
    const experiment = experimentId === undefined ? undefined : selectExperiment.get(experimentId);
    if (experimentId === undefined || experiment === undefined) throw experimentNotFound(model.experimentId);
    if (experiment.lifecycle_stage !== "active") throw experimentNotActive(model.experimentId, experiment.lifecycle_stage);
    insertModel.run({
      model_id: model.modelId,
      experiment_id: experimentId,
      name: model.name,
      creation_time: model.now,
      last_updated_time: model.now,
      artifact_uri: loggedModelArtifactUri(experiment.artifact_location, model.modelId),
      status: "PENDING",
      creator_id: model.creatorId ?? null,
      model_type: model.modelType ?? null,
      source_run_id: model.sourceRunId ?? null,
    });
    addParams(model.modelId, model.params);
    for (const tag of model.tags) upsertTag.run(model.modelId, tag.key, tag.value);
    return whole(requireModel(model.modelId));
  };

  const write = <A extends unknown[], R>(fn: (...args: A) => R) => {
    const tx = db.transaction(fn);
    return (...args: A): R => tx.immediate(...args);
  };
  const read = <A extends unknown[], R>(fn: (...args: A) => R) => {
    const tx = db.transaction(fn);
    return (...args: A): R => tx.deferred(...args);
  };

  return {
    createLoggedModel: write(create),
    getLoggedModel: read((modelId: string) => whole(requireModel(modelId))),
    finalizeLoggedModel: write((modelId: string, status: LoggedModelStatus, now: number) => {
      requireModel(modelId);
      setStatus.run(status, now, modelId);
      return whole(requireModel(modelId));
    }),
    deleteLoggedModel: write((modelId: string, now: number) => {
      requireModel(modelId);
      markDeleted.run(now, modelId);
    }),
    setLoggedModelTags: write((modelId: string, tags: Tag[], now: number) => {
      requireModel(modelId);
      for (const tag of tags) upsertTag.run(modelId, tag.key, tag.value);
      touch.run(now, modelId);
      return whole(requireModel(modelId));
    }),
    deleteLoggedModelTag: write((modelId: string, key: string, now: number) => {
      requireModel(modelId);
      if (deleteTag.run(modelId, key).changes === 0) throw loggedModelTagNotFound(modelId, key);
      touch.run(now, modelId);
    }),
    logLoggedModelParams: write((modelId: string, params: Tag[], now: number) => {
      requireModel(modelId);
      addParams(modelId, params);
      touch.run(now, modelId);
    }),
  };
}
