/**
 * Params and tags of a run: `[{k, v}]` arrays on the run document, written by compare-and-set on the run's `rev`.
 *
 * One read (the run's stage, params, tags and rev), the checks against what is stored — a param already logged
 * with another value is INVALID_PARAMETER_VALUE before anything is written — then one conditional update
 * `{_id, rev, lifecycle_stage: "active"}` that pushes the new params and sets the merged tags. A racer that wrote
 * params or tags in between changed `rev`: the update matches nothing, and the loop reads again and re-checks, so a
 * param that lost a race is reported exactly like one found before writing, and a key never gets two values.
 *
 * After a write, one more read checks that what was written is there. On MongoDB that always holds (the
 * conditional update is atomic). FerretDB v1.24 reads and then writes a document without isolation, so two
 * writers can both pass the `rev` check and the later write replaces the earlier one: the check reports the
 * earlier writer's param as changed (the value that stayed is the other writer's) and writes again what was
 * lost. It narrows FerretDB's window to a write that lands after that check; only MongoDB closes it.
 */
import type { Tag } from "../../domain/entities.js";
import { paramChanged } from "../../domain/messages.js";
import type { Collections } from "./connection.js";
import { MAX_CAS_ATTEMPTS, contended } from "./errors.js";
import { type KeyValueDoc, type RunDoc, mergeKeyValues, newKeyValues, sameKeyValues } from "./mapping.js";
import { readActiveRun } from "./run-state.js";

export const RUN_NAME_TAG = "mlflow.runName";


/**
 * Whether the params and tags just written are stored (tags may since carry a newer value).
 * @throws INVALID_PARAMETER_VALUE when a param is stored with another value: a racer won.
 */
async function written(c: Collections, runId: string, params: Tag[], tags: Tag[]): Promise<boolean> {
  const doc = await c.runs.findOne({ _id: runId }, { projection: { params: 1, tags: 1 } });
  if (!doc) return false; // the loop reads again and reports the run missing
  const storedParams = new Map((doc.params ?? []).map((p) => [p.k, p.v]));
  for (const p of params) {
    const value = storedParams.get(p.key);
    if (value === undefined) return false;
    if (value !== p.value) throw paramChanged(runId, p.key, value, p.value);
  }
  const storedTags = new Set((doc.tags ?? []).map((t) => t.k));
  return tags.every((t) => storedTags.has(t.key));
}

/**
 * Logs params (immutable) and upserts tags of an active run; returns its experiment id.
 * @throws RESOURCE_DOES_NOT_EXIST, INVALID_PARAMETER_VALUE (runNotActive), INVALID_PARAMETER_VALUE (paramChangedMessage)
 */
export async function writeParamsAndTags(c: Collections, runId: string, params: Tag[], tags: Tag[]): Promise<{ experimentId: string }> {
  for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
    const doc = await readActiveRun(c, runId, { experiment_id: 1, params: 1, tags: 1, rev: 1 });
    const added = newKeyValues(doc.params ?? [], params, (key, old, value) => paramChanged(runId, key, old, value));
    const storedTags = doc.tags ?? [];
    const nextTags = mergeKeyValues(storedTags, tags);
    const tagsChanged = !sameKeyValues(storedTags, nextTags);
    if (added.length === 0 && !tagsChanged) return { experimentId: doc.experiment_id };
    const update: { $inc: { rev: 1 }; $push?: { params: { $each: KeyValueDoc[] } }; $set?: Pick<RunDoc, "tags"> } = { $inc: { rev: 1 } };
    if (added.length > 0) update.$push = { params: { $each: added } };
    if (tagsChanged) update.$set = { tags: nextTags };
    const { matchedCount } = await c.runs.updateOne({ _id: runId, rev: doc.rev, lifecycle_stage: "active" }, update);
    if (matchedCount === 1 && (await written(c, runId, params, tags))) return { experimentId: doc.experiment_id };
  }
  throw contended(`the params and tags of run ${runId}`);
}

/**
 * Rewrites the tags of an active run by compare-and-set on `rev`; `change` returns the new tags or throws.
 * (FerretDB's $pull removes only whole equal elements, not those matching a condition: a rewrite works on both.)
 * @throws RESOURCE_DOES_NOT_EXIST, INVALID_PARAMETER_VALUE (runNotActive), and whatever `change` throws
 */
export async function updateRunTags(c: Collections, runId: string, change: (tags: KeyValueDoc[]) => KeyValueDoc[]): Promise<void> {
  for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
    const doc = await readActiveRun(c, runId, { tags: 1, rev: 1 });
    const tags = change(doc.tags ?? []);
    const { matchedCount } = await c.runs.updateOne({ _id: runId, rev: doc.rev, lifecycle_stage: "active" }, { $set: { tags }, $inc: { rev: 1 } });
    if (matchedCount === 1) return;
  }
  throw contended(`the tags of run ${runId}`);
}
