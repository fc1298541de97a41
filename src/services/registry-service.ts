/**
 * RegistryService: registered models, their versions, stages, aliases and tags, with MLflow 3's validation and
 * messages. Every request is validated before the store is touched, so a rejected request changes nothing.
 */
import type { Logger } from "pino";
import type { Tag } from "../domain/entities.js";
import { requireField } from "../domain/validation.js";
import * as rv from "../domain/registry-validation.js";
import type { Store } from "../store/types.js";
import type { RegistryServiceService } from "../../gen/ts/logbook/v1/registry.js";
import { resolveModelVersionSource, versionByAlias } from "./model-version-source.js";
import { modelVersionToProto, registeredModelToProto, registryTagFromProto } from "./registry-convert.js";
import type { ServiceImplementation } from "./rpc.js";
import { pythonDumps } from "../domain/python-format.js";

/** The logged-model tag listing the registered versions made from it. */
const MODEL_VERSIONS_TAG = "mlflow.modelVersions";

export interface RegistryDeps {
  store: Store;
  /** Milliseconds since the epoch; injectable for tests. */
  clock?: () => number;
  logger: Logger;
}

/** Logbook has no authentication, so no user is ever known. */
const NO_USER = "";

/** Tags given at creation, validated; a key given twice keeps its last value, as in MLflow. */
function creationTags(tags: { key: string; value?: string | undefined }[]): Tag[] {
  const byKey = new Map<string, Tag>();
  for (const t of tags) byKey.set(t.key, rv.validateRegistryTag(registryTagFromProto(t)));
  return [...byKey.values()];
}

/** A model name and version number as sent, checked. */
function versionOf(req: { name: string; version: string }): { name: string; version: number } {
  rv.requireModelName(req.name);
  return { name: req.name, version: rv.parseModelVersion(req.version) };
}

export function createRegistryService(deps: RegistryDeps): ServiceImplementation<typeof RegistryServiceService> {
  const { store } = deps;
  const now = deps.clock ?? Date.now;

  async function transition(req: { name: string; version: string; stage: string }, archiveExisting: boolean) {
    const { name, version } = versionOf(req);
    requireField(req.stage, "stage");
    const stage = rv.parseStage(req.stage);
    rv.validateArchiveExisting(req.stage, stage, archiveExisting);
    return { modelVersion: modelVersionToProto(await store.transitionModelVersionStage(name, version, stage, archiveExisting, now())) };
  }

  /**
   * As MLflow's create_model_version handler (`set_model_versions_tags`): a version made from a logged model is listed
   * in the model's `mlflow.modelVersions` tag, a JSON list written as Python's json.dumps writes it. Read, then
   * written, as MLflow does: two versions of one logged model created at the same instant can lose an entry.
   */
  async function recordVersionOnLoggedModel(modelId: string, name: string, version: number): Promise<void> {
    const model = await store.getLoggedModel(modelId);
    const entry = { name, version };
    const stored = model.tags.find((t: Tag) => t.key === MODEL_VERSIONS_TAG)?.value;
    let list: { name: string; version: number }[] = [entry];
    if (stored) {
      try {
        const parsed = JSON.parse(stored) as unknown;
        if (Array.isArray(parsed)) {
          const known = parsed.some((e) => typeof e === "object" && e !== null && e.name === name && e.version === version);
          list = known ? (parsed as typeof list) : [...(parsed as typeof list), entry];
        }
      } catch {
        list = [entry];
      }
    }
    await store.setLoggedModelTags(modelId, [{ key: MODEL_VERSIONS_TAG, value: pythonDumps(list) }], now());
  }

  return {
    async createRegisteredModel(req) {
      rv.validateNewModelName(req.name);
      const tags = creationTags(req.tags);
      const model = await store.createRegisteredModel({ name: req.name, description: req.description ?? "", userId: NO_USER, tags, now: now() });
      return { registeredModel: registeredModelToProto(model) };
    },

    async getRegisteredModel(req) {
      rv.requireModelName(req.name);
      return { registeredModel: registeredModelToProto(await store.getRegisteredModel(req.name)) };
    },

    async renameRegisteredModel(req) {
      rv.requireModelName(req.name);
      rv.validateNewModelName(req.newName, "new_name");
      return { registeredModel: registeredModelToProto(await store.renameRegisteredModel(req.name, req.newName, now())) };
    },

    async updateRegisteredModel(req) {
      rv.requireModelName(req.name);
      return { registeredModel: registeredModelToProto(await store.updateRegisteredModel(req.name, req.description ?? "", now())) };
    },

    async deleteRegisteredModel(req) {
      rv.requireModelName(req.name);
      await store.deleteRegisteredModel(req.name);
      return {};
    },

    async setRegisteredModelTag(req) {
      rv.requireModelName(req.name);
      requireField(req.key, "key");
      await store.setRegisteredModelTag(req.name, rv.validateRegistryTag(registryTagFromProto(req)));
      return {};
    },

    async deleteRegisteredModelTag(req) {
      rv.requireModelName(req.name);
      rv.validateTagKeyName(req.key);
      await store.deleteRegisteredModelTag(req.name, req.key);
      return {};
    },

    async getLatestVersions(req) {
      rv.requireModelName(req.name);
      const stages = req.stages.map(rv.parseStage);
      return { modelVersions: (await store.getLatestVersions(req.name, stages)).map(modelVersionToProto) };
    },

    async createModelVersion(req) {
      rv.requireModelName(req.name);
      requireField(req.source, "source");
      const tags = creationTags(req.tags);
      const resolved = await resolveModelVersionSource(store, req);
      const version = await store.createModelVersion({
        name: req.name,
        source: resolved.source,
        runId: resolved.runId,
        runLink: req.runLink ?? "",
        description: req.description ?? "",
        userId: NO_USER,
        tags,
        ...(resolved.modelId ? { modelId: resolved.modelId } : {}),
        ...(resolved.storageLocation ? { storageLocation: resolved.storageLocation } : {}),
        now: now(),
      });
      if (resolved.modelId) await recordVersionOnLoggedModel(resolved.modelId, version.name, version.version);
      return { modelVersion: modelVersionToProto(version) };
    },

    async getModelVersion(req) {
      const { name, version } = versionOf(req);
      return { modelVersion: modelVersionToProto(await store.getModelVersion(name, version)) };
    },

    async updateModelVersion(req) {
      const { name, version } = versionOf(req);
      return { modelVersion: modelVersionToProto(await store.updateModelVersion(name, version, req.description ?? "", now())) };
    },

    async deleteModelVersion(req) {
      const { name, version } = versionOf(req);
      await store.deleteModelVersion(name, version, now());
      return {};
    },

    async setModelVersionTag(req) {
      const { name, version } = versionOf(req);
      requireField(req.key, "key");
      await store.setModelVersionTag(name, version, rv.validateRegistryTag(registryTagFromProto(req)));
      return {};
    },

    async deleteModelVersionTag(req) {
      const { name, version } = versionOf(req);
      rv.validateTagKeyName(req.key);
      await store.deleteModelVersionTag(name, version, req.key);
      return {};
    },

    // MLflow's handler reads an absent archive_existing_versions as false (its schema does not require it).
    async transitionModelVersionStage(req) {
      return transition(req, req.archiveExistingVersions ?? false);
    },

    async getModelVersionDownloadUri(req) {
      const { name, version } = versionOf(req);
      const found = await store.getModelVersion(name, version);
      return { artifactUri: found.storageLocation ?? found.source };
    },

    async setRegisteredModelAlias(req) {
      rv.requireModelName(req.name);
      rv.validateNewAlias(req.alias);
      const version = rv.parseModelVersion(req.version);
      await store.setRegisteredModelAlias(req.name, req.alias, version, now());
      return {};
    },

    async deleteRegisteredModelAlias(req) {
      rv.requireModelName(req.name);
      rv.validateAliasName(req.alias);
      await store.deleteRegisteredModelAlias(req.name, req.alias, now());
      return {};
    },

    async getModelVersionByAlias(req) {
      rv.requireModelName(req.name);
      rv.validateAliasName(req.alias);
      return { modelVersion: modelVersionToProto(await versionByAlias(store, req.name, req.alias)) };
    },

    async getModelDetails(req) {
      rv.requireModelName(req.modelName, "model_name");
      const model = await store.getRegisteredModel(req.modelName);
      const versions = await store.listModelVersionsOf(req.modelName);
      return { registeredModel: registeredModelToProto(model), modelVersions: versions.map(modelVersionToProto) };
    },

    async promoteModelVersion(req) {
      return transition(req, req.archiveExistingVersions);
    },
  };
}
