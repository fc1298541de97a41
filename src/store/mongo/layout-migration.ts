/**
 * Moving the runs of a database written before the run-document layout (layouts 1 and 2) to it, once, at init().
 *
 * Those layouts kept params and tags as `[{k, v}]` arrays on the run (in the order they were first logged), the latest
 * value of each metric in `latest_metrics` (one document per run and key, `run_id`, `key`, the point's fields and,
 * since layout 2, `o`, when the key was first logged) and dataset links in `run_inputs` (`run_id`, `ord`, `dataset`,
 * `tags`). Each run document is rewritten whole with the same data: params and tags keep their order, metrics follow
 * them in first-logged order (key order where it was not recorded), dataset inputs in linking order. Metric history
 * and everything else is read as it is.
 *
 * One server migrates: it takes `{_id: "migration"}` in `counters` (an insert against a unique `_id`); the others
 * wait for the layout marker. Every step can be done again: a run is rewritten only while it has no `seq` (the new
 * layout's field), so a migration interrupted by a crash is finished by the next start once its marker is removed.
 * Servers of the earlier version must be stopped first: what they write afterwards is in the old layout.
 */
import type { Db, Document } from "mongodb";
import { AppError, ErrorCode } from "../../domain/errors.js";
import type { Collections } from "./connection.js";
import { isDuplicateKeyError } from "./errors.js";
import { type DatasetDoc, type KeyValueDoc, type ModelOutputDoc, fromKeyValues, metricFromDoc } from "./mapping.js";
import { withBatch } from "./run-batch.js";
import { type RunDoc, asDouble } from "./run-document.js";
import { escapeIdPart } from "./value-encoding.js";

/** A run document of layout 1. */
interface RunDocV1 {
  _id: string;
  experiment_id: string;
  user_id: string;
  run_name: string;
  status: RunDoc["status"];
  start_time: number;
  end_time?: number;
  artifact_uri: string;
  lifecycle_stage: RunDoc["lifecycle_stage"];
  deleted_time?: number;
  params?: KeyValueDoc[];
  tags?: KeyValueDoc[];
  rev?: number;
  model_inputs?: string[];
  model_outputs?: ModelOutputDoc[];
}

const MIGRATION_ID = "migration";
const BATCH = 500;
/** How long waiting servers give the migrating one before saying so. */
const WAIT_MS = 30 * 60_000;
const POLL_MS = 1000;

type Link = { ord: number; dataset: DatasetDoc; tags: KeyValueDoc[] };

/** A run document with the data of an earlier layout's run, its latest metric documents and dataset links. */
export function migratedRun(old: RunDocV1, latest: Document[], links: Link[]): RunDoc {
  const base: RunDoc = {
    _id: old._id,
    experiment_id: old.experiment_id,
    experiment_number: Number(old.experiment_id),
    user_id: old.user_id,
    run_name: old.run_name,
    status: old.status,
    start_time: old.start_time,
    artifact_uri: old.artifact_uri,
    lifecycle_stage: old.lifecycle_stage,
    rev: (old.rev ?? 0) + 1,
    seq: 0,
    params: {},
    tags: {},
    metrics: {},
    metric_asc: {},
    metric_desc: {},
    inputs: [...links].sort((a, b) => a.ord - b.ord).map((l) => ({ dataset: l.dataset, tags: l.tags, o: l.ord })),
    model_inputs: old.model_inputs ?? [],
    model_outputs: old.model_outputs ?? [],
  };
  if (typeof old.end_time === "number") base.end_time = asDouble(old.end_time);
  if (typeof old.deleted_time === "number") base.deleted_time = old.deleted_time;
  // First-logged order where layout 2 recorded it (`o`), then key order.
  const order = (d: Document) => (typeof d.o === "number" ? d.o : Number.MAX_VALUE);
  const sorted = [...latest].sort((a, b) => order(a) - order(b) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const metrics = sorted.map((d) => metricFromDoc(d as Parameters<typeof metricFromDoc>[0]));
  return withBatch(old._id, base, { params: fromKeyValues(old.params), tags: fromKeyValues(old.tags), metrics });
}

/** The `_id` range of one run's documents in latest_metrics and run_inputs: "<escaped run id>:…". */
const runRange = (runId: string) => ({ _id: { $gte: `${escapeIdPart(runId)}:`, $lt: `${escapeIdPart(runId)};` } });

async function migrateRuns(db: Db, c: Collections): Promise<void> {
  const runs = db.collection<RunDocV1 & { seq?: number }>("runs");
  const latest = db.collection<{ _id: string; run_id: string }>("latest_metrics");
  const inputs = db.collection<{ _id: string; run_id: string }>("run_inputs");
  let after = "";
  for (;;) {
    // Keyset on _id (the _id index), so each batch starts where the last ended; runs already migrated are skipped.
    const batch = await runs.find({ _id: { $gt: after }, seq: { $exists: false } }).sort({ _id: 1 }).limit(BATCH).toArray();
    if (batch.length === 0) return;
    after = batch[batch.length - 1]!._id;
    const ranges = { $or: batch.map((r) => runRange(r._id)) };
    const [points, links] = await Promise.all([latest.find(ranges).toArray(), inputs.find(ranges).toArray()]);
    const of = (docs: Document[], id: string) => docs.filter((d) => d.run_id === id);
    await c.runs.bulkWrite(
      batch.map((old) => ({
        replaceOne: {
          filter: { _id: old._id, seq: { $exists: false } },
          replacement: migratedRun(old, of(points, old._id), of(links, old._id) as Link[]),
        },
      })),
      { ordered: false },
    );
  }
}

/**
 * Migrates the runs and then does `upgrade.finish` (the rest of the upgrade, recording the layout), or waits until
 * `upgrade.done()` says the server that does has finished. @throws INVALID_STATE when a migration started by another server
 * does not finish in time (a crashed migration leaves its marker: the message says how to resume).
 */
export async function migrateRunDocuments(db: Db, c: Collections, upgrade: { finish(): Promise<void>; done(): Promise<boolean> }): Promise<void> {
  try {
    await c.counters.insertOne({ _id: MIGRATION_ID, seq: Date.now() });
  } catch (err) {
    if (!isDuplicateKeyError(err)) throw err;
    const deadline = Date.now() + WAIT_MS;
    while (Date.now() < deadline) {
      if (await upgrade.done()) return;
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    throw new AppError(
      ErrorCode.INVALID_STATE,
      `The database ${db.databaseName} is being moved to Logbook's new document layout by another server, which has not ` +
        `finished in ${WAIT_MS / 60_000} minutes. If no Logbook is running it any more, delete {_id: "${MIGRATION_ID}"} ` +
        "from the counters collection and start again: the migration resumes where it stopped.",
    );
  }
  await migrateRuns(db, c);
  await upgrade.finish();
  // The data now lives in the run documents; the old collections go (the old indexes went with ensureIndexes).
  for (const name of ["latest_metrics", "run_inputs"]) await db.collection(name).drop().catch(() => undefined);
  await c.counters.deleteOne({ _id: MIGRATION_ID });
}
