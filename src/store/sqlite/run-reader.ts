/**
 * Whole runs read in bulk for any number of runs, ids passed as one JSON array (`json_each`) so every statement is
 * prepared once and each lookup is a primary-key range. Search pages and streams read their runs here — a page of
 * 100 runs is 5 statements, not 700. The run row comes with its latest metrics, params and tags as three JSON arrays
 * built by SQLite (`json_group_array`, in the order they were first logged: domain/log-order.ts): a page of 100 runs has ~1,600 such rows, and materialising each
 * as a JS row was most of a search page's time; one JSON.parse per run and part is a third faster. SQLite writes every
 * finite double exactly (shortest round-trip form) and ±Infinity as ±9.0e+999, which JSON.parse reads back as
 * ±Infinity; NaN and -0 travel as the stored flags.
 */
import type { Database } from "better-sqlite3";
import type { DatasetInput, Metric, Run, Tag } from "../../domain/entities.js";
import { type RunRow, rowToRunInfo } from "./mapping.js";


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

type MetricTuple = [key: string, step: number, timestamp: number, isNan: 0 | 1, value: number, isNegativeZero: 0 | 1, modelId: string | null, datasetName: string | null, datasetDigest: string | null];

/** A run row with its metrics, params and tags as JSON arrays of tuples. */
interface RunBundleRow extends RunRow {
  metrics: string;
  params: string;
  tags: string;
}

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

function metricsOf(json: string): Metric[] {
  return (JSON.parse(json) as MetricTuple[]).map(([key, step, timestamp, isNan, value, isNegativeZero, modelId, datasetName, datasetDigest]) => {
    const metric: Metric = { key, value: isNan ? Number.NaN : isNegativeZero ? -0 : value, timestamp, step }; // decodeMetricValue, inlined
    if (modelId !== null) metric.modelId = modelId;
    if (datasetName !== null) metric.datasetName = datasetName;
    if (datasetDigest !== null) metric.datasetDigest = datasetDigest;
    return metric;
  });
}

function keyValuesOf(json: string): Tag[] {
  return (JSON.parse(json) as [string, string][]).map(([key, value]) => ({ key, value }));
}

export type RunReader = (runIds: readonly string[]) => Run[];

/** The reader's statements for one way of naming the runs: `run_id = ?` (one run) or `run_id IN (json_each(?))` (many). */
function prepareStatements(db: Database, runIs: string) {
  return {
    runs: db.prepare<[string], RunBundleRow>(
      `SELECT r.run_id, r.experiment_id, r.name, r.user_id, r.status, r.start_time, r.end_time, r.artifact_uri, r.lifecycle_stage,
         (SELECT json_group_array(json_array(key, step, timestamp, is_nan, value, is_negative_zero, model_id, dataset_name, dataset_digest) ORDER BY seq, key)
          FROM latest_metrics m WHERE m.run_id = r.run_id) AS metrics,
         (SELECT json_group_array(json_array(key, value) ORDER BY seq, key) FROM params p WHERE p.run_id = r.run_id) AS params,
         (SELECT json_group_array(json_array(key, value) ORDER BY seq, key) FROM run_tags t WHERE t.run_id = r.run_id) AS tags
       FROM runs r WHERE r.run_id ${runIs}`,
    ),
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
    const { runs: runRows, datasets, datasetTags, modelInputs, modelOutputs } = runIds.length === 1 ? one : many;
    const ids = runIds.length === 1 ? runIds[0]! : JSON.stringify(runIds);
    const rows = new Map(runRows.all(ids).map((row) => [row.run_id, row]));
    if (rows.size === 0) return [];
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
        data: { metrics: metricsOf(row.metrics), params: keyValuesOf(row.params), tags: keyValuesOf(row.tags) },
        inputs: { datasetInputs: datasetsOf.get(runId) ?? [], modelInputs: inputsOf.get(runId) ?? [] },
        outputs: { modelOutputs: outputsOf.get(runId) ?? [] },
      });
    }
    return runs;
  };
}
