/**
 * The Tracking service's MLflow 3 logged-model RPCs (create, get, finalize, delete, tags, params) and LogOutputs,
 * which links logged models to the run that produced them. Spread into createTrackingService's implementation.
 */
import { randomBytes } from "node:crypto";
import type { ModelOutput } from "../domain/entities.js";
import { invalidParameter } from "../domain/errors.js";
import * as lv from "../domain/logged-model-validation.js";
import { randomRunName } from "../domain/run-name.js";
import * as v from "../domain/validation.js";
import type { Store } from "../store/types.js";
import type { TrackingServiceService } from "../../gen/ts/logbook/v1/tracking_service.js";
import * as lc from "./logged-model-convert.js";
import type { ServiceImplementation } from "./rpc.js";
import { int64ToNumber, missing } from "./tracking-convert.js";

type LoggedModelMethods = Pick<
  ServiceImplementation<typeof TrackingServiceService>,
  | "logOutputs"
  | "createLoggedModel"
  | "getLoggedModel"
  | "finalizeLoggedModel"
  | "deleteLoggedModel"
  | "setLoggedModelTags"
  | "deleteLoggedModelTag"
  | "logLoggedModelParams"
>;

export interface LoggedModelDeps {
  store: Store;
  /** Milliseconds since the epoch; injectable for tests. */
  clock?: () => number;
}

/** MLflow's model ids: `m-` and 32 random hex characters (a uuid4's hex). */
export const newLoggedModelId = () => `m-${randomBytes(16).toString("hex")}`;

export function createLoggedModelService(deps: LoggedModelDeps): LoggedModelMethods {
  const { store } = deps;
  const now = deps.clock ?? Date.now;

  return {
    async logOutputs(req) {
      v.validateRunId(req.runId);
      const outputs: ModelOutput[] = req.models.map((m, i) => ({
        modelId: lv.validateLoggedModelReference(m.modelId, `models[${i}].model_id`),
        step: m.step === undefined ? 0 : int64ToNumber(m.step, `models[${i}].step`),
      }));
      // As MLflow: the run must exist and be active; model ids are recorded as given, not looked up.
      await store.logOutputs(req.runId, outputs);
      return {};
    },

    async createLoggedModel(req) {
      v.validateExperimentId(req.experimentId);
      if (req.name) lv.validateLoggedModelName(req.name);
      if (req.sourceRunId) v.validateRunId(req.sourceRunId);
      const params = lv.validateLoggedModelParams(req.params.map((p, i) => lc.loggedModelKeyValueFromProto(p, `params[${i}].`)));
      const tags = lv.validateLoggedModelTags(req.tags.map((t, i) => lc.loggedModelKeyValueFromProto(t, `tags[${i}].`)));
      const model = await store.createLoggedModel({
        modelId: newLoggedModelId(),
        experimentId: req.experimentId,
        name: req.name || randomRunName(),
        ...(req.modelType ? { modelType: req.modelType } : {}),
        ...(req.sourceRunId ? { sourceRunId: req.sourceRunId } : {}),
        params,
        tags,
        now: now(),
      });
      return { model: lc.loggedModelToProto(model) };
    },

    async getLoggedModel(req) {
      return { model: lc.loggedModelToProto(await store.getLoggedModel(lv.requireLoggedModelId(req.modelId))) };
    },

    async finalizeLoggedModel(req) {
      const modelId = lv.requireLoggedModelId(req.modelId);
      const status = lc.loggedModelStatusFromProto(req.status);
      if (!status) throw missing("status");
      if (status === "PENDING") {
        throw invalidParameter(
          `Invalid value ${lc.loggedModelStatusWireName(status)} for parameter 'status' supplied: a logged model is finalized as ${lc.loggedModelStatusWireName("READY")} or ${lc.loggedModelStatusWireName("UPLOAD_FAILED")}.`,
        );
      }
      return { model: lc.loggedModelToProto(await store.finalizeLoggedModel(modelId, status, now())) };
    },

    async deleteLoggedModel(req) {
      await store.deleteLoggedModel(lv.requireLoggedModelId(req.modelId), now());
      return {};
    },

    async setLoggedModelTags(req) {
      const modelId = lv.requireLoggedModelId(req.modelId);
      const tags = lv.validateLoggedModelTags(req.tags.map((t, i) => lc.loggedModelKeyValueFromProto(t, `tags[${i}].`)));
      return { model: lc.loggedModelToProto(await store.setLoggedModelTags(modelId, tags, now())) };
    },

    async deleteLoggedModelTag(req) {
      const modelId = lv.requireLoggedModelId(req.modelId);
      v.requireField(req.tagKey, "tag_key");
      await store.deleteLoggedModelTag(modelId, req.tagKey, now());
      return {};
    },

    async logLoggedModelParams(req) {
      const modelId = lv.requireLoggedModelId(req.modelId);
      const params = lv.validateLoggedModelParams(req.params.map((p, i) => lc.loggedModelKeyValueFromProto(p, `params[${i}].`)));
      if (params.length) await store.logLoggedModelParams(modelId, params, now());
      else await store.getLoggedModel(modelId);
      return {};
    },
  };
}
