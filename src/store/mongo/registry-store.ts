/**
 * The model registry in MongoDB: `registered_models` (one document per model, `_id` an immutable internal id, name
 * unique by index, tags one field per key, aliases an array) and `model_versions` (one document per version, `_id` =
 * "<model internal id>:<version>"). Layout and indexes: indexes.ts.
 *
 * Every write of a model's or its versions' documents happens under that model's lease (registry-lease.ts), after
 * re-reading the model by internal id (it may have been renamed or deleted between resolving its name and getting
 * the lease). That serialises a model's writers on FerretDB too, whose updates are not atomic: stage transitions
 * with archiveExisting leave exactly one version in the target stage, and tags, aliases and descriptions are never
 * lost. Version numbers: the highest stored (tombstones included) plus one, taken by inserting its `_id`; a
 * duplicate key — possible only if a lease was lost — moves on to the next number, so numbers stay 1..N without a
 * duplicate or a gap whatever happens. A deleted version becomes a tombstone that keeps its `_id` (its number is
 * never reused) and is invisible to reads and counts; deleting the model removes its tombstones with it.
 */
import { randomBytes } from "node:crypto";
import type { Tag } from "../../domain/entities.js";
import type { ModelVersion, RegisteredModel, Stage } from "../../domain/model-registry.js";
import { aliasNotFound, modelVersionNotFound, registeredModelExists, registeredModelNotFound } from "../../domain/registry-messages.js";
import type { NewModelVersion, RegistryStore } from "../types.js";
import type { Collections } from "./connection.js";
import { contended, isDuplicateKeyError, mayBeDuplicateKeyOnUpdate } from "./errors.js";
import { hasKey, keyPath, toKeyFields } from "./key-fields.js";
import type { Leases } from "./registry-lease.js";
import {
  type LiveVersionDoc,
  type RegisteredModelDoc,
  REGISTERED_MODEL_ID_PREFIX,
  modelVersionFromDoc,
  modelVersionId,
  registeredModelFromDoc,
  withAlias,
} from "./registry-mapping.js";
import { createRegistryReads } from "./registry-reads.js";

/** Renames racing with our lease acquisition before we give up resolving a name. */
const MAX_RESOLVE_ATTEMPTS = 10;
/** Numbers tried past the highest seen; each duplicate means another insert won that number. */
const MAX_NUMBER_ATTEMPTS = 100;

/**
 * Copies the model's name onto its live versions (touching them, as MLflow does on a rename) and clears the rename
 * mark. Called holding the model's lease: by a rename, and by whoever finds the mark a rename cut short left.
 */
async function finishRename(c: Collections, model: RegisteredModelDoc, now: number): Promise<void> {
  await c.modelVersions.updateMany({ model: model._id, deleted: false }, { $set: { name: model.name, last_updated_timestamp: now } });
  await c.registeredModels.updateOne({ _id: model._id }, { $unset: { renaming: "" } });
}

/** Finishes the rename of the model `modelId` if a crash cut it short (init()). */
export async function finishInterruptedRename(c: Collections, leases: Leases, modelId: string): Promise<void> {
  await leases.hold(modelId, async () => {
    const model = await c.registeredModels.findOne({ _id: modelId });
    if (model?.renaming) await finishRename(c, model, model.last_updated_timestamp);
  });
}

export function createRegistryStore(c: Collections, leases: Leases): RegistryStore {
  const { registeredModels, modelVersions } = c;
  const reads = createRegistryReads(c);

  /**
   * Runs `work` holding the lease of the model named `name`, with the model as it is now.
   * @throws `missing()` when no model has that name, by default RESOURCE_DOES_NOT_EXIST registeredModelNotFound
   */
  async function withModel<T>(name: string, work: (model: RegisteredModelDoc) => Promise<T>, missing = () => registeredModelNotFound(name)): Promise<T> {
    for (let attempt = 0; attempt < MAX_RESOLVE_ATTEMPTS; attempt++) {
      const { _id } = await reads.model(name, missing);
      const outcome = await leases.hold(_id, async () => {
        const model = await registeredModels.findOne({ _id });
        if (!model) throw missing();
        if (model.renaming) await finishRename(c, model, model.last_updated_timestamp);
        return model.name === name ? { done: true as const, value: await work(model) } : { done: false as const };
      });
      if (outcome.done) return outcome.value;
      // Renamed between resolving and leasing: the name may now belong to another model; resolve it again.
    }
    throw contended(`registered model ${name}`);
  }

  /** As MLflow, which looks versions up by (name, version): a version of an unknown model is an unknown version. */
  const withVersion = <T>(name: string, version: number, work: (model: RegisteredModelDoc) => Promise<T>) =>
    withModel(name, work, () => modelVersionNotFound(name, version));

  async function wholeModel(model: RegisteredModelDoc): Promise<RegisteredModel> {
    const [whole] = await reads.wholeModels([model]);
    if (!whole) throw registeredModelNotFound(model.name);
    return whole;
  }

  async function touchModel(model: RegisteredModelDoc, now: number): Promise<void> {
    await registeredModels.updateOne({ _id: model._id }, { $set: { last_updated_timestamp: now } });
  }

  /** Sets (value given) or removes one tag of a live version. Called holding the model's lease. */
  async function setVersionTag(model: RegisteredModelDoc, version: number, key: string, value?: string): Promise<void> {
    const doc = await reads.liveVersion(model, version);
    if (value !== undefined) await modelVersions.updateOne({ _id: doc._id }, { $set: { [keyPath("tags", key)]: value } });
    else if (hasKey(doc.tags, key)) await modelVersions.updateOne({ _id: doc._id }, { $unset: { [keyPath("tags", key)]: "" } });
  }

  /** Inserts the version under the next free number. Called holding the model's lease. */
  async function insertVersion(model: RegisteredModelDoc, fields: Omit<LiveVersionDoc, "_id" | "version">): Promise<LiveVersionDoc> {
    const top = await modelVersions.find({ model: model._id }, { projection: { version: 1 } }).sort({ version: -1 }).limit(1).next();
    let version = (top?.version ?? 0) + 1;
    for (let attempt = 0; attempt < MAX_NUMBER_ATTEMPTS; attempt++, version++) {
      const doc: LiveVersionDoc = { _id: modelVersionId(model._id, version), version, ...fields };
      try {
        await modelVersions.insertOne(doc);
        return doc;
      } catch (err) {
        if (!isDuplicateKeyError(err)) throw err;
      }
    }
    throw contended(`the version numbers of registered model ${model.name}`);
  }

  return {
    async createRegisteredModel({ name, description, userId, tags, now }) {
      const doc: RegisteredModelDoc = {
        _id: REGISTERED_MODEL_ID_PREFIX + randomBytes(16).toString("hex"),
        name,
        description,
        user_id: userId,
        creation_timestamp: now,
        last_updated_timestamp: now,
        tags: toKeyFields(tags),
        aliases: [],
      };
      try {
        await registeredModels.insertOne(doc);
      } catch (err) {
        // The `_id` is fresh and random: the duplicate is the name.
        if (isDuplicateKeyError(err)) throw registeredModelExists(name, err);
        throw err;
      }
      return registeredModelFromDoc(doc, []);
    },

    getRegisteredModel: async (name) => wholeModel(await reads.model(name)),

    async renameRegisteredModel(name, newName, now) {
      return withModel(name, async (model) => {
        try {
          await registeredModels.updateOne({ _id: model._id }, { $set: { name: newName, last_updated_timestamp: now, renaming: true } });
        } catch (err) {
          // FerretDB reports a unique violation by an update as code 1, MongoDB as E11000 (errors.ts).
          if (mayBeDuplicateKeyOnUpdate(err)) {
            const owner = await registeredModels.findOne({ name: newName }, { projection: { _id: 1 } });
            if (owner && owner._id !== model._id) throw registeredModelExists(newName, err);
          }
          throw err;
        }
        // As MLflow: the versions are updated by a rename (their name changes with the model's).
        await finishRename(c, { ...model, name: newName }, now);
        return wholeModel({ ...model, name: newName, last_updated_timestamp: now });
      });
    },

    async updateRegisteredModel(name, description, now) {
      return withModel(name, async (model) => {
        await registeredModels.updateOne({ _id: model._id }, { $set: { description, last_updated_timestamp: now } });
        return wholeModel({ ...model, description, last_updated_timestamp: now });
      });
    },

    async deleteRegisteredModel(name) {
      await withModel(name, async (model) => {
        // The model first: once it is gone, its versions are unreachable even before they are removed.
        await registeredModels.deleteOne({ _id: model._id });
        await modelVersions.deleteMany({ model: model._id });
      });
    },

    async setRegisteredModelTag(name, tag) {
      await withModel(name, async (model) => {
        await registeredModels.updateOne({ _id: model._id }, { $set: { [keyPath("tags", tag.key)]: tag.value } });
      });
    },

    async deleteRegisteredModelTag(name, key) {
      await withModel(name, async (model) => {
        if (hasKey(model.tags, key)) await registeredModels.updateOne({ _id: model._id }, { $unset: { [keyPath("tags", key)]: "" } });
      });
    },

    async getLatestVersions(name, stages) {
      const { latestVersions } = await wholeModel(await reads.model(name));
      return stages.length === 0 ? latestVersions : latestVersions.filter((v) => stages.includes(v.currentStage));
    },

    async createModelVersion(input: NewModelVersion) {
      return withModel(input.name, async (model) => {
        const doc = await insertVersion(model, {
          model: model._id,
          name: model.name,
          deleted: false,
          creation_timestamp: input.now,
          last_updated_timestamp: input.now,
          user_id: input.userId,
          current_stage: "None",
          description: input.description,
          source: input.source,
          run_id: input.runId,
          run_link: input.runLink,
          status: "READY",
          tags: toKeyFields(input.tags),
          model_id: input.modelId,
          storage_location: input.storageLocation,
        });
        await touchModel(model, input.now);
        return modelVersionFromDoc(doc, model.name, model.aliases ?? []);
      });
    },

    async getModelVersion(name, version) {
      const model = await reads.model(name, () => modelVersionNotFound(name, version));
      return modelVersionFromDoc(await reads.liveVersion(model, version), model.name, model.aliases ?? []);
    },

    async updateModelVersion(name, version, description, now) {
      return withVersion(name, version, async (model) => {
        const doc = await reads.liveVersion(model, version);
        await modelVersions.updateOne({ _id: doc._id }, { $set: { description, last_updated_timestamp: now } });
        return modelVersionFromDoc({ ...doc, description, last_updated_timestamp: now }, model.name, model.aliases ?? []);
      });
    },

    async deleteModelVersion(name, version, now) {
      await withVersion(name, version, async (model) => {
        const doc = await reads.liveVersion(model, version);
        const aliases = model.aliases ?? [];
        await registeredModels.updateOne(
          { _id: model._id },
          { $set: { aliases: aliases.filter((a) => a.version !== version), last_updated_timestamp: now } },
        );
        // A tombstone: the `_id` stays taken, everything else goes (MLflow redacts a deleted version too).
        await modelVersions.replaceOne({ _id: doc._id }, { model: model._id, version, deleted: true });
      });
    },

    async setModelVersionTag(name, version, tag: Tag) {
      await withVersion(name, version, (model) => setVersionTag(model, version, tag.key, tag.value));
    },

    async deleteModelVersionTag(name, version, key) {
      await withVersion(name, version, (model) => setVersionTag(model, version, key));
    },

    async transitionModelVersionStage(name, version, stage: Stage, archiveExisting, now) {
      return withVersion(name, version, async (model) => {
        const doc = await reads.liveVersion(model, version);
        if (archiveExisting) {
          await modelVersions.updateMany(
            { model: model._id, deleted: false, current_stage: stage, version: { $ne: version } },
            { $set: { current_stage: "Archived", last_updated_timestamp: now } },
          );
        }
        await modelVersions.updateOne({ _id: doc._id }, { $set: { current_stage: stage, last_updated_timestamp: now } });
        await touchModel(model, now);
        return modelVersionFromDoc({ ...doc, current_stage: stage, last_updated_timestamp: now }, model.name, model.aliases ?? []);
      });
    },

    listModelVersionsOf: async (name) => {
      const model = await reads.model(name);
      return reads.versions({ model: model._id }, [model]);
    },

    async setRegisteredModelAlias(name, alias, version, now) {
      await withVersion(name, version, async (model) => {
        await reads.liveVersion(model, version);
        const aliases = withAlias(model.aliases ?? [], alias, version);
        await registeredModels.updateOne({ _id: model._id }, { $set: { aliases, last_updated_timestamp: now } });
      });
    },

    async deleteRegisteredModelAlias(name, alias, now) {
      await withModel(name, async (model) => {
        const aliases = model.aliases ?? [];
        if (!aliases.some((a) => a.alias === alias)) return;
        await registeredModels.updateOne(
          { _id: model._id },
          { $set: { aliases: aliases.filter((a) => a.alias !== alias), last_updated_timestamp: now } },
        );
      });
    },

    async getModelVersionByAlias(name, alias): Promise<ModelVersion> {
      const model = await reads.model(name);
      const target = (model.aliases ?? []).find((a) => a.alias === alias);
      if (!target) throw aliasNotFound(name, alias);
      const doc = await modelVersions.findOne({ _id: modelVersionId(model._id, target.version) });
      if (!doc || doc.deleted) throw modelVersionNotFound(name, target.version);
      return modelVersionFromDoc(doc, model.name, model.aliases ?? []);
    },
  };
}
