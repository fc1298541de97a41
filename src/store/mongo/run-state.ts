/** Reading a run that must exist and be active, with MLflow's errors when it is not. */
import { runNotActive, runNotFound } from "../../domain/messages.js";
import type { Collections } from "./connection.js";
import type { RunDoc } from "./mapping.js";

type Projection = Partial<Record<keyof RunDoc, 1>>;

/** The run's fields in `projection` (plus `_id` and `lifecycle_stage`). @throws RESOURCE_DOES_NOT_EXIST, INVALID_PARAMETER_VALUE (runNotActive) */
export async function readActiveRun<P extends Projection>(
  c: Collections,
  runId: string,
  projection: P,
): Promise<Pick<RunDoc, "_id" | "lifecycle_stage" | Extract<keyof P, keyof RunDoc>>> {
  const doc = await c.runs.findOne({ _id: runId }, { projection: { ...projection, lifecycle_stage: 1 } });
  if (!doc) throw runNotFound(runId);
  if (doc.lifecycle_stage !== "active") throw runNotActive(runId, doc.lifecycle_stage);
  return doc as Pick<RunDoc, "_id" | "lifecycle_stage" | Extract<keyof P, keyof RunDoc>>;
}
