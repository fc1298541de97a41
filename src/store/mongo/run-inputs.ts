/**
 * Run inputs and outputs, on the run document: dataset inputs in first-linked order (a dataset already linked with
 * the same name and digest keeps its place and dataset, its tags are replaced), model inputs and outputs as small
 * sets. Each call is one read-compute-write of the run through run-writer.ts. A dataset input carries `o`, when it was
 * first linked (domain/log-order.ts: clock-based, so it orders the links of every run of an experiment), for
 * searchDatasets.
 */
import { DATASET_CONTEXT_TAG, type DatasetInput, type DatasetSummary, type ModelOutput } from "../../domain/entities.js";
import type { LogOrder } from "../../domain/log-order.js";
import { runNotActive } from "../../domain/messages.js";
import type { Collections } from "./connection.js";
import { datasetDocOf, modelOutputDocOf, toKeyValues } from "./mapping.js";
import type { DatasetInputDoc, RunDoc } from "./run-document.js";
import type { RunChange } from "./run-writer.js";

export const INPUTS_PROJECTION = { inputs: 1, model_inputs: 1 } as const;
export const OUTPUTS_PROJECTION = { model_outputs: 1 } as const;

function requireActive(runId: string, doc: Pick<RunDoc, "lifecycle_stage">): void {
  if (doc.lifecycle_stage !== "active") throw runNotActive(runId, doc.lifecycle_stage);
}

/** The run's inputs with `datasets` and `modelIds` added. */
export function inputsChange(
  runId: string,
  doc: RunDoc,
  { datasets, modelIds }: { datasets: DatasetInput[]; modelIds: string[] },
  logOrder: LogOrder,
): RunChange<void> {
  requireActive(runId, doc);
  const inputs: DatasetInputDoc[] = [...(doc.inputs ?? [])];
  const at = new Map(inputs.map((d, i) => [`${d.dataset.name}\u0000${d.dataset.digest}`, i]));
  let o = logOrder(datasets.length);
  for (const input of datasets) {
    const id = `${input.dataset.name}\u0000${input.dataset.digest}`;
    const tags = toKeyValues(input.tags);
    const i = at.get(id);
    if (i === undefined) {
      at.set(id, inputs.length);
      inputs.push({ dataset: datasetDocOf(input.dataset), tags, o: o++ });
    } else {
      inputs[i] = { ...inputs[i]!, tags };
    }
  }
  const models = [...(doc.model_inputs ?? [])];
  for (const id of modelIds) if (!models.includes(id)) models.push(id);
  const set: Record<string, unknown> = {};
  if (datasets.length > 0) set.inputs = inputs;
  if (models.length !== (doc.model_inputs ?? []).length) set.model_inputs = models;
  return { update: Object.keys(set).length > 0 ? { $set: set } : null, result: undefined };
}

/** The run's model outputs with `outputs` added (once per model and step). */
export function outputsChange(runId: string, doc: RunDoc, outputs: ModelOutput[]): RunChange<void> {
  requireActive(runId, doc);
  const stored = [...(doc.model_outputs ?? [])];
  for (const o of outputs) {
    if (!stored.some((s) => s.model_id === o.modelId && s.step === o.step)) stored.push(modelOutputDocOf(o));
  }
  const changed = stored.length !== (doc.model_outputs ?? []).length;
  return { update: changed ? { $set: { model_outputs: stored } } : null, result: undefined };
}

/**
 * The datasets linked to the runs of each experiment (deleted runs included), each (name, digest, context) once per
 * experiment in first-linked order, experiments in the order given, at most `limit`. One query per experiment over
 * its runs (index experiment_lifecycle_start), reading only the runs' dataset names, digests, tags and link order.
 */
export async function searchDatasets(c: Collections, experimentIds: string[], limit: number): Promise<DatasetSummary[]> {
  const out: DatasetSummary[] = [];
  for (const experimentId of [...new Set(experimentIds)]) {
    const runs = await c.runs
      .find(
        { experiment_id: experimentId, lifecycle_stage: { $in: ["active", "deleted"] }, "inputs.0": { $exists: true } },
        { projection: { "inputs.dataset.name": 1, "inputs.dataset.digest": 1, "inputs.tags": 1, "inputs.o": 1 } },
      )
      .toArray();
    const links = runs.flatMap((r) => r.inputs ?? []).sort((a, b) => (a.o ?? 0) - (b.o ?? 0));
    const seen = new Set<string>();
    for (const link of links) {
      const context = link.tags?.find((t) => t.k === DATASET_CONTEXT_TAG)?.v;
      const key = JSON.stringify([link.dataset.name, link.dataset.digest, context ?? null]);
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ experimentId, name: link.dataset.name, digest: link.dataset.digest, ...(context === undefined ? {} : { context }) });
      if (out.length >= limit) return out;
    }
  }
  return out;
}
