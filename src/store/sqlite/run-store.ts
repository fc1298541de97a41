/** Runs on SQLite: creation, reads, updates, lifecycle, tag deletion, inputs and outputs. */
import type { Database } from "better-sqlite3";
import { DATASET_CONTEXT_TAG, type DatasetInput, type LifecycleStage, type Run, type RunStatus, runArtifactUri } from "../../domain/entities.js";
import type { LogOrder } from "../../domain/log-order.js";
import { experimentNotActive, experimentNotFound, runAlreadyExists, runNotFound, runTagNotFound } from "../../domain/messages.js";
import type { NewRun, RunStore } from "../types.js";
import { isUniqueViolation } from "./errors.js";
import { type RunRow, parseExperimentId, rowToRunInfo } from "./mapping.js";
import type { ChangeLog } from "./change-log.js";
import type { RunReader } from "./run-reader.js";
import type { RunState } from "./run-state.js";
import type { Synchronous } from "./synchronous.js";

/** The tag MLflow keeps equal to the run's name. */
const RUN_NAME_TAG = "mlflow.runName";

type RunRecordStore = Synchronous<
  Pick<RunStore, "createRun" | "getRun" | "updateRun" | "setRunLifecycle" | "deleteRunTag" | "logInputs" | "logOutputs" | "searchDatasets">
>;

interface DatasetInputRow {
  input_id: number;
  name: string;
  digest: string;
  source_type: string;
  source: string;
  schema: string | null;
  profile: string | null;
}

export function createRunStore(db: Database, runState: RunState, readRuns: RunReader, logOrder: LogOrder, changes: ChangeLog): RunRecordStore {
  const selectExperiment = db.prepare<[number], { lifecycle_stage: LifecycleStage; artifact_location: string }>(
    "SELECT lifecycle_stage, artifact_location FROM experiments WHERE experiment_id = ?",
  );
  const insertRun = db.prepare<[Omit<RunRow, "end_time">]>(
    `INSERT INTO runs (run_id, experiment_id, name, user_id, status, start_time, artifact_uri, lifecycle_stage)
     VALUES (@run_id, @experiment_id, @name, @user_id, @status, @start_time, @artifact_uri, @lifecycle_stage)`,
  );
  const selectRun = db.prepare<[string], RunRow>(
    `SELECT run_id, experiment_id, name, user_id, status, start_time, end_time, artifact_uri, lifecycle_stage
     FROM runs WHERE run_id = ?`,
  );
  const updateRunInfo = db.prepare<[{ run_id: string; status: RunStatus | null; end_time: number | null; name: string | null }]>(
    `UPDATE runs SET status = coalesce(@status, status), end_time = coalesce(@end_time, end_time), name = coalesce(@name, name)
     WHERE run_id = @run_id`,
  );
  const setStage = db.prepare<[{ run_id: string; stage: LifecycleStage; now: number }]>(
    `UPDATE runs SET lifecycle_stage = @stage, deleted_time = CASE WHEN @stage = 'deleted' THEN @now END
     WHERE run_id = @run_id`,
  );
  // seq is the key's first-logged position (domain/log-order.ts): an update keeps it.
  const upsertTag = db.prepare<[string, string, string, number]>(
    `INSERT INTO run_tags (run_id, key, value, seq) VALUES (?, ?, ?, ?)
     ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value`,
  );
  const deleteTag = db.prepare<[string, string]>("DELETE FROM run_tags WHERE run_id = ? AND key = ?");
  // Per experiment (runs_by_experiment), each run's links by their unique (run_id, …) index; input_id is link order.
  const selectDatasetSummaries = db.prepare<[string, number], { experiment_id: number; name: string; digest: string; context: string | null }>(
    `SELECT experiment_id, name, digest, context FROM (
       SELECT r.experiment_id, d.name, d.digest, t.value AS context, min(d.input_id) AS first
       FROM runs r JOIN run_dataset_inputs d ON d.run_id = r.run_id
       LEFT JOIN run_dataset_input_tags t ON t.input_id = d.input_id AND t.key = '${DATASET_CONTEXT_TAG}'
       WHERE r.experiment_id IN (SELECT value FROM json_each(?))
       GROUP BY r.experiment_id, d.name, d.digest, t.value)
     ORDER BY experiment_id, first LIMIT ?`,
  );

  const insertDataset = db.prepare<[Omit<DatasetInputRow, "input_id"> & { run_id: string }]>(
    `INSERT INTO run_dataset_inputs (run_id, name, digest, source_type, source, schema, profile)
     VALUES (@run_id, @name, @digest, @source_type, @source, @schema, @profile)
     ON CONFLICT (run_id, name, digest) DO NOTHING`,
  );
  const selectDatasetId = db
    .prepare<[string, string, string], number>("SELECT input_id FROM run_dataset_inputs WHERE run_id = ? AND name = ? AND digest = ?")
    .pluck();
  const deleteDatasetTags = db.prepare<[number]>("DELETE FROM run_dataset_input_tags WHERE input_id = ?");
  const insertDatasetTag = db.prepare<[number, string, string]>(
    `INSERT INTO run_dataset_input_tags (input_id, key, value) VALUES (?, ?, ?)
     ON CONFLICT (input_id, key) DO UPDATE SET value = excluded.value`,
  );
  const insertModelInput = db.prepare<[string, string]>(
    "INSERT INTO run_model_inputs (run_id, model_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
  );
  const insertModelOutput = db.prepare<[string, string, number]>(
    "INSERT INTO run_model_outputs (run_id, model_id, step) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
  );
  const readRun = (runId: string): Run => {
    const [run] = readRuns([runId]);
    if (run === undefined) throw runNotFound(runId);
    return run;
  };

  // Deferred: a read transaction, so the run is one consistent snapshot under concurrent writers.
  const readRunSnapshot = db.transaction(readRun);

  const create = db.transaction((run: NewRun): Run => {
    const experimentId = parseExperimentId(run.experimentId);
    const experiment = experimentId === undefined ? undefined : selectExperiment.get(experimentId);
    if (experimentId === undefined || experiment === undefined) throw experimentNotFound(run.experimentId);
    if (experiment.lifecycle_stage !== "active") throw experimentNotActive(run.experimentId, experiment.lifecycle_stage);
    try {
      insertRun.run({
        run_id: run.runId,
        experiment_id: experimentId,
        name: run.runName,
        user_id: run.userId,
        status: "RUNNING",
        start_time: run.startTime,
        artifact_uri: runArtifactUri(experiment.artifact_location, run.runId),
        lifecycle_stage: "active",
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw runAlreadyExists(run.runId, err);
      throw err;
    }
    let seq = logOrder(run.tags.length);
    for (const tag of run.tags) upsertTag.run(run.runId, tag.key, tag.value, seq++);
    const created = readRun(run.runId);
    changes.append({ runId: run.runId, experimentId: run.experimentId, items: [{ kind: "info", info: created.info }] });
    return created;
  });

  const update = db.transaction((runId: string, fields: { status?: RunStatus; endTime?: number; runName?: string }) => {
    runState.requireActiveRun(runId);
    updateRunInfo.run({ run_id: runId, status: fields.status ?? null, end_time: fields.endTime ?? null, name: fields.runName ?? null });
    if (fields.runName !== undefined) upsertTag.run(runId, RUN_NAME_TAG, fields.runName, logOrder(1));
    const info = rowToRunInfo(selectRun.get(runId) as RunRow);
    changes.append({
      runId,
      experimentId: info.experimentId,
      items: [...(fields.runName === undefined ? [] : [{ kind: "tag" as const, key: RUN_NAME_TAG, value: fields.runName }]), { kind: "info", info }],
    });
    return info;
  });

  const setLifecycle = db.transaction((runId: string, stage: LifecycleStage, now: number) => {
    if (setStage.run({ run_id: runId, stage, now }).changes === 0) throw runNotFound(runId);
    const info = rowToRunInfo(selectRun.get(runId) as RunRow);
    changes.append({ runId, experimentId: info.experimentId, items: [{ kind: "info", info, lifecycle: true }] });
  });

  const removeTag = db.transaction((runId: string, key: string) => {
    const experimentId = runState.requireActiveRun(runId);
    if (deleteTag.run(runId, key).changes === 0) throw runTagNotFound(runId, key);
    changes.append({ runId, experimentId, items: [{ kind: "tag", key }] });
  });

  const addInputs = db.transaction((runId: string, inputs: { datasets: DatasetInput[]; modelIds: string[] }) => {
    runState.requireActiveRun(runId);
    for (const { dataset, tags } of inputs.datasets) {
      insertDataset.run({
        run_id: runId,
        name: dataset.name,
        digest: dataset.digest,
        source_type: dataset.sourceType,
        source: dataset.source,
        schema: dataset.schema ?? null,
        profile: dataset.profile ?? null,
      });
      const inputId = selectDatasetId.get(runId, dataset.name, dataset.digest) as number;
      deleteDatasetTags.run(inputId);
      for (const tag of tags) insertDatasetTag.run(inputId, tag.key, tag.value);
    }
    for (const modelId of inputs.modelIds) insertModelInput.run(runId, modelId);
  });

  const addOutputs = db.transaction((runId: string, outputs: { modelId: string; step: number }[]) => {
    runState.requireActiveRun(runId);
    for (const output of outputs) insertModelOutput.run(runId, output.modelId, output.step);
  });

  return {
    createRun: (run) => create.immediate(run),
    getRun: (runId) => readRunSnapshot.deferred(runId),
    updateRun: (runId, fields) => update.immediate(runId, fields),
    setRunLifecycle: (runId, stage, now) => setLifecycle.immediate(runId, stage, now),
    deleteRunTag: (runId, key) => removeTag.immediate(runId, key),
    logInputs: (runId, inputs) => addInputs.immediate(runId, inputs),
    logOutputs: (runId, outputs) => addOutputs.immediate(runId, outputs),
    searchDatasets: (experimentIds, limit) => {
      const ids = experimentIds.map(parseExperimentId).filter((id) => id !== undefined);
      return selectDatasetSummaries.all(JSON.stringify(ids), limit).map((row) => ({
        experimentId: String(row.experiment_id),
        name: row.name,
        digest: row.digest,
        ...(row.context === null ? {} : { context: row.context }),
      }));
    },
  };
}
