/**
 * A watcher whose client stopped reading, on both stores:
 * - memory: Logbook (a child process, the built CLI) keeps its resident memory flat while 200,000 points (SQLite;
 *   20,000 on FerretDB, which writes slowly) are logged to the watched run, and the client, reading again, gets the latest value of each
 *   key marked coalesced, far fewer updates than points, ending with what was logged last;
 * - the cut: with --watch-max-lag 2,000, a watcher more than 2,000 changes behind is released at once and its stream
 *   ends with RESOURCE_EXHAUSTED when the client reads again.
 */
import { join } from "node:path";
import { type ClientReadableStream, credentials, status } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rssMiB } from "../../bench/stats.js";
import type { RunUpdate } from "../../gen/ts/logbook/v1/run_watch.js";
import { TrackingServiceClient, TrackingServiceService } from "../../gen/ts/logbook/v1/tracking_service.js";
import { errorCodeOf } from "../../src/grpc/status.js";
import { type PromiseClient, promiseClient } from "../harness/grpc.js";
import { type LogbookProcess, STORE_KINDS, spawnLogbook, startTestLogbook, tempDir } from "../harness/logbook.js";
import { mongoTestUri } from "../harness/mongo.js";

/** Growth allowed between 10% and 100% of the points (queueing every update would take well over 100 MB). */
const MAX_GROWTH_MIB = 30;
const KEYS = 10;
const NOW = 1_700_000_000_000;

const batch = (b: number) =>
  Array.from({ length: 1000 }, (_, i) => ({ key: `k${i % KEYS}`, value: b * 1000 + i, timestamp: BigInt(NOW + b), step: BigInt(b * 1000 + i), runId: "" }));

/** A watch whose client reads the snapshot, then stops reading (paused once data flows: grpc-js's pitfall). */
function stalledWatch(client: TrackingServiceClient, runId: string) {
  const received: RunUpdate[] = [];
  let error: unknown;
  let ended = false;
  const call: ClientReadableStream<RunUpdate> = client.watchRun({ runId, metricKeys: [] });
  const snapshot = new Promise<void>((resolve) => {
    call.on("data", (u: RunUpdate) => {
      received.push(u);
      if (received.length === 1) {
        call.pause();
        resolve();
      }
    });
  });
  call.on("error", (err) => (error = err));
  call.on("end", () => (ended = true));
  return {
    snapshot,
    received,
    call,
    get error() {
      return error;
    },
    get ended() {
      return ended;
    },
  };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 6000 && !condition(); i++) await new Promise((r) => setTimeout(r, 20));
  if (!condition()) throw new Error(`timed out waiting for ${what}`);
}

describe.each(STORE_KINDS)("a stalled watcher on %s", (kind) => {
  const POINTS = kind === "sqlite" ? 200_000 : 20_000;
  const dir = tempDir();
  let server: LogbookProcess;
  let tracking: PromiseClient<typeof TrackingServiceService>;

  beforeAll(async () => {
    const spec = kind === "sqlite" ? `sqlite:${join(dir.path, "logbook.db")}` : mongoTestUri("watch_stalled");
    // A capped heap makes V8 collect garbage as it goes, so resident memory shows what the server keeps (uncapped,
    // V8 lets garbage pile up for a while, and the growth measured is mostly that). Measured on SQLite: +16 MiB
    // coalescing, +56 MiB with every update queued (the same +15 MiB without any watcher).
    server = await spawnLogbook(["--store", spec, "--data-dir", dir.path, "--watch-max-lag", "10000000"], {
      NODE_OPTIONS: "--max-old-space-size=96 --max-semi-space-size=4",
    });
    tracking = promiseClient(TrackingServiceService, server.address);
  }, 120_000);
  afterAll(async () => {
    tracking?.close();
    await server?.stop();
    dir.remove();
  });

  it(`keeps Logbook's RSS within ${MAX_GROWTH_MIB} MB over ${POINTS} points and hands out the latest values, coalesced`, async () => {
    const { run } = await tracking.createRun({ experimentId: "0", runName: "stalled", tags: [], startTime: BigInt(NOW) } as never);
    const runId = run!.info!.runId;
    const client = new TrackingServiceClient(server.address, credentials.createInsecure());
    const watch = stalledWatch(client, runId);
    await watch.snapshot;
    const pid = server.child.pid!;
    let atTenth = 0;
    const batches = POINTS / 1000;
    for (let b = 0; b < batches; b++) {
      await tracking.logBatch({ runId, metrics: batch(b), params: [], tags: [] });
      if (b + 1 === batches / 10) atTenth = rssMiB(pid).rss;
    }
    const atEnd = rssMiB(pid).rss;
    await tracking.setTag({ runId, runUuid: "", key: "done", value: "yes" });
    console.log(`${kind}: ${POINTS} points to a stalled watcher; Logbook RSS ${atTenth.toFixed(0)} MiB at 10%, ${atEnd.toFixed(0)} MiB at 100%`);
    expect(atEnd - atTenth).toBeLessThan(MAX_GROWTH_MIB);

    watch.call.resume();
    await until(() => watch.received.some((u) => u.tag?.key === "done"), "the last tag");
    client.close();
    const points = watch.received.filter((u) => u.metric);
    // What the transport and the queue held before coalescing began (about 2,000 updates), then one per key.
    expect(points.length).toBeLessThan(5000);
    expect(points.some((u) => u.coalesced)).toBe(true);
    // Every key's last update is its last logged value; sequences only increase.
    const last = new Map(points.map((u) => [u.metric!.key, u.metric!.value]));
    const final = batch(batches - 1);
    for (let k = 0; k < KEYS; k++) expect(last.get(`k${k}`)).toBe(final.findLast((m) => m.key === `k${k}`)!.value);
    const sequences = watch.received.map((u) => u.sequence);
    expect(sequences.every((s, i) => i === 0 || s > sequences[i - 1]!)).toBe(true);
  }, 900_000);

  it("cuts a watcher further behind than --watch-max-lag: released at once, RESOURCE_EXHAUSTED when read again", async () => {
    const lb = await startTestLogbook(kind, { label: "watch_cut", config: { watchMaxLag: 2000 } });
    try {
      const { run } = await lb.tracking.createRun({ experimentId: "0", runName: "cut", tags: [], startTime: BigInt(NOW) } as never);
      const runId = run!.info!.runId;
      const client = new TrackingServiceClient(lb.address, credentials.createInsecure());
      const watch = stalledWatch(client, runId);
      await watch.snapshot;
      expect(lb.logbook.watch.stats().runWatchers).toBe(1);
      for (let b = 0; b < 10; b++) await lb.tracking.logBatch({ runId, metrics: batch(b), params: [], tags: [] });
      await until(() => lb.logbook.watch.stats().runWatchers === 0, "the watcher's release");
      watch.call.resume();
      await until(() => watch.error !== undefined, "the stream's error");
      const err = watch.error as { code: number; details: string; metadata: never };
      expect(err.code).toBe(status.RESOURCE_EXHAUSTED);
      expect(errorCodeOf(err)).toBe("REQUEST_LIMIT_EXCEEDED");
      expect(err.details).toContain("--watch-max-lag");
      client.close();
    } finally {
      await lb.close();
    }
  });
});
