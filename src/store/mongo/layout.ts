/**
 * Brings documents written by earlier Logbook versions to the current layout at init(), idempotently and safely when
 * several servers start at once (every step is conditional on the old shape, or rewrites what it computes the same
 * way). A marker `counters {_id: "layout", seq: <version>}` skips it all once done.
 * - Layout 1 (Logbook 0.1, and runs up to layout 2) kept a run's params and tags as `[{k, v}]` arrays, its latest
 *   metric values in `latest_metrics` and its dataset links in `run_inputs`: layout-migration.ts rewrites each such
 *   run as a run document (run-document.ts), which is layout 3.
 * Layout 2:
 * - tags and params of experiments, registered models, model versions and logged models are one field per key
 *   (key-fields.ts), no longer `[{k, v}]` arrays;
 * - experiments carry `num` (their id as a number), model versions their model's `name`, logged models the presence
 *   flags of their optional attributes and their linked-metric summaries (logged-model-metrics.ts).
 * Every init also finishes a registered-model rename a crash cut short (registry-store.ts).
 */
import type { AnyBulkWriteOperation, Collection, Db, Document } from "mongodb";
import { AppError, ErrorCode } from "../../domain/errors.js";
import type { Collections } from "./connection.js";
import { isDuplicateKeyError } from "./errors.js";
import { toKeyFields } from "./key-fields.js";
import { migrateRunDocuments } from "./layout-migration.js";
import { summarize } from "./logged-model-metrics.js";
import type { Leases } from "./registry-lease.js";
import { finishInterruptedRename } from "./registry-store.js";

export const LAYOUT_VERSION = 3;
const MARKER = "layout";

type Pairs = { k: string; v: string }[];
const fields = (pairs: Pairs) => toKeyFields(pairs.map((p) => ({ key: p.k, value: p.v })));

/** Rewrites, in bulk, the documents matching `filter` with what `update` makes of each (null: nothing). */
async function rewrite<T extends Document>(
  collection: Collection<T>,
  filter: Document,
  update: (doc: T) => Document | null,
): Promise<void> {
  const ops: AnyBulkWriteOperation<T>[] = [];
  for await (const doc of collection.find(filter as never)) {
    const set = update(doc as T);
    if (set) ops.push({ updateOne: { filter: { _id: doc._id, ...filter } as never, update: { $set: set } as never } });
    if (ops.length >= 1000) await collection.bulkWrite(ops.splice(0), { ordered: false });
  }
  if (ops.length > 0) await collection.bulkWrite(ops, { ordered: false });
}

/** `{tags: fields}` (and params) for documents whose tags or params are still arrays. */
const keyFieldsOf = (names: readonly string[]) => (doc: Document) =>
  Object.fromEntries(names.filter((n) => Array.isArray(doc[n])).map((n) => [n, fields(doc[n] as Pairs)]));

const recordedVersion = async (c: Collections) => (await c.counters.findOne({ _id: MARKER }))?.seq ?? 1;

export async function upgradeLayout(db: Db, c: Collections, leases: Leases): Promise<void> {
  for (const model of await c.registeredModels.find({ renaming: true }, { projection: { _id: 1 } }).toArray()) {
    await finishInterruptedRename(c, leases, model._id);
  }
  const version = await recordedVersion(c);
  if (version > LAYOUT_VERSION) {
    throw new AppError(ErrorCode.INVALID_STATE, `This database holds Logbook's document layout ${version}; this Logbook reads layout ${LAYOUT_VERSION}. Use the Logbook version that wrote it, or another database.`);
  }
  if (version >= LAYOUT_VERSION) return;
  const finish = () => upgradeOthers(c, leases);
  // Runs of layout 1 or 2 (no `seq`) are rewritten by one server, which finishes the rest; the others wait for it.
  if (await c.runs.findOne({ seq: { $exists: false } }, { projection: { _id: 1 } })) {
    await migrateRunDocuments(db, c, { finish, done: async () => (await recordedVersion(c)) >= LAYOUT_VERSION });
  } else await finish();
}

/** Layout 2's changes of experiments and the registry, then the marker. */
async function upgradeOthers(c: Collections, leases: Leases): Promise<void> {
  const arrays = (...names: string[]) => ({ $or: names.map((n) => ({ [n]: { $type: "array" } })) });
  await rewrite(c.experiments, arrays("tags"), keyFieldsOf(["tags"]));
  await rewrite(c.experiments, { num: { $exists: false } }, (doc) => ({ num: Number(doc._id) }));
  await rewrite(c.registeredModels, arrays("tags"), keyFieldsOf(["tags"]));
  await rewrite(c.modelVersions, arrays("tags"), keyFieldsOf(["tags"]));
  const names = new Map((await c.registeredModels.find({}, { projection: { name: 1 } }).toArray()).map((m) => [m._id, m.name]));
  await rewrite(c.modelVersions, { deleted: false, name: { $exists: false } }, (doc) => (names.has(doc.model) ? { name: names.get(doc.model) } : null));
  await rewrite(c.loggedModels, arrays("tags", "params"), keyFieldsOf(["tags", "params"]));
  await rewrite(c.loggedModels, { model_type: { $exists: true }, has_model_type: { $exists: false } }, () => ({ has_model_type: 1 }));
  await rewrite(c.loggedModels, { source_run_id: { $exists: true }, has_source_run_id: { $exists: false } }, () => ({ has_source_run_id: 1 }));
  const unsummarized = await c.loggedModels.find({ metrics: { $exists: false } }, { projection: { _id: 1 } }).toArray();
  await summarize(c, leases, unsummarized.map((m) => m._id));

  try {
    await c.counters.updateOne({ _id: MARKER }, { $max: { seq: LAYOUT_VERSION } }, { upsert: true });
  } catch (err) {
    // Another server inserted the marker between our upsert's lookup and its insert: it is there now.
    if (!isDuplicateKeyError(err)) throw err;
    await c.counters.updateOne({ _id: MARKER }, { $max: { seq: LAYOUT_VERSION } });
  }
}
