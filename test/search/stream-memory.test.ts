/**
 * StreamSearchRuns keeps Logbook's memory flat: a stream of every run of a large experiment ordered by a metric,
 * read by a gRPC client as fast as it can, from a Logbook child process (the built CLI) whose resident memory is
 * read from /proc/<pid>/status when 10% of the runs have arrived and again at the end. 20,000 runs on FerretDB
 * (seeded in bulk in the store's own document layout), 50,000 on SQLite (through the store), each run carrying a
 * 4 KB param so that a store holding the matches, their sort keys or the runs would grow far past the bound.
 */
import { join } from "node:path";
import { credentials } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SearchServiceClient } from "../../gen/ts/logbook/v1/search_service.js";
import { rssMiB } from "../../bench/stats.js";
import { createMongoStore } from "../../src/store/mongo/mongo-store.js";
import { createSqliteStore } from "../../src/store/sqlite/sqlite-store.js";
import type { Store } from "../../src/store/types.js";
import { STORE_KINDS, type LogbookProcess, spawnLogbook, tempDir } from "../harness/logbook.js";
import { mongoTestUri } from "../harness/mongo.js";
import { seedRunsDirectly } from "../harness/mongo-seed.js";

/** Growth allowed between 10% and 100% of the stream. */
const MAX_GROWTH_MIB = 50;
const PAD = "x".repeat(4000);
const runId = (i: number) => `run${String(i).padStart(6, "0")}`;
/** A value per run in [-1, 3), spread so the metric order is nothing like the insertion order. */
const sharpe = (i: number) => ((i * 7919) % 10007) / 2500 - 1;

async function seedSqlite(store: Store, experimentId: string, runs: number): Promise<void> {
  const pending: Promise<void>[] = [];
  for (let i = 0; i < runs; i++) {
    pending.push(
      (async () => {
        await store.createRun({ runId: runId(i), experimentId, userId: "u", runName: `name-${i}`, startTime: i, tags: [] });
        await store.logBatch(runId(i), { metrics: [{ key: "sharpe_ratio", value: sharpe(i), timestamp: i, step: 0 }], params: [{ key: "note", value: PAD }], tags: [] });
      })(),
    );
    if (pending.length === 200) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
}

describe.each(STORE_KINDS)("StreamSearchRuns memory on %s", (kind) => {
  const RUNS = kind === "sqlite" ? 50_000 : 20_000;
  const dir = tempDir();
  let server: LogbookProcess;
  let experimentId: string;

  beforeAll(async () => {
    const spec = kind === "sqlite" ? `sqlite:${join(dir.path, "logbook.db")}` : mongoTestUri("stream_memory");
    const store = kind === "sqlite" ? createSqliteStore({ path: join(dir.path, "logbook.db") }) : createMongoStore({ uri: spec });
    await store.init();
    try {
      experimentId = await store.createExperiment({ name: "many", tags: [], now: 1 });
      if (kind === "sqlite") {
        await seedSqlite(store, experimentId, RUNS);
      } else {
        const { artifactLocation } = await store.getExperiment(experimentId);
        const runs = Array.from({ length: RUNS }, (_, i) => ({ runId: runId(i), runName: `name-${i}`, startTime: i, params: { note: PAD }, metrics: { sharpe_ratio: sharpe(i) } }));
        await seedRunsDirectly(spec, experimentId, artifactLocation, runs);
      }
    } finally {
      await store.close();
    }
    server = await spawnLogbook(["--store", spec, "--data-dir", dir.path]);
  }, 900_000);

  afterAll(async () => {
    await server?.stop();
    dir.remove();
  });

  it(`grows Logbook's RSS by less than ${MAX_GROWTH_MIB} MB between 10% and 100% of the stream`, async () => {
    const client = new SearchServiceClient(server.address, credentials.createInsecure());
    const pid = server.child.pid!;
    let received = 0;
    let atTenth = 0;
    let previous = Number.POSITIVE_INFINITY;
    let ordered = true;
    await new Promise<void>((resolve, reject) => {
      const call = client.streamSearchRuns({ experimentIds: [experimentId], filter: "", orderBy: ["metrics.sharpe_ratio DESC"], runViewType: 0 });
      call.on("data", (message: { run?: { data?: { metrics?: { value: number }[] } } }) => {
        const value = message.run?.data?.metrics?.[0]?.value ?? Number.NaN;
        if (!(value <= previous)) ordered = false;
        previous = value;
        received++;
        if (received === RUNS / 10) atTenth = rssMiB(pid).rss;
      });
      call.on("error", reject);
      call.on("end", resolve);
    });
    const atEnd = rssMiB(pid).rss;
    client.close();
    console.log(`${kind}: ${RUNS} runs streamed; Logbook RSS ${atTenth.toFixed(0)} MiB at 10%, ${atEnd.toFixed(0)} MiB at 100%`);
    expect(received).toBe(RUNS);
    expect(ordered).toBe(true);
    expect(atTenth).toBeGreaterThan(0);
    expect(atEnd - atTenth).toBeLessThan(MAX_GROWTH_MIB);
  }, 900_000);
});
