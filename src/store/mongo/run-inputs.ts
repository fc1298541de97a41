/**
 * Run inputs and outputs. Dataset links live in `run_inputs`, one document per (run, dataset name, digest) — a
 * dataset's schema and profile can be megabytes, so they stay off the run document — upserted by `_id` (the
 * first link keeps its dataset and order; its tags are replaced). Model inputs and outputs are small sets on the
 * run document, grown with $addToSet (idempotent).
 */
import type { DatasetInput, ModelOutput } from "../../domain/entities.js";
import type { Collections } from "./connection.js";
import { isDuplicateKeyError } from "./errors.js";
import { type RunInputDoc, datasetDocOf, modelOutputDocOf, toKeyValues } from "./mapping.js";
import { readActiveRun } from "./run-state.js";
import { escapeIdPart, runIdPrefix } from "./value-encoding.js";

export interface RunInputStore {
  logInputs(runId: string, inputs: { datasets: DatasetInput[]; modelIds: string[] }): Promise<void>;
  logOutputs(runId: string, outputs: ModelOutput[]): Promise<void>;
}

export function createRunInputStore(c: Collections): RunInputStore {
  // Orders dataset links by first linking: milliseconds × 1000, kept increasing within this process.
  let lastOrd = 0;
  const nextOrd = () => (lastOrd = Math.max(Date.now() * 1000, lastOrd + 1));

  async function linkDatasets(runId: string, datasets: DatasetInput[]): Promise<void> {
    const docs = new Map<string, Omit<RunInputDoc, "ord">>();
    for (const input of datasets) {
      const _id = `${runIdPrefix(runId)}${escapeIdPart(input.dataset.name)}:${escapeIdPart(input.dataset.digest)}`;
      docs.set(_id, { _id, run_id: runId, dataset: datasetDocOf(input.dataset), tags: toKeyValues(input.tags) });
    }
    const upsert = ({ _id, tags, ...insertOnly }: Omit<RunInputDoc, "ord">) => ({
      filter: { _id },
      update: { $set: { tags }, $setOnInsert: { ...insertOnly, ord: nextOrd() } },
      upsert: true,
    });
    try {
      await c.runInputs.bulkWrite([...docs.values()].map((d) => ({ updateOne: upsert(d) })), { ordered: false });
    } catch (err) {
      if (!isDuplicateKeyError(err)) throw err;
      // A concurrent first link of one dataset won its insert (and some servers stop a batch at that error):
      // apply each link again; an existing link is now a plain update of its tags.
      for (const d of docs.values()) {
        const { filter, update } = upsert(d);
        try {
          await c.runInputs.updateOne(filter, update, { upsert: true });
        } catch (e) {
          if (!isDuplicateKeyError(e)) throw e;
          await c.runInputs.updateOne(filter, { $set: update.$set });
        }
      }
    }
  }

  return {
    async logInputs(runId, { datasets, modelIds }) {
      await readActiveRun(c, runId, {});
      if (datasets.length > 0) await linkDatasets(runId, datasets);
      if (modelIds.length > 0) {
        await c.runs.updateOne({ _id: runId }, { $addToSet: { model_inputs: { $each: [...new Set(modelIds)] } } });
      }
    },

    async logOutputs(runId, outputs) {
      await readActiveRun(c, runId, {});
      if (outputs.length === 0) return;
      await c.runs.updateOne({ _id: runId }, { $addToSet: { model_outputs: { $each: outputs.map(modelOutputDocOf) } } });
    },
  };
}
