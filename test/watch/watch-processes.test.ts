/**
 * Changes made by another Logbook process on the same database reach every watcher (the change log, polled), on both
 * stores: a watcher on each of two servers — one in this process, one a child process — sees every point logged
 * through either, exactly once and in commit order; cancelling releases the watcher (counted by /mlflow/status's
 * watch counts in the child). Needs the build (`npm test` builds first).
 */
import { credentials } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunUpdate } from "../../gen/ts/logbook/v1/run_watch.js";
import { TrackingServiceClient, TrackingServiceService } from "../../gen/ts/logbook/v1/tracking_service.js";
import { type PromiseClient, promiseClient } from "../harness/grpc.js";
import { type LogbookProcess, STORE_KINDS, spawnLogbook, startTestLogbook, tempDir, type TestLogbook } from "../harness/logbook.js";
import { mongoTestUri, serverHasChangeStreams } from "../harness/mongo.js";
import { type LiveStream, liveStream } from "../harness/watch-stream.js";

const NOW = 1_700_000_000_000;

describe.each(STORE_KINDS)("watching across two processes on %s", (kind) => {
  const dir = tempDir("logbook-watch-processes-");
  let here: TestLogbook;
  let there: LogbookProcess;
  let remote: PromiseClient<typeof TrackingServiceService>;
  const watchers: TrackingServiceClient[] = [];

  beforeAll(async () => {
    const store = kind === "sqlite" ? `sqlite:${dir.path}/shared.db` : mongoTestUri("watch-processes");
    here = await startTestLogbook(kind, { store, config: { watchPollMs: 100 } });
    there = await spawnLogbook(["--store", store, "--watch-poll-ms", "100"]);
    remote = promiseClient(TrackingServiceService, there.address);
  });
  afterAll(async () => {
    watchers.forEach((w) => w.close());
    remote?.close();
    await there?.stop();
    await here?.close();
    dir.remove();
  });

  const watch = (address: string, runId: string): LiveStream<RunUpdate> => {
    const client = new TrackingServiceClient(address, credentials.createInsecure());
    watchers.push(client);
    return liveStream(client.watchRun({ runId, metricKeys: [] }));
  };

  it("every point logged through either server reaches the watchers of both, once each, in commit order", async () => {
    const { experimentId } = await here.tracking.createExperiment({ name: "shared", artifactLocation: "", tags: [] });
    const { run } = await remote.createRun({ experimentId, runName: "r", tags: [], startTime: BigInt(NOW) } as never);
    const runId = run!.info!.runId;
    const onHere = watch(here.address, runId);
    const onThere = watch(there.address, runId);
    await onHere.next();
    await onThere.next();

    // One call after the other, alternating servers: commit order is this order.
    const logged: string[] = [];
    for (let round = 0; round < 20; round++) {
      const client = round % 2 === 0 ? here.tracking : remote;
      const metrics = Array.from({ length: 25 }, (_, i) => ({ key: `k${i % 3}`, value: round * 25 + i, timestamp: BigInt(NOW + round), step: BigInt(round * 25 + i), runId: "" }));
      metrics.forEach((m) => logged.push(`${m.key}@${m.step}`));
      await client.logBatch({ runId, metrics, params: [], tags: [] });
    }
    for (const stream of [onHere, onThere]) {
      const updates = await stream.take(logged.length);
      expect(updates.map((u) => `${u.metric?.key}@${u.metric?.step}`)).toEqual(logged);
      expect(updates.some((u) => u.coalesced)).toBe(false);
    }
    // Nothing more than what was logged: a last point closes the count.
    await remote.logBatch({ runId, metrics: [{ key: "end", value: 1, timestamp: BigInt(NOW), step: 0n, runId: "" }], params: [], tags: [] });
    expect((await onHere.next()).metric?.key).toBe("end");
    expect((await onThere.next()).metric?.key).toBe("end");

    // Cancelling frees each server's watcher.
    const status = async () => (await remote.getServerStatus({})).watch;
    // Other processes' changes come polled, or pushed by a change stream on a MongoDB replica set (MONGODB_URI).
    const feed = kind === "mongodb" && (await serverHasChangeStreams()) ? "change-stream" : "poll";
    expect(await status()).toMatchObject({ runWatchers: 1, feed });
    onHere.cancel();
    onThere.cancel();
    for (let i = 0; i < 200 && ((await status())?.runWatchers ?? 0) > 0; i++) await new Promise((r) => setTimeout(r, 25));
    expect((await status())?.runWatchers).toBe(0);
    for (let i = 0; i < 200 && here.logbook.watch.stats().runWatchers > 0; i++) await new Promise((r) => setTimeout(r, 25));
    expect(here.logbook.watch.stats().runWatchers).toBe(0);
  });
});
