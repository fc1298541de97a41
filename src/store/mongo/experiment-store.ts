/**
 * Experiments in MongoDB. Ids come from a counter document (findOneAndUpdate + $inc + upsert); the experiment's
 * own `_id` unique index is the arbiter, so an id handed out twice (FerretDB's findAndModify is not atomic under
 * concurrency) costs a retry, never a duplicate. Names are unique by index. Tags are one field per key (key-fields.ts)
 * updated by compare-and-set on `rev`.
 */
import {
  DEFAULT_EXPERIMENT_ID,
  DEFAULT_EXPERIMENT_NAME,
  type Experiment,
  type LifecycleStage,
  type Tag,
  experimentArtifactLocation,
} from "../../domain/entities.js";
import { AppError } from "../../domain/errors.js";
import { experimentNameExists, experimentNotFound, experimentTagNotFound } from "../../domain/messages.js";
import type { ExperimentStore } from "../types.js";
import type { ChangeAppender } from "./change-log.js";
import type { Collections } from "./connection.js";
import { MAX_CAS_ATTEMPTS, contended, isDuplicateKeyError, mayBeDuplicateKeyOnUpdate } from "./errors.js";
import { type KeyFields, hasKey, toKeyFields, valueOfKey, withKeys, withoutKey } from "./key-fields.js";
import { type ExperimentDoc, experimentFromDoc } from "./mapping.js";

const EXPERIMENT_COUNTER = "experiment_id";
/** Attempts at a fresh id when the one handed out is taken (only after the counter lost increments). */
const MAX_ID_ATTEMPTS = 100;

/** Creates experiment "0" "Default" unless it exists: an upsert, so concurrent init()s end with exactly one. */
export async function ensureDefaultExperiment(c: Collections, now: number, defaultArtifactRoot?: string): Promise<void> {
  try {
    await c.experiments.updateOne(
      { _id: DEFAULT_EXPERIMENT_ID },
      {
        $setOnInsert: {
          num: Number(DEFAULT_EXPERIMENT_ID),
          name: DEFAULT_EXPERIMENT_NAME,
          artifact_location: experimentArtifactLocation(DEFAULT_EXPERIMENT_ID, defaultArtifactRoot),
          lifecycle_stage: "active",
          creation_time: now,
          last_update_time: now,
          tags: {},
          rev: 0,
        },
      },
      { upsert: true },
    );
  } catch (err) {
    // Another server inserted it between our upsert's lookup and its insert.
    if (!isDuplicateKeyError(err)) throw err;
  }
}

async function nextExperimentId(c: Collections): Promise<string> {
  for (let attempt = 0; ; attempt++) {
    try {
      const doc = await c.counters.findOneAndUpdate(
        { _id: EXPERIMENT_COUNTER },
        { $inc: { seq: 1 } },
        { upsert: true, returnDocument: "after" },
      );
      if (doc && Number.isSafeInteger(doc.seq)) return String(doc.seq);
      throw AppError.from(new Error("experiment id counter returned no document"));
    } catch (err) {
      // Two first-ever allocations raced to create the counter: the loser retries and increments it.
      if (!isDuplicateKeyError(err) || attempt >= 3) throw err;
    }
  }
}

export function createExperimentStore(c: Collections, changes: ChangeAppender, defaultArtifactRoot?: string): ExperimentStore {
  const { experiments, runs } = c;

  /** Read-compute-write of the tags, guarded by `rev`; `change` returns null when nothing changes. */
  async function updateTags(experimentId: string, change: (tags: KeyFields) => KeyFields | null): Promise<void> {
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const doc = await experiments.findOne({ _id: experimentId }, { projection: { tags: 1, rev: 1 } });
      if (!doc) throw experimentNotFound(experimentId);
      const next = change(doc.tags ?? {});
      if (next === null) return;
      const { matchedCount } = await experiments.updateOne({ _id: experimentId, rev: doc.rev }, { $set: { tags: next }, $inc: { rev: 1 } });
      if (matchedCount === 1) return;
    }
    throw contended(`the tags of experiment ${experimentId}`);
  }

  return {
    async createExperiment({ name, artifactLocation, tags, now }): Promise<string> {
      for (let attempt = 0; attempt < MAX_ID_ATTEMPTS; attempt++) {
        const id = await nextExperimentId(c);
        const doc: ExperimentDoc = {
          _id: id,
          num: Number(id),
          name,
          artifact_location: artifactLocation ?? experimentArtifactLocation(id, defaultArtifactRoot),
          lifecycle_stage: "active",
          creation_time: now,
          last_update_time: now,
          tags: toKeyFields(tags),
          rev: 0,
        };
        try {
          await experiments.insertOne(doc);
          return id;
        } catch (err) {
          if (!isDuplicateKeyError(err)) throw err;
          // Which unique key? The name, unless the id was taken (a counter that lost increments): then retry.
          if (await experiments.findOne({ name }, { projection: { _id: 1 } })) throw experimentNameExists(name, err);
        }
      }
      throw contended("the experiment id counter");
    },

    async getExperiment(experimentId: string): Promise<Experiment> {
      const doc = await experiments.findOne({ _id: experimentId });
      if (!doc) throw experimentNotFound(experimentId);
      return experimentFromDoc(doc);
    },

    async getExperimentByName(name: string): Promise<Experiment | null> {
      const doc = await experiments.findOne({ name });
      return doc ? experimentFromDoc(doc) : null;
    },

    async renameExperiment(experimentId: string, newName: string, now: number): Promise<void> {
      let matched: number;
      try {
        ({ matchedCount: matched } = await experiments.updateOne({ _id: experimentId }, { $set: { name: newName, last_update_time: now } }));
      } catch (err) {
        if (mayBeDuplicateKeyOnUpdate(err)) {
          const owner = await experiments.findOne({ name: newName }, { projection: { _id: 1 } });
          if (owner && owner._id !== experimentId) throw experimentNameExists(newName, err);
        }
        throw err;
      }
      if (matched === 0) throw experimentNotFound(experimentId);
    },

    async setExperimentLifecycle(experimentId: string, stage: LifecycleStage, now: number): Promise<void> {
      const { matchedCount } = await experiments.updateOne({ _id: experimentId }, { $set: { lifecycle_stage: stage, last_update_time: now } });
      if (matchedCount === 0) throw experimentNotFound(experimentId);
      // The experiment first, then its runs: createRun re-reads the experiment after inserting, so a run created
      // concurrently is either caught by this updateMany or removed by its own creator.
      // Like every run write, the cascade bumps each run's `rev` (run-writer.ts).
      if (stage === "deleted") {
        await runs.updateMany({ experiment_id: experimentId, lifecycle_stage: "active" }, { $set: { lifecycle_stage: "deleted", deleted_time: now }, $inc: { rev: 1 } });
      } else {
        await runs.updateMany({ experiment_id: experimentId, lifecycle_stage: "deleted" }, { $set: { lifecycle_stage: "active" }, $unset: { deleted_time: "" }, $inc: { rev: 1 } });
      }
      // One change record for all its runs (their watchers see the lifecycle change).
      await changes.append({ experimentId, items: [{ kind: "experiment", lifecycleStage: stage }] });
    },

    async setExperimentTag(experimentId: string, tag: Tag): Promise<void> {
      await updateTags(experimentId, (tags) => (valueOfKey(tags, tag.key) === tag.value ? null : withKeys(tags, [tag])));
    },

    async deleteExperimentTag(experimentId: string, key: string): Promise<void> {
      await updateTags(experimentId, (tags) => {
        if (!hasKey(tags, key)) throw experimentTagNotFound(experimentId, key);
        return withoutKey(tags, key);
      });
    },
  };
}
