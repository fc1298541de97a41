/**
 * Whole runs read in bulk: one statement per part (info, latest metrics, params, tags, dataset inputs and their tags,
 * model inputs, model outputs) for any number of runs, ids passed as one JSON array (`json_each`) so every statement
 * is prepared once and each lookup is a primary-key range. Search pages and streams read their runs here — a page of
 * 100 runs is 8 statements, not 700. The many-row statements return arrays (`raw()`), not objects: building a JS object
 * per row was most of a search page's time (a page of 100 runs has ~1,600 metric, param and tag rows).
 */
import type { Database } from "better-sqlite3";
import type { DatasetInput, Metric, Run, Tag } from "../../domain/entities.js";
import { type RunRow, decodeMetricValue, rowToRunInfo } from "./mapping.js";


interface DatasetInputRow {
  run_id: string;
  input_id: number;
  name: string;
  digest: string;
  source_type: string;
  source: string;
  schema: string | null;
  profile: string | null;
}

type MetricTuple = [runId: string, key: string, step: number, timestamp: number, isNan: 0 | 1, value: number, isNegativeZero: 0 | 1, modelId: string | null, datasetName: string | null, datasetDigest: string | null];
type KeyValueTuple = [runId: string, key: string, value: string];

function group<T>(groups: Map<string, T[]>, runId: string, item: T): void {
  const items = groups.get(runId);
  if (items === undefined) groups.set(runId, [item]);
  else items.push(item);
}

function groupBy<R extends { run_id: string }, T>(rows: R[], map: (row: R) => T): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const row of rows) group(groups, row.run_id, map(row));
  return groups;
}

function metricsByRun(rows: MetricTuple[]): Map<string, Metric[]> {
  const groups = new Map<string, Metric[]>();
  for (const [runId, key, step, timestamp, isNan, value, isNegativeZero, modelId, datasetName, datasetDigest] of rows) {
    const metric: Metric = { key, value: decodeMetricValue({ value, is_nan: isNan, is_negative_zero: isNegativeZero }), timestamp, step };
    if (modelId !== null) metric.modelId = modelId;
    if (datasetName !== null) metric.datasetName = datasetName;
    if (datasetDigest !== null) metric.datasetDigest = datasetDigest;
    group(groups, runId, metric);
  }
  return groups;
}

function keyValuesByRun(rows: KeyValueTuple[]): Map<string, Tag[]> {
  const groups = new Map<string, Tag[]>();
  for (const [runId, key, value] of rows) group(groups, runId, { key, value });
  return groups;
}

export type RunReader = (runIds: readonly string[]) => Run[];

/** The reader's statements for one way of naming the runs: `run_id = ?` (one run) or `run_id IN (json_each(?))` (many). */
function prepareStatements(db: Database, runIs: string) {
  return {
    infos: db.prepare<[string], RunRow>(
      `SELECT run_id, experiment_id, name, user_id, status, start_time, end_time, artifact_uri, lifecycle_stage FROM runs WHERE run_id ${runIs}`,
    ),
    metrics: db
      .prepare<[string], MetricTuple>(
        `SELECT run_id, key, step, timestamp, is_nan, value, is_negative_zero, model_id, dataset_name, dataset_digest
         FROM latest_metrics WHERE run_id ${runIs} ORDER BY run_id, key`,
      )
      .raw(),
    params: db.prepare<[string], KeyValueTuple>(`SELECT run_id, key, value FROM params WHERE run_id ${runIs} ORDER BY run_id, key`).raw(),
    tags: db.prepare<[string], KeyValueTuple>(`SELECT run_id, key, value FROM run_tags WHERE run_id ${runIs} ORDER BY run_id, key`).raw(),
    datasets: db.prepare<[string], DatasetInputRow>(
      `SELECT run_id, input_id, name, digest, source_type, source, schema, profile
       FROM run_dataset_inputs WHERE run_id ${runIs} ORDER BY run_id, input_id`,
    ),
    datasetTags: db.prepare<[string], Tag & { input_id: number }>(
      `SELECT t.input_id, t.key, t.value FROM run_dataset_input_tags t JOIN run_dataset_inputs d ON d.input_id = t.input_id
       WHERE d.run_id ${runIs} ORDER BY t.input_id, t.key`,
    ),
    modelInputs: db.prepare<[string], { run_id: string; model_id: string }>(
      `SELECT run_id, model_id FROM run_model_inputs WHERE run_id ${runIs} ORDER BY run_id, rowid`,
    ),
    modelOutputs: db.prepare<[string], { run_id: string; model_id: string; step: number }>(
      `SELECT run_id, model_id, step FROM run_model_outputs WHERE run_id ${runIs} ORDER BY run_id, rowid`,
    ),
  };
}

/** Reads the given runs in the order given; ids no run has are left out. Call inside a read transaction for a consistent snapshot. */
export function createRunReader(db: Database): RunReader {
  // A single run (getRun) skips json_each's per-statement table: plain primary-key lookups.
  const one = prepareStatements(db, "= ?");
  const many = prepareStatements(db, "IN (SELECT value FROM json_each(?))");

  return (runIds) => {
    if (runIds.length === 0) return [];
    const { infos, metrics, params, tags, datasets, datasetTags, modelInputs, modelOutputs } = runIds.length === 1 ? one : many;
    const ids = runIds.length === 1 ? runIds[0]! : JSON.stringify(runIds);
    const rows = new Map(infos.all(ids).map((row) => [row.run_id, row]));
    if (rows.size === 0) return [];
    const metricsOf = metricsByRun(metrics.all(ids));
    const paramsOf = keyValuesByRun(params.all(ids));
    const tagsOf = keyValuesByRun(tags.all(ids));
    const tagsOfInput = new Map<number, Tag[]>();
    for (const { input_id, key, value } of datasetTags.all(ids)) {
      const items = tagsOfInput.get(input_id);
      if (items === undefined) tagsOfInput.set(input_id, [{ key, value }]);
      else items.push({ key, value });
    }
    const datasetsOf = groupBy(datasets.all(ids), (row): DatasetInput => {
      const dataset: DatasetInput["dataset"] = { name: row.name, digest: row.digest, sourceType: row.source_type, source: row.source };
      if (row.schema !== null) dataset.schema = row.schema;
      if (row.profile !== null) dataset.profile = row.profile;
      return { tags: tagsOfInput.get(row.input_id) ?? [], dataset };
    });
    const inputsOf = groupBy(modelInputs.all(ids), (row) => ({ modelId: row.model_id }));
    const outputsOf = groupBy(modelOutputs.all(ids), (row) => ({ modelId: row.model_id, step: row.step }));
    const runs: Run[] = [];
    for (const runId of runIds) {
      const row = rows.get(runId);
      if (row === undefined) continue;
      runs.push({
        info: rowToRunInfo(row),
        data: { metrics: metricsOf.get(runId) ?? [], params: paramsOf.get(runId) ?? [], tags: tagsOf.get(runId) ?? [] },
        inputs: { datasetInputs: datasetsOf.get(runId) ?? [], modelInputs: inputsOf.get(runId) ?? [] },
        outputs: { modelOutputs: outputsOf.get(runId) ?? [] },
      });
    }
    return runs;
  };
}
