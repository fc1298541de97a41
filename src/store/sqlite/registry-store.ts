/**
 * The model registry on SQLite. Every mutation is one IMMEDIATE transaction: it takes the database's write lock before
 * its first read, so version numbering (the model row's `last_version`, bumped in place) and archive-on-promote are
 * serialised across every connection and process on the file. Reads are deferred transactions (one snapshot).
 */
import type { Database } from "better-sqlite3";
import type { Tag } from "../../domain/entities.js";
import { type ModelVersion, STAGES, type Stage } from "../../domain/model-registry.js";
import { aliasNotFound, registeredModelExists } from "../../domain/registry-messages.js";
import type { NewModelVersion, RegistryStore } from "../types.js";
import { isUniqueViolation } from "./errors.js";
import { type ModelVersionRow, VERSIONS_FROM, VERSION_COLUMNS, createRegistryReads } from "./registry-reads.js";
import type { Synchronous } from "./synchronous.js";

export function createRegistryStore(db: Database): Synchronous<RegistryStore> {
  const reads = createRegistryReads(db);

  const insertModel = db
    .prepare<[{ name: string; now: number; user_id: string; description: string }], number>(
      `INSERT INTO registered_models (name, creation_time, last_updated_time, user_id, description)
       VALUES (@name, @now, @now, @user_id, @description) RETURNING model_key`,
    )
    .pluck();
  const renameModel = db.prepare<[string, number, number]>(
    "UPDATE registered_models SET name = ?, last_updated_time = ? WHERE model_key = ?",
  );
  const touchVersions = db.prepare<[number, number]>("UPDATE model_versions SET last_updated_time = ? WHERE model_key = ?");
  const updateModel = db.prepare<[string, number, number]>(
    "UPDATE registered_models SET description = ?, last_updated_time = ? WHERE model_key = ?",
  );
  const touchModel = db.prepare<[number, number]>("UPDATE registered_models SET last_updated_time = ? WHERE model_key = ?");
  const deleteModel = db.prepare<[number]>("DELETE FROM registered_models WHERE model_key = ?");
  const upsertModelTag = db.prepare<[number, string, string]>(
    `INSERT INTO registered_model_tags (model_key, key, value) VALUES (?, ?, ?)
     ON CONFLICT (model_key, key) DO UPDATE SET value = excluded.value`,
  );
  const deleteModelTag = db.prepare<[number, string]>("DELETE FROM registered_model_tags WHERE model_key = ? AND key = ?");

  const nextVersion = db
    .prepare<[number, number], number>(
      "UPDATE registered_models SET last_version = last_version + 1, last_updated_time = ? WHERE model_key = ? RETURNING last_version",
    )
    .pluck();
  const insertVersion = db.prepare<[Omit<ModelVersionRow, "name">]>(
    `INSERT INTO model_versions (model_key, version, creation_time, last_updated_time, user_id, current_stage, description,
       source, run_id, run_link, status, status_message, model_id, storage_location)
     VALUES (@model_key, @version, @creation_time, @last_updated_time, @user_id, @current_stage, @description,
       @source, @run_id, @run_link, @status, @status_message, @model_id, @storage_location)`,
  );
  const updateVersion = db.prepare<[string, number, number, number]>(
    "UPDATE model_versions SET description = ?, last_updated_time = ? WHERE model_key = ? AND version = ?",
  );
  const setStage = db.prepare<[Stage, number, number, number]>(
    "UPDATE model_versions SET current_stage = ?, last_updated_time = ? WHERE model_key = ? AND version = ?",
  );
  const archiveStage = db.prepare<[number, number, Stage, number]>(
    `UPDATE model_versions SET current_stage = 'Archived', last_updated_time = ?
     WHERE model_key = ? AND current_stage = ? AND version != ?`,
  );
  const deleteVersion = db.prepare<[number, number]>("DELETE FROM model_versions WHERE model_key = ? AND version = ?");
  const upsertVersionTag = db.prepare<[number, number, string, string]>(
    `INSERT INTO model_version_tags (model_key, version, key, value) VALUES (?, ?, ?, ?)
     ON CONFLICT (model_key, version, key) DO UPDATE SET value = excluded.value`,
  );
  const deleteVersionTag = db.prepare<[number, number, string]>(
    "DELETE FROM model_version_tags WHERE model_key = ? AND version = ? AND key = ?",
  );
  const selectVersionsOf = db.prepare<[number], ModelVersionRow>(
    `SELECT ${VERSION_COLUMNS} FROM ${VERSIONS_FROM} WHERE v.model_key = ? ORDER BY v.version DESC`,
  );

  const upsertAlias = db.prepare<[number, string, number]>(
    `INSERT INTO registered_model_aliases (model_key, alias, version) VALUES (?, ?, ?)
     ON CONFLICT (model_key, alias) DO UPDATE SET version = excluded.version`,
  );
  const deleteAlias = db.prepare<[number, string]>("DELETE FROM registered_model_aliases WHERE model_key = ? AND alias = ?");
  const selectAlias = db
    .prepare<[number, string], number>("SELECT version FROM registered_model_aliases WHERE model_key = ? AND alias = ?")
    .pluck();

  const createModel = db.transaction((model: { name: string; description: string; userId: string; tags: Tag[]; now: number }) => {
    let modelKey: number;
    try {
      modelKey = insertModel.get({ name: model.name, now: model.now, user_id: model.userId, description: model.description }) as number;
    } catch (err) {
      if (isUniqueViolation(err)) throw registeredModelExists(model.name, err);
      throw err;
    }
    for (const tag of model.tags) upsertModelTag.run(modelKey, tag.key, tag.value);
    return reads.model(reads.requireModel(model.name));
  });

  const rename = db.transaction((name: string, newName: string, now: number) => {
    const { model_key } = reads.requireModel(name);
    try {
      renameModel.run(newName, now, model_key);
    } catch (err) {
      if (isUniqueViolation(err)) throw registeredModelExists(newName, err);
      throw err;
    }
    // MLflow touches every version of a renamed model: their name changed.
    touchVersions.run(now, model_key);
    return reads.model(reads.requireModel(newName));
  });

  const createVersion = db.transaction((mv: NewModelVersion): ModelVersion => {
    const { model_key } = reads.requireModel(mv.name);
    const version = nextVersion.get(mv.now, model_key) as number;
    insertVersion.run({
      model_key,
      version,
      creation_time: mv.now,
      last_updated_time: mv.now,
      user_id: mv.userId,
      current_stage: "None",
      description: mv.description,
      source: mv.source,
      run_id: mv.runId,
      run_link: mv.runLink,
      status: "READY",
      status_message: null,
      model_id: mv.modelId ?? null,
      storage_location: mv.storageLocation ?? null,
    });
    for (const tag of mv.tags) upsertVersionTag.run(model_key, version, tag.key, tag.value);
    return reads.version(reads.requireVersion(mv.name, version));
  });

  const transition = db.transaction((name: string, version: number, stage: Stage, archiveExisting: boolean, now: number) => {
    const { model_key } = reads.requireVersion(name, version);
    if (archiveExisting) archiveStage.run(now, model_key, stage, version);
    setStage.run(stage, now, model_key, version);
    touchModel.run(now, model_key);
    return reads.version(reads.requireVersion(name, version));
  });

  const removeVersion = db.transaction((name: string, version: number, now: number) => {
    const { model_key } = reads.requireVersion(name, version);
    // Its tags and the aliases pointing at it go with it (ON DELETE CASCADE); its number stays taken (last_version).
    deleteVersion.run(model_key, version);
    touchModel.run(now, model_key);
  });

  const versionByAlias = db.transaction((name: string, alias: string) => {
    const { model_key } = reads.requireModel(name);
    const version = selectAlias.get(model_key, alias);
    if (version === undefined) throw aliasNotFound(name, alias);
    return reads.version(reads.requireVersion(name, version));
  });

  /** A function run in an IMMEDIATE transaction. */
  const write = <A extends unknown[], R>(fn: (...args: A) => R) => {
    const tx = db.transaction(fn);
    return (...args: A): R => tx.immediate(...args);
  };
  /** A function run in a deferred (read) transaction: one consistent snapshot. */
  const read = <A extends unknown[], R>(fn: (...args: A) => R) => {
    const tx = db.transaction(fn);
    return (...args: A): R => tx.deferred(...args);
  };

  return {
    createRegisteredModel: (model) => createModel.immediate(model),
    getRegisteredModel: read((name: string) => reads.model(reads.requireModel(name))),
    renameRegisteredModel: (name, newName, now) => rename.immediate(name, newName, now),
    updateRegisteredModel: write((name: string, description: string, now: number) => {
      const { model_key } = reads.requireModel(name);
      updateModel.run(description, now, model_key);
      return reads.model(reads.requireModel(name));
    }),
    deleteRegisteredModel: write((name: string) => {
      deleteModel.run(reads.requireModel(name).model_key);
    }),
    setRegisteredModelTag: write((name: string, tag: Tag) => {
      upsertModelTag.run(reads.requireModel(name).model_key, tag.key, tag.value);
    }),
    deleteRegisteredModelTag: write((name: string, key: string) => {
      deleteModelTag.run(reads.requireModel(name).model_key, key);
    }),
    getLatestVersions: read((name: string, stages: Stage[]) => {
      const wanted = new Set<Stage>(stages.length === 0 ? STAGES : stages);
      return reads.latestVersions(reads.requireModel(name).model_key).filter((v) => wanted.has(v.currentStage));
    }),

    createModelVersion: (mv) => createVersion.immediate(mv),
    getModelVersion: read((name: string, version: number) => reads.version(reads.requireVersion(name, version))),
    updateModelVersion: write((name: string, version: number, description: string, now: number) => {
      updateVersion.run(description, now, reads.requireVersion(name, version).model_key, version);
      return reads.version(reads.requireVersion(name, version));
    }),
    deleteModelVersion: (name, version, now) => removeVersion.immediate(name, version, now),
    setModelVersionTag: write((name: string, version: number, tag: Tag) => {
      upsertVersionTag.run(reads.requireVersion(name, version).model_key, version, tag.key, tag.value);
    }),
    deleteModelVersionTag: write((name: string, version: number, key: string) => {
      deleteVersionTag.run(reads.requireVersion(name, version).model_key, version, key);
    }),
    transitionModelVersionStage: (name, version, stage, archiveExisting, now) => transition.immediate(name, version, stage, archiveExisting, now),
    listModelVersionsOf: read((name: string) => selectVersionsOf.all(reads.requireModel(name).model_key).map(reads.version)),

    setRegisteredModelAlias: write((name: string, alias: string, version: number) => {
      upsertAlias.run(reads.requireVersion(name, version).model_key, alias, version);
    }),
    deleteRegisteredModelAlias: write((name: string, alias: string) => {
      deleteAlias.run(reads.requireModel(name).model_key, alias);
    }),
    getModelVersionByAlias: (name, alias) => versionByAlias.deferred(name, alias),
  };
}
