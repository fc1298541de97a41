/**
 * Reading the registry: names resolved to internal ids, versions joined to their model's name and aliases, the
 * latest version per stage. Tombstones (`deleted: true`) are filtered out of every read. No lease is taken:
 * every write under a lease leaves each document whole, so a read sees a model before or after a change.
 */
import { type ModelVersion, type RegisteredModel, STAGES } from "../../domain/model-registry.js";
import { modelVersionNotFound, registeredModelNotFound } from "../../domain/registry-messages.js";
import type { Collections } from "./connection.js";
import { WHOLE_READ } from "./search-query.js";
import {
  type LiveVersionDoc,
  type RegisteredModelDoc,
  modelVersionFromDoc,
  modelVersionId,
  registeredModelFromDoc,
} from "./registry-mapping.js";

/** Versions newest first, then by model internal id (names are joined afterwards). */
const newestFirst = (a: LiveVersionDoc, b: LiveVersionDoc) => b.version - a.version || (a.model < b.model ? -1 : a.model > b.model ? 1 : 0);

const stageRank = (v: ModelVersion) => STAGES.indexOf(v.currentStage);

export interface RegistryReads {
  /** @throws `missing()`, by default RESOURCE_DOES_NOT_EXIST registeredModelNotFound */
  model(name: string, missing?: () => Error): Promise<RegisteredModelDoc>;
  /** A live version of `model`. @throws RESOURCE_DOES_NOT_EXIST modelVersionNotFound */
  liveVersion(model: RegisteredModelDoc, version: number): Promise<LiveVersionDoc>;
  /** Whole, with the highest-numbered version of each stage. */
  wholeModels(models: RegisteredModelDoc[]): Promise<RegisteredModel[]>;
  /** Live versions matching `filter`, whole, newest first; `models` must hold every model they belong to when given. */
  versions(filter: Record<string, unknown>, models?: RegisteredModelDoc[]): Promise<ModelVersion[]>;
  /** The versions whole, in their order, their models read in one query; a version whose model is gone is dropped. */
  withOwners(docs: LiveVersionDoc[]): Promise<ModelVersion[]>;
}

export function createRegistryReads(c: Collections): RegistryReads {
  const { registeredModels, modelVersions } = c;

  async function liveVersions(filter: Record<string, unknown>): Promise<LiveVersionDoc[]> {
    return (await modelVersions.find({ ...filter, deleted: false }, WHOLE_READ).toArray()) as LiveVersionDoc[];
  }

  /** Joins each version to its model's name and aliases; versions of a model not in `models` (deleted meanwhile) are dropped. */
  function joined(docs: LiveVersionDoc[], models: Pick<RegisteredModelDoc, "_id" | "name" | "aliases">[]): ModelVersion[] {
    const byId = new Map(models.map((m) => [m._id, m]));
    const out: ModelVersion[] = [];
    for (const doc of docs) {
      const model = byId.get(doc.model);
      if (model) out.push(modelVersionFromDoc(doc, model.name, model.aliases ?? []));
    }
    return out;
  }

  return {
    async model(name, missing = () => registeredModelNotFound(name)) {
      const doc = await registeredModels.findOne({ name });
      if (!doc) throw missing();
      return doc;
    },

    async liveVersion(model, version) {
      const doc = await modelVersions.findOne({ _id: modelVersionId(model._id, version) });
      if (!doc || doc.deleted) throw modelVersionNotFound(model.name, version);
      return doc;
    },

    async wholeModels(models) {
      if (models.length === 0) return [];
      // Which version is latest per (model, stage) from a narrow projection, then only those read whole.
      const slim = await modelVersions
        .find({ model: { $in: models.map((m) => m._id) }, deleted: false }, { ...WHOLE_READ, projection: { model: 1, version: 1, current_stage: 1 } })
        .toArray();
      const latest = new Map<string, string>();
      const top = new Map<string, number>();
      for (const v of slim) {
        const slot = `${v.model}\u0000${v.current_stage}`;
        if ((top.get(slot) ?? 0) < v.version) {
          top.set(slot, v.version);
          latest.set(slot, v._id);
        }
      }
      const winners = latest.size > 0 ? await liveVersions({ _id: { $in: [...latest.values()] } }) : [];
      return models.map((m) => {
        const versions = winners.filter((v) => v.model === m._id).map((v) => modelVersionFromDoc(v, m.name, m.aliases ?? []));
        return registeredModelFromDoc(m, versions.sort((a, b) => stageRank(a) - stageRank(b)));
      });
    },

    async versions(filter, models) {
      const docs = (await liveVersions(filter)).sort(newestFirst);
      const owners = models ?? (await registeredModels.find({ _id: { $in: [...new Set(docs.map((d) => d.model))] } }, WHOLE_READ).toArray());
      return joined(docs, owners);
    },

    async withOwners(docs) {
      if (docs.length === 0) return [];
      const owners = await registeredModels
        .find({ _id: { $in: [...new Set(docs.map((d) => d.model))] } }, { ...WHOLE_READ, projection: { name: 1, aliases: 1 } })
        .toArray();
      return joined(docs, owners);
    },
  };
}
