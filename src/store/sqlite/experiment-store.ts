/** Experiments and their tags on SQLite. */
import type { Database } from "better-sqlite3";
import { experimentArtifactLocation, type LifecycleStage, type Tag } from "../../domain/entities.js";
import { experimentNameExists, experimentNotFound, experimentTagNotFound } from "../../domain/messages.js";
import type { ExperimentStore } from "../types.js";
import { isUniqueViolation } from "./errors.js";
import { type ExperimentRow, parseExperimentId, rowToExperiment } from "./mapping.js";
import type { ChangeLog } from "./change-log.js";
import type { Synchronous } from "./synchronous.js";

const EXPERIMENT_COLUMNS = "experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time";

export function createExperimentStore(db: Database, changes: ChangeLog, defaultArtifactRoot?: string): Synchronous<ExperimentStore> {
  const insertExperiment = db
    .prepare<[{ name: string; now: number }], number>(
      `INSERT INTO experiments (name, artifact_location, lifecycle_stage, creation_time, last_update_time)
       VALUES (@name, '', 'active', @now, @now)
       RETURNING experiment_id`,
    )
    .pluck();
  // The default location names the id, which exists only once the row does.
  const setArtifactLocation = db.prepare<[string, number]>(
    "UPDATE experiments SET artifact_location = ? WHERE experiment_id = ?",
  );
  const selectById = db.prepare<[number], ExperimentRow>(`SELECT ${EXPERIMENT_COLUMNS} FROM experiments WHERE experiment_id = ?`);
  const selectByName = db.prepare<[string], ExperimentRow>(`SELECT ${EXPERIMENT_COLUMNS} FROM experiments WHERE name = ?`);
  const selectTags = db.prepare<[number], Tag>("SELECT key, value FROM experiment_tags WHERE experiment_id = ? ORDER BY key");
  const exists = db.prepare<[number], number>("SELECT 1 FROM experiments WHERE experiment_id = ?").pluck();
  const rename = db.prepare<[{ id: number; name: string; now: number }]>(
    "UPDATE experiments SET name = @name, last_update_time = @now WHERE experiment_id = @id",
  );
  const setStage = db.prepare<[{ id: number; stage: LifecycleStage; now: number }]>(
    "UPDATE experiments SET lifecycle_stage = @stage, last_update_time = @now WHERE experiment_id = @id",
  );
  // MLflow moves every run of the experiment with it, including runs deleted on their own before.
  const setRunsStage = db.prepare<[{ id: number; stage: LifecycleStage; now: number }]>(
    `UPDATE runs SET lifecycle_stage = @stage, deleted_time = CASE WHEN @stage = 'deleted' THEN @now END
     WHERE experiment_id = @id`,
  );
  const upsertTag = db.prepare<[number, string, string]>(
    `INSERT INTO experiment_tags (experiment_id, key, value) VALUES (?, ?, ?)
     ON CONFLICT (experiment_id, key) DO UPDATE SET value = excluded.value`,
  );
  const deleteTag = db.prepare<[number, string]>("DELETE FROM experiment_tags WHERE experiment_id = ? AND key = ?");

  /** The stored id of an existing experiment. @throws RESOURCE_DOES_NOT_EXIST */
  const requireExperiment = (experimentId: string): number => {
    const id = parseExperimentId(experimentId);
    if (id === undefined || exists.get(id) === undefined) throw experimentNotFound(experimentId);
    return id;
  };

  const withTags = (row: ExperimentRow) => rowToExperiment(row, selectTags.all(row.experiment_id));

  const create = db.transaction((input: { name: string; artifactLocation?: string; tags: Tag[]; now: number }) => {
    let id: number;
    try {
      id = insertExperiment.get({ name: input.name, now: input.now }) as number;
    } catch (err) {
      if (isUniqueViolation(err)) throw experimentNameExists(input.name, err);
      throw err;
    }
    setArtifactLocation.run(input.artifactLocation || experimentArtifactLocation(String(id), defaultArtifactRoot), id);
    for (const tag of input.tags) upsertTag.run(id, tag.key, tag.value);
    return String(id);
  });

  const setLifecycle = db.transaction((experimentId: string, stage: LifecycleStage, now: number) => {
    const id = requireExperiment(experimentId);
    setStage.run({ id, stage, now });
    setRunsStage.run({ id, stage, now });
    changes.append({ experimentId, items: [{ kind: "experiment", lifecycleStage: stage }] });
  });

  return {
    createExperiment: (input) => create.immediate(input),

    getExperiment(experimentId) {
      const id = parseExperimentId(experimentId);
      const row = id === undefined ? undefined : selectById.get(id);
      if (row === undefined) throw experimentNotFound(experimentId);
      return withTags(row);
    },

    getExperimentByName(name) {
      const row = selectByName.get(name);
      return row === undefined ? null : withTags(row);
    },

    renameExperiment(experimentId, newName, now) {
      const id = requireExperiment(experimentId);
      try {
        rename.run({ id, name: newName, now });
      } catch (err) {
        if (isUniqueViolation(err)) throw experimentNameExists(newName, err);
        throw err;
      }
    },

    setExperimentLifecycle: (experimentId, stage, now) => setLifecycle.immediate(experimentId, stage, now),

    setExperimentTag(experimentId, tag) {
      upsertTag.run(requireExperiment(experimentId), tag.key, tag.value);
    },

    deleteExperimentTag(experimentId, key) {
      const id = requireExperiment(experimentId);
      if (deleteTag.run(id, key).changes === 0) throw experimentTagNotFound(experimentId, key);
    },
  };
}
