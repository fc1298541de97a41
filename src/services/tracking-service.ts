/**
 * TrackingService: writes and single-entity reads of experiments, runs and (logged-model-service.ts) logged models.
 * Validates every request before touching the store, so a rejected request changes nothing.
 */
import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import { DEFAULT_EXPERIMENT_ID, type Tag } from "../domain/entities.js";
import { invalidParameter, notFound } from "../domain/errors.js";
import { experimentArtifactLocationOf } from "../domain/experiment-artifact-location.js";
import { experimentNotActive } from "../domain/messages.js";
import { GET_METRIC_HISTORY_MAX_RESULTS, LOG_MODEL_HISTORY_TAG, MAX_DATASET_DIGEST_SIZE, MAX_DATASET_NAME_SIZE, MAX_DATASET_PROFILE_SIZE, MAX_DATASET_SCHEMA_SIZE, MAX_DATASET_SOURCE_SIZE, MAX_INPUT_TAG_KEY_SIZE, MAX_INPUT_TAG_VALUE_SIZE } from "../domain/limits.js";
import { randomRunName } from "../domain/run-name.js";
import * as v from "../domain/validation.js";
import type { Store } from "../store/types.js";
import type { TrackingServiceService } from "../../gen/ts/logbook/v1/tracking_service.js";
import type { ArtifactRoots } from "../artifacts/roots.js";
import { createLoggedModelService } from "./logged-model-service.js";
import { createPromptlabRunMethod } from "./promptlab-run.js";
import type { ServiceImplementation } from "./rpc.js";
import type { ServerRuntime } from "./server-runtime.js";
import type { AccessControl } from "./auth/access-control.js";
import * as c from "./tracking-convert.js";
import type { WatchHub } from "./watch/watch-hub.js";
import { createWatchRunMethod } from "./watch-run.js";

export interface TrackingDeps {
  store: Store;
  roots: ArtifactRoots;
  runtime: ServerRuntime;
  /** The process's live watches (WatchRun). */
  watch: WatchHub;
  /** Milliseconds since the epoch; injectable for tests. */
  clock?: () => number;
  logger: Logger;
  /** With `--auth basic`: the status counts only what the caller may read. */
  auth?: { access: Pick<AccessControl, "scope"> };
}

const RUN_NAME_TAG = "mlflow.runName";
const USER_TAG = "mlflow.user";
/** A client-chosen run id (CreateRunRequest.run_id): the same shape as the ids the server makes. */
const CLIENT_RUN_ID = /^[0-9a-f]{32}$/;

/** A run id from either field; MLflow clients send both. */
function runIdOf(req: { runId: string; runUuid?: string }): string {
  const runId = req.runId || req.runUuid || "";
  v.validateRunId(runId);
  return runId;
}

function experimentIdOf(experimentId: string): string {
  v.validateExperimentId(experimentId);
  return experimentId;
}

export function createTrackingService(deps: TrackingDeps): ServiceImplementation<typeof TrackingServiceService> {
  const { store } = deps;
  const now = deps.clock ?? Date.now;
  let createRun: ServiceImplementation<typeof TrackingServiceService>["createRun"];

  /** MLflow refuses renames and tag changes on a deleted experiment. */
  async function requireActiveExperiment(experimentId: string): Promise<void> {
    const experiment = await store.getExperiment(experimentId);
    if (experiment.lifecycleStage !== "active") throw experimentNotActive(experimentId, experiment.lifecycleStage);
  }

  /** As in MLflow, setting the `mlflow.runName` tag renames the run. */
  async function syncRunName(runId: string, tags: Tag[]): Promise<void> {
    const name = tags.findLast((t) => t.key === RUN_NAME_TAG)?.value;
    if (name) await store.updateRun(runId, { runName: name });
  }

  const service: ServiceImplementation<typeof TrackingServiceService> = {
    ...createLoggedModelService(deps),
    ...createPromptlabRunMethod(deps, (req, ctx) => createRun(req, ctx)),
    watchRun: createWatchRunMethod(deps),

    async createExperiment(req) {
      v.requireField(req.name, "name");
      v.validateExperimentName(req.name);
      const artifactLocation = req.artifactLocation ? experimentArtifactLocationOf(req.artifactLocation) : undefined;
      const tags = req.tags.map((t, i) => v.validateExperimentTag(c.tagFromProto(t, `tags[${i}].`)));
      const experimentId = await store.createExperiment({
        name: req.name,
        ...(artifactLocation ? { artifactLocation } : {}),
        tags,
        now: now(),
      });
      return { experimentId };
    },

    async getExperiment(req) {
      return { experiment: c.experimentToProto(await store.getExperiment(experimentIdOf(req.experimentId))) };
    },

    async getExperimentByName(req) {
      v.requireField(req.experimentName, "experiment_name");
      const experiment = await store.getExperimentByName(req.experimentName);
      if (!experiment) throw notFound(`Could not find experiment with name '${req.experimentName}'`);
      return { experiment: c.experimentToProto(experiment) };
    },

    async updateExperiment(req) {
      const id = experimentIdOf(req.experimentId);
      const newName = req.newName ?? "";
      v.requireField(newName, "new_name");
      v.validateExperimentName(newName);
      await requireActiveExperiment(id);
      await store.renameExperiment(id, newName, now());
      return {};
    },

    async deleteExperiment(req) {
      await store.setExperimentLifecycle(experimentIdOf(req.experimentId), "deleted", now());
      return {};
    },

    async restoreExperiment(req) {
      await store.setExperimentLifecycle(experimentIdOf(req.experimentId), "active", now());
      return {};
    },

    async setExperimentTag(req) {
      const id = experimentIdOf(req.experimentId);
      const tag = v.validateExperimentTag(c.tagFromProto(req, ""));
      await requireActiveExperiment(id);
      await store.setExperimentTag(id, tag);
      return {};
    },

    async deleteExperimentTag(req) {
      const id = experimentIdOf(req.experimentId);
      v.requireField(req.key, "key");
      await store.deleteExperimentTag(id, req.key);
      return {};
    },

    async createRun(req) {
      const experimentId = experimentIdOf(req.experimentId || DEFAULT_EXPERIMENT_ID);
      const tags = new Map<string, Tag>();
      req.tags.forEach((t, i) => {
        const tag = v.validateRunTag(c.tagFromProto(t, `tags[${i}].`));
        tags.set(tag.key, tag);
      });
      const tagName = tags.get(RUN_NAME_TAG)?.value;
      if (req.runName && tagName && req.runName !== tagName) {
        throw invalidParameter(
          `Both 'run_name' argument and '${RUN_NAME_TAG}' tag are specified, but with different values (run_name='${req.runName}', ${RUN_NAME_TAG}='${tagName}').`,
        );
      }
      const runName = req.runName || tagName || randomRunName();
      tags.set(RUN_NAME_TAG, { key: RUN_NAME_TAG, value: runName });
      const startTime = req.startTime === undefined ? now() : c.int64ToNumber(req.startTime, "start_time");
      if (req.runId !== undefined && !CLIENT_RUN_ID.test(req.runId)) {
        throw invalidParameter(`Invalid value '${req.runId}' for parameter 'run_id': a client-chosen run id is 32 lowercase hex characters.`);
      }
      const run = await store.createRun({
        runId: req.runId ?? randomUUID().replaceAll("-", ""),
        experimentId,
        userId: req.userId || tags.get(USER_TAG)?.value || "",
        runName,
        startTime,
        tags: [...tags.values()],
      });
      return { run: c.runToProto(run) };
    },

    async getRun(req) {
      return { run: c.runToProto(await store.getRun(runIdOf(req))) };
    },

    async updateRun(req) {
      const runId = runIdOf(req);
      const status = c.runStatusFromProto(req.status);
      const update = {
        ...(status ? { status } : {}),
        ...(req.endTime !== undefined ? { endTime: c.int64ToNumber(req.endTime, "end_time") } : {}),
        ...(req.runName ? { runName: v.validateRunTag({ key: RUN_NAME_TAG, value: req.runName }).value } : {}),
      };
      return { runInfo: c.runInfoToProto(await store.updateRun(runId, update)) };
    },

    async deleteRun(req) {
      await store.setRunLifecycle(runIdOf(req), "deleted", now());
      return {};
    },

    async restoreRun(req) {
      await store.setRunLifecycle(runIdOf(req), "active", now());
      return {};
    },

    async logMetric(req) {
      const runId = runIdOf(req);
      const metric = v.validateMetric(c.metricFromProto({ ...req, runId: "" }, ""));
      await store.logBatch(runId, { metrics: [metric], params: [], tags: [] });
      return {};
    },

    async logParam(req) {
      const runId = runIdOf(req);
      const param = v.validateParam(c.tagFromProto(req, ""));
      await store.logBatch(runId, { metrics: [], params: [param], tags: [] });
      return {};
    },

    async setTag(req) {
      const runId = runIdOf(req);
      const tag = v.validateRunTag(c.tagFromProto(req, ""));
      await store.logBatch(runId, { metrics: [], params: [], tags: [tag] });
      await syncRunName(runId, [tag]);
      return {};
    },

    async deleteTag(req) {
      const runId = runIdOf(req);
      v.requireField(req.key, "key");
      await store.deleteRunTag(runId, req.key);
      return {};
    },

    async logBatch(req) {
      const runId = runIdOf(req);
      const batch = v.validateBatch({
        metrics: req.metrics.map((m, i) => c.metricFromProto(m, `metrics[${i}].`)),
        params: req.params.map((p, i) => c.tagFromProto(p, `params[${i}].`)),
        tags: req.tags.map((t, i) => c.tagFromProto(t, `tags[${i}].`)),
      });
      if (batch.metrics.length || batch.params.length || batch.tags.length) await store.logBatch(runId, batch);
      else await store.getRun(runId);
      await syncRunName(runId, batch.tags);
      return {};
    },

    async logInputs(req) {
      const runId = runIdOf(req);
      const datasets = req.datasets.map((d, i) => {
        const input = c.datasetInputFromProto(d, `datasets[${i}].`);
        const ds = input.dataset;
        v.validateLength("Dataset name", MAX_DATASET_NAME_SIZE, ds.name);
        v.validateLength("Dataset digest", MAX_DATASET_DIGEST_SIZE, ds.digest);
        v.validateLength("Dataset source", MAX_DATASET_SOURCE_SIZE, ds.source);
        if (ds.schema) v.validateLength("Dataset schema", MAX_DATASET_SCHEMA_SIZE, ds.schema);
        if (ds.profile) v.validateLength("Dataset profile", MAX_DATASET_PROFILE_SIZE, ds.profile);
        for (const t of input.tags) {
          v.validateLength("Input tag key", MAX_INPUT_TAG_KEY_SIZE, t.key);
          v.validateLength("Input tag value", MAX_INPUT_TAG_VALUE_SIZE, t.value);
        }
        return input;
      });
      const modelIds = req.models.map((m, i) => {
        if (!m.modelId) throw c.missing(`models[${i}].model_id`);
        return m.modelId;
      });
      await store.logInputs(runId, { datasets, modelIds });
      return {};
    },

    async logModel(req) {
      const runId = runIdOf(req);
      v.requireField(req.modelJson, "model_json");
      let model: unknown;
      try {
        model = JSON.parse(req.modelJson);
      } catch {
        throw invalidParameter(`Malformed model info. \n ${req.modelJson} \n is not a valid JSON.`);
      }
      if (typeof model !== "object" || model === null || Array.isArray(model)) {
        throw invalidParameter(`Malformed model info. \n ${req.modelJson} \n is not a JSON object.`);
      }
      const required = ["artifact_path", "flavors", "utc_time_created", "run_id"];
      const absent = required.filter((k) => !(k in model));
      if (absent.length) throw invalidParameter(`Model json is missing mandatory fields: [${absent.map((k) => `'${k}'`).join(", ")}]`);
      // Read-then-append, as MLflow does: concurrent LogModel calls on one run can lose an entry.
      const run = await store.getRun(runId);
      const previous = run.data.tags.find((t) => t.key === LOG_MODEL_HISTORY_TAG)?.value;
      let history: unknown[] = [];
      try {
        const parsed: unknown = previous ? JSON.parse(previous) : [];
        if (Array.isArray(parsed)) history = parsed;
      } catch {
        history = [];
      }
      history.push(model);
      let value: string;
      try {
        value = JSON.stringify(history);
      } catch {
        // JSON.parse takes any depth; writing it back overflows the stack past a few thousand levels.
        throw invalidParameter("Malformed model info: model_json is nested too deeply.");
      }
      await store.logBatch(runId, { metrics: [], params: [], tags: [{ key: LOG_MODEL_HISTORY_TAG, value }] });
      return {};
    },

    async getMetricHistory(req) {
      const runId = runIdOf(req);
      v.requireField(req.metricKey, "metric_key");
      const max = req.maxResults;
      if (max !== undefined && (max < 1 || max > GET_METRIC_HISTORY_MAX_RESULTS)) {
        throw invalidParameter(`Invalid value ${max} for parameter 'max_results' supplied. It must be between 1 and ${GET_METRIC_HISTORY_MAX_RESULTS}.`);
      }
      const page = await store.getMetricHistory(runId, req.metricKey, {
        ...(max !== undefined ? { maxResults: max } : {}),
        ...(req.pageToken ? { pageToken: req.pageToken } : {}),
      });
      return { metrics: page.metrics.map(c.metricToProto), nextPageToken: page.nextPageToken };
    },

    async getServerStatus(_req, ctx) {
      const { runtime } = deps;
      let counts: Awaited<ReturnType<Store["counts"]>> | undefined;
      if (runtime.storeReachable()) {
        try {
          const experiments = deps.auth?.access.scope(ctx, "experiment");
          const registeredModels = deps.auth?.access.scope(ctx, "registered_model");
          counts = await store.counts({ ...(experiments ? { experiments } : {}), ...(registeredModels ? { registeredModels } : {}) });
        } catch (err) {
          deps.logger.warn({ err }, "status: counting failed");
        }
      }
      const reachable = counts !== undefined;
      const ports = runtime.ports();
      return {
        status: reachable ? "ok" : "degraded",
        version: runtime.version,
        uptimeSeconds: BigInt(Math.floor((now() - runtime.startedAt) / 1000)),
        store: { kind: store.status.kind, reachable, location: store.status.location },
        artifacts: runtime.artifacts,
        counts: counts && {
          experiments: BigInt(counts.experiments),
          runs: BigInt(counts.runs),
          registeredModels: BigInt(counts.registeredModels),
          modelVersions: BigInt(counts.modelVersions),
        },
        grpcPort: ports.grpc,
        httpPort: ports.http,
        watch: (({ runWatchers, leaderboardWatchers, feed, sequence }) => ({ runWatchers, leaderboardWatchers, feed, sequence: BigInt(sequence) }))(
          deps.watch.stats(),
        ),
      };
    },
  };
  createRun = service.createRun;
  return service;
}
