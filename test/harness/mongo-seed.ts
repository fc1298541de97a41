/**
 * Bulk seeding of runs straight into a Logbook MongoDB database, for suites that need tens of thousands of runs on
 * FerretDB (where createRun + logBatch per run takes minutes: reference/ferretdb.md). The documents are the store's
 * own layout (RunDoc, src/store/mongo/mapping.ts), exactly what createRun followed by a params-only logBatch writes;
 * suites that test writing use the store.
 */
import { MongoClient } from "mongodb";
import type { RunDoc } from "../../src/store/mongo/mapping.js";

export interface SeedRun {
  runId: string;
  runName: string;
  startTime: number;
  params: Record<string, string>;
}

export async function seedRunsDirectly(uri: string, experimentId: string, artifactRoot: string, runs: SeedRun[]): Promise<void> {
  const client = new MongoClient(uri);
  try {
    const collection = client.db().collection<RunDoc>("runs");
    for (let at = 0; at < runs.length; at += 1000) {
      await collection.insertMany(
        runs.slice(at, at + 1000).map((r) => ({
          _id: r.runId,
          experiment_id: experimentId,
          user_id: "u",
          run_name: r.runName,
          status: "RUNNING",
          start_time: r.startTime,
          artifact_uri: `${artifactRoot}/${r.runId}/artifacts`,
          lifecycle_stage: "active",
          params: Object.entries(r.params).map(([k, v]) => ({ k, v })),
          tags: [{ k: "mlflow.runName", v: r.runName }],
          rev: 1,
          model_inputs: [],
          model_outputs: [],
        })),
        { ordered: false },
      );
    }
  } finally {
    await client.close();
  }
}
