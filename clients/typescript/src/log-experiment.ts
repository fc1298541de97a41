/**
 * logExperiment: one call records a complete experiment — the experiment by name (created if missing), a run
 * with tags, params, metrics (single values and step series), artifacts (files, dicts as JSON, tables as CSV)
 * and optionally a registered model version made from the run. It goes through the Tracker's queue, so an
 * unreachable server spools it like any other logging.
 */
import type { ModelVersion } from "../../../gen/ts/logbook/v1/model_registry.js";
import type { RunStatusName } from "./ops.js";
import type { Table } from "./tables.js";
import { Tracker, type TrackerOptions } from "./tracker.js";

/** A metric: one value (step 0), a series (step = index), or explicit points. */
export type MetricInput = number | number[] | { value: number; step?: number; timestamp?: number }[];

export interface ExperimentRecord {
  experimentName: string;
  runName?: string;
  /** Default random; pass one (and `timestamp`) to make the whole call repeatable without duplicates. */
  runId?: string;
  tags?: Record<string, string>;
  params?: Record<string, string | number | boolean>;
  metrics?: Record<string, MetricInput>;
  artifacts?: {
    /** artifact path → local file */
    files?: Record<string, string>;
    /** artifact path → value written as JSON */
    dicts?: Record<string, unknown>;
    /** artifact path → table written as CSV */
    tables?: Record<string, Table>;
  };
  /** Registers `runs:/<run_id>/<artifactPath>` (default "model") as a new version of `name`. */
  model?: { name: string; artifactPath?: string; description?: string; tags?: Record<string, string> };
  status?: RunStatusName;
  /** Timestamp of the metric points (ms since the epoch); default now. With `runId`, makes a repeated call add nothing. */
  timestamp?: number;
}

export interface ExperimentResult {
  runId: string;
  /** Known once the run reached the server. */
  experimentId?: string;
  modelVersion?: ModelVersion;
  /** True when the server was unreachable and (part of) the record waits in the spool. */
  spooled: boolean;
}

/** Logs the record through `tracker` and flushes it. */
export async function logExperimentWith(tracker: Tracker, record: ExperimentRecord): Promise<ExperimentResult> {
  const run = tracker.startRun({ experimentName: record.experimentName, runName: record.runName, runId: record.runId, tags: record.tags });
  if (record.params) run.logParams(record.params);
  const now = record.timestamp ?? Date.now();
  for (const [key, metric] of Object.entries(record.metrics ?? {})) {
    if (typeof metric === "number") run.logMetric(key, metric, { step: 0, timestamp: now });
    else
      metric.forEach((point, i) =>
        typeof point === "number" ? run.logMetric(key, point, { step: i, timestamp: now }) : run.logMetric(key, point.value, { step: point.step ?? i, timestamp: point.timestamp ?? now }),
      );
  }
  for (const [path, file] of Object.entries(record.artifacts?.files ?? {})) run.logArtifact(file, path);
  for (const [path, value] of Object.entries(record.artifacts?.dicts ?? {})) run.logDict(value, path);
  for (const [path, table] of Object.entries(record.artifacts?.tables ?? {})) run.logTable(table, path);
  const artifactPath = record.model?.artifactPath ?? "model";
  if (record.model) run.registerModel(record.model.name, { ...record.model, artifactPath });
  run.end(record.status ?? "FINISHED");
  await tracker.flush();
  const stats = tracker.stats();
  return {
    runId: run.runId,
    experimentId: tracker.calls.experimentOfRun.get(run.runId),
    modelVersion: record.model ? tracker.calls.modelVersions.get(`${record.model.name}|${run.runId}|${artifactPath}`) : undefined,
    spooled: !stats.online || stats.spoolPendingBytes > 0,
  };
}

/** Records a complete experiment with a short-lived Tracker (closed before returning). */
export async function logExperiment(record: ExperimentRecord, options: TrackerOptions = {}): Promise<ExperimentResult> {
  const tracker = new Tracker(options);
  try {
    return await logExperimentWith(tracker, record);
  } finally {
    await tracker.close();
  }
}
