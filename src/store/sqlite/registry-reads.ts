/**
 * Reading the model registry on SQLite: registered models and model versions whole (tags, aliases, latest version per
 * stage), and the lookups every registry method starts with. Callers run these inside their own transaction.
 */
import type { Database } from "better-sqlite3";
import type { Tag } from "../../domain/entities.js";
import {
  type ModelVersion,
  type ModelVersionStatus,
  type RegisteredModel,
  type RegisteredModelAlias,
  STAGES,
  type Stage,
} from "../../domain/model-registry.js";
import { modelVersionNotFound, registeredModelNotFound } from "../../domain/registry-messages.js";

export interface RegisteredModelRow {
  model_key: number;
  name: string;
  creation_time: number;
  last_updated_time: number;
  user_id: string;
  description: string;
}

export interface ModelVersionRow {
  model_key: number;
  name: string;
  version: number;
  creation_time: number;
  last_updated_time: number;
  user_id: string;
  current_stage: Stage;
  description: string;
  source: string;
  run_id: string;
  run_link: string;
  status: ModelVersionStatus;
  status_message: string | null;
  model_id: string | null;
  storage_location: string | null;
}

const MODEL_COLUMNS = "model_key, name, creation_time, last_updated_time, user_id, description";
/** From `model_versions v JOIN registered_models r`. */
export const VERSION_COLUMNS = `v.model_key, r.name, v.version, v.creation_time, v.last_updated_time, v.user_id, v.current_stage,
  v.description, v.source, v.run_id, v.run_link, v.status, v.status_message, v.model_id, v.storage_location`;
export const VERSIONS_FROM = "model_versions v JOIN registered_models r ON r.model_key = v.model_key";

const stageRank = (stage: Stage) => STAGES.indexOf(stage);

export interface RegistryReads {
  /** @throws RESOURCE_DOES_NOT_EXIST registeredModelNotFound */
  requireModel(name: string): RegisteredModelRow;
  /** As MLflow, a version of an unknown model is an unknown version. @throws RESOURCE_DOES_NOT_EXIST modelVersionNotFound */
  requireVersion(name: string, version: number): ModelVersionRow;
  model(row: RegisteredModelRow): RegisteredModel;
  version(row: ModelVersionRow): ModelVersion;
  /** The highest-numbered version of each stage, ordered by stage. */
  latestVersions(modelKey: number): ModelVersion[];
}

export function createRegistryReads(db: Database): RegistryReads {
  const selectModel = db.prepare<[string], RegisteredModelRow>(`SELECT ${MODEL_COLUMNS} FROM registered_models WHERE name = ?`);
  const selectVersion = db.prepare<[string, number], ModelVersionRow>(
    `SELECT ${VERSION_COLUMNS} FROM ${VERSIONS_FROM} WHERE r.name = ? AND v.version = ?`,
  );
  const selectModelTags = db.prepare<[number], Tag>("SELECT key, value FROM registered_model_tags WHERE model_key = ? ORDER BY key");
  const selectVersionTags = db.prepare<[number, number], Tag>(
    "SELECT key, value FROM model_version_tags WHERE model_key = ? AND version = ? ORDER BY key",
  );
  const selectModelAliases = db.prepare<[number], RegisteredModelAlias>(
    "SELECT alias, version FROM registered_model_aliases WHERE model_key = ? ORDER BY alias",
  );
  const selectVersionAliases = db
    .prepare<[number, number], string>("SELECT alias FROM registered_model_aliases WHERE model_key = ? AND version = ? ORDER BY alias")
    .pluck();
  // The subquery is served by model_versions_by_stage.
  const selectLatest = db.prepare<[{ model_key: number }], ModelVersionRow>(
    `SELECT ${VERSION_COLUMNS} FROM ${VERSIONS_FROM}
     WHERE v.model_key = @model_key AND v.version = (
       SELECT max(s.version) FROM model_versions s WHERE s.model_key = @model_key AND s.current_stage = v.current_stage)`,
  );

  const version = (row: ModelVersionRow): ModelVersion => {
    const mv: ModelVersion = {
      name: row.name,
      version: row.version,
      creationTimestamp: row.creation_time,
      lastUpdatedTimestamp: row.last_updated_time,
      userId: row.user_id,
      currentStage: row.current_stage,
      description: row.description,
      source: row.source,
      runId: row.run_id,
      runLink: row.run_link,
      status: row.status,
      tags: selectVersionTags.all(row.model_key, row.version),
      aliases: selectVersionAliases.all(row.model_key, row.version),
    };
    if (row.status_message !== null) mv.statusMessage = row.status_message;
    if (row.model_id !== null) mv.modelId = row.model_id;
    if (row.storage_location !== null) mv.storageLocation = row.storage_location;
    return mv;
  };

  const latestVersions = (modelKey: number): ModelVersion[] =>
    selectLatest
      .all({ model_key: modelKey })
      .sort((a, b) => stageRank(a.current_stage) - stageRank(b.current_stage))
      .map(version);

  return {
    requireModel(name) {
      const row = selectModel.get(name);
      if (row === undefined) throw registeredModelNotFound(name);
      return row;
    },
    requireVersion(name, v) {
      const row = selectVersion.get(name, v);
      if (row === undefined) throw modelVersionNotFound(name, v);
      return row;
    },
    model: (row) => ({
      name: row.name,
      creationTimestamp: row.creation_time,
      lastUpdatedTimestamp: row.last_updated_time,
      userId: row.user_id,
      description: row.description,
      latestVersions: latestVersions(row.model_key),
      tags: selectModelTags.all(row.model_key),
      aliases: selectModelAliases.all(row.model_key),
    }),
    version,
    latestVersions,
  };
}
