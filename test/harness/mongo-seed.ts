/**
 * Bulk seeding of runs straight into a Logbook MongoDB database, for suites that need tens of thousands of runs on
 * FerretDB (where createRun + logBatch per run costs several round trips each). The documents are built by the
 * store's own code (run-document.ts newRunDoc, run-batch.ts withBatch): exactly what createRun followed by one
 * logBatch writes, the metric points in the batch being the runs' only history (which is not written here). Suites
 * that test writing use the store.
 */
import { MongoClient } from "mongodb";
import type { Metric } from "../../src/domain/entities.js";
import { withBatch } from "../../src/store/mongo/run-batch.js";
import { type RunDoc, newRunDoc } from "../../src/store/mongo/run-document.js";

export interface SeedRun {
  runId: string;
  runName: string;
  startTime: number;
  params: Record<string, string>;
  tags?: Record<string, string>;
  /** Latest values, logged at the run's start time, step 0. */
  metrics?: Record<string, number>;
}

export function seedRunDoc(experimentId: string, artifactLocation: string, r: SeedRun): RunDoc {
  const doc = newRunDoc(
    { runId: r.runId, experimentId, userId: "u", runName: r.runName, startTime: r.startTime, tags: [{ key: "mlflow.runName", value: r.runName }] },
    artifactLocation,
  );
  const metrics: Metric[] = Object.entries(r.metrics ?? {}).map(([key, value]) => ({ key, value, timestamp: r.startTime, step: 0 }));
  const batch = {
    metrics,
    params: Object.entries(r.params).map(([key, value]) => ({ key, value })),
    tags: Object.entries(r.tags ?? {}).map(([key, value]) => ({ key, value })),
  };
  return withBatch(r.runId, { ...doc, rev: 1 }, batch);
}

export async function seedRunsDirectly(uri: string, experimentId: string, artifactLocation: string, runs: SeedRun[]): Promise<void> {
  const client = new MongoClient(uri);
  try {
    const collection = client.db().collection<RunDoc>("runs");
    for (let at = 0; at < runs.length; at += 1000) {
      await collection.insertMany(
        runs.slice(at, at + 1000).map((r) => seedRunDoc(experimentId, artifactLocation, r)),
        { ordered: false },
      );
    }
  } finally {
    await client.close();
  }
}
