/**
 * Run inputs and outputs. Dataset links live in `run_inputs`, one document per (run, dataset name, digest) — a
 * dataset's schema and profile can be megabytes, so they stay off the run document — upserted by `_id` (the
 * first link keeps its dataset and order; its tags are replaced). Model inputs and outputs are small sets on the
 * run document, grown with $addToSet (idempotent).
 */
import { DATASET_CONTEXT_TAG, type DatasetInput, type DatasetSummary, type ModelOutput } from "../../domain/entities.js";
import { createLogOrder } from "../../domain/log-order.js";
import type { Collections } from "./connection.js";
import { isDuplicateKeyError } from "./errors.js";
import { type RunInputDoc, datasetDocOf, modelOutputDocOf, toKeyValues } from "./mapping.js";
import { readActiveRun } from "./run-state.js";
import { escapeIdPart, runIdPrefix, runIdRange } from "./value-encoding.js";

export interface RunInputStore {
  logInputs(runId: string, inputs: { datasets: DatasetInput[]; modelIds: string[] }): Promise<void>;
  logOutputs(runId: string, outputs: ModelOutput[]): Promise<void>;
  searchDatasets(experimentIds: string[], limit: number): Promise<DatasetSummary[]>;
}

/** Runs whose dataset links are read in one query (an `$or` of their `_id` ranges). */
const RUNS_PER_QUERY = 500;

export function createRunInputStore(c: Collections): RunInputStore {
  // Orders dataset links by first linking.
  const logOrder = createLogOrder();
  const nextOrd = () => logOrder(1);

  /** The summaries of these runs' links, in link order, each (name, digest, context) once. */
  async function summariesOf(experimentId: string, runIds: string[]): Promise<{ ord: number; summary: DatasetSummary }[]> {
    const docs = await c.runInputs
      .find({ $or: runIds.map((id) => ({ _id: runIdRange(id) })) }, { projection: { "dataset.name": 1, "dataset.digest": 1, tags: 1, ord: 1 } })
      .toArray();
    return docs.map((d) => {
      const context = d.tags.find((t) => t.k === DATASET_CONTEXT_TAG)?.v;
      return { ord: d.ord, summary: { experimentId, name: d.dataset.name, digest: d.dataset.digest, ...(context === undefined ? {} : { context }) } };
    });
  }

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

    /** Per experiment: its runs' ids from the experiment index, their links by `_id` ranges, a few hundred runs a query. */
    async searchDatasets(experimentIds, limit) {
      const out: DatasetSummary[] = [];
      for (const experimentId of [...new Set(experimentIds)]) {
        const found: { ord: number; summary: DatasetSummary }[] = [];
        const cursor = c.runs.find({ experiment_id: experimentId }, { projection: { _id: 1 }, batchSize: RUNS_PER_QUERY });
        let batch: string[] = [];
        for await (const run of cursor) {
          batch.push(run._id);
          if (batch.length === RUNS_PER_QUERY) found.push(...(await summariesOf(experimentId, batch.splice(0))));
        }
        if (batch.length > 0) found.push(...(await summariesOf(experimentId, batch)));
        const seen = new Set<string>();
        for (const { summary } of found.sort((a, b) => a.ord - b.ord)) {
          const key = JSON.stringify([summary.name, summary.digest, summary.context ?? null]);
          if (seen.has(key)) continue;
          seen.add(key);
          out.push(summary);
          if (out.length >= limit) return out;
        }
      }
      return out;
    },

    async logOutputs(runId, outputs) {
      await readActiveRun(c, runId, {});
      if (outputs.length === 0) return;
      await c.runs.updateOne({ _id: runId }, { $addToSet: { model_outputs: { $each: outputs.map(modelOutputDocOf) } } });
    },
  };
}
