/** Every experiment of a view type with its tags, in two statements (listExperiments of the Store contract). */
import type { Database } from "better-sqlite3";
import type { Experiment, Tag } from "../../domain/entities.js";
import type { ViewType } from "../types.js";
import { type ExperimentRow, rowToExperiment } from "./mapping.js";

export function createExperimentList(db: Database): (viewType: ViewType) => Experiment[] {
  const rows = db.prepare<[string, string], ExperimentRow>(
    `SELECT experiment_id, name, artifact_location, lifecycle_stage, creation_time, last_update_time
     FROM experiments WHERE lifecycle_stage IN (?, ?)`,
  );
  const tags = db.prepare<[], Tag & { experiment_id: number }>("SELECT experiment_id, key, value FROM experiment_tags ORDER BY key");
  return (viewType) => {
    const stages = viewType === "ALL" ? ["active", "deleted"] : viewType === "ACTIVE_ONLY" ? ["active", "active"] : ["deleted", "deleted"];
    const byId = new Map<number, Tag[]>();
    for (const t of tags.all()) {
      const list = byId.get(t.experiment_id) ?? [];
      list.push({ key: t.key, value: t.value });
      byId.set(t.experiment_id, list);
    }
    return rows.all(stages[0]!, stages[1]!).map((r) => rowToExperiment(r, byId.get(r.experiment_id) ?? []));
  };
}
