/** The checks that come before reading or writing a run, shared by the run and metric stores. */
import type { Database } from "better-sqlite3";
import type { LifecycleStage } from "../../domain/entities.js";
import { runNotActive, runNotFound } from "../../domain/messages.js";

export interface RunState {
  /** @throws RESOURCE_DOES_NOT_EXIST */
  requireRun(runId: string): LifecycleStage;
  /** The run's experiment id. @throws RESOURCE_DOES_NOT_EXIST; INVALID_PARAMETER_VALUE (runNotActive) when the run is deleted. */
  requireActiveRun(runId: string): string;
}

export function createRunState(db: Database): RunState {
  const stateOf = db.prepare<[string], { lifecycle_stage: LifecycleStage; experiment_id: number }>(
    "SELECT lifecycle_stage, experiment_id FROM runs WHERE run_id = ?",
  );

  const stateOfRun = (runId: string) => {
    const state = stateOf.get(runId);
    if (state === undefined) throw runNotFound(runId);
    return state;
  };

  return {
    requireRun: (runId) => stateOfRun(runId).lifecycle_stage,
    requireActiveRun(runId) {
      const { lifecycle_stage: stage, experiment_id: experimentId } = stateOfRun(runId);
      if (stage !== "active") throw runNotActive(runId, stage);
      return String(experimentId);
    },
  };
}
