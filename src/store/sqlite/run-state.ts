/** The checks that come before reading or writing a run, shared by the run and metric stores. */
import type { Database } from "better-sqlite3";
import type { LifecycleStage } from "../../domain/entities.js";
import { runNotActive, runNotFound } from "../../domain/messages.js";

export interface RunState {
  /** @throws RESOURCE_DOES_NOT_EXIST */
  requireRun(runId: string): LifecycleStage;
  /** @throws RESOURCE_DOES_NOT_EXIST; INVALID_PARAMETER_VALUE (runNotActive) when the run is deleted. */
  requireActiveRun(runId: string): void;
}

export function createRunState(db: Database): RunState {
  const stageOf = db.prepare<[string], LifecycleStage>("SELECT lifecycle_stage FROM runs WHERE run_id = ?").pluck();

  const requireRun = (runId: string): LifecycleStage => {
    const stage = stageOf.get(runId);
    if (stage === undefined) throw runNotFound(runId);
    return stage;
  };

  return {
    requireRun,
    requireActiveRun(runId) {
      const stage = requireRun(runId);
      if (stage !== "active") throw runNotActive(runId, stage);
    },
  };
}
