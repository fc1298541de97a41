/**
 * Memory under stalled and churning gRPC streams, on the built server as a child process (RSS read from
 * /proc/<pid>/status): 200 downloads of a 200 MB artifact that are opened on 4 connections and never read, then
 * 5,000 downloads opened and cancelled at once, keep the server's resident memory under 300 MB, and a normal
 * client's GetRun still answers meanwhile. (Each stalled stream may queue at most 64 KiB of 32 KiB chunks; a server
 * with 1 MiB chunks and grpc-js's 16-message buffer pinned about 20 MB per stream.)
 */
import { mkdirSync, openSync, closeSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { ClientHttp2Session, ClientHttp2Stream } from "node:http2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ArtifactServiceService, DownloadArtifactRequest } from "../../gen/ts/logbook/v1/artifact_service.js";
import { TrackingServiceService } from "../../gen/ts/logbook/v1/tracking_service.js";
import { rssMiB } from "../../bench/stats.js";
import { promiseClient } from "../harness/promise-client.js";
import { spawnLogbook, tempDir, type LogbookProcess } from "../harness/logbook.js";
import { cancelCall, openSession, startCall } from "../harness/raw-grpc.js";

const MB = 1_000_000;
const FILE_BYTES = 200 * MB;
const STALLED = 200;
const CONNECTIONS = 4;
const CHURN = 5000;
const RSS_LIMIT_MIB = 300 * MB / 2 ** 20; // "300 MB"

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("memory under stalled and cancelled download streams (embedded store, child process)", () => {
  const data = tempDir("logbook-chaos-rss-");
  let lb: LogbookProcess;
  let runId: string;
  const sessions: ClientHttp2Session[] = [];

  beforeAll(async () => {
    lb = await spawnLogbook(["--data-dir", data.path]);
    const tracking = promiseClient(TrackingServiceService, lb.address);
    const experimentId = (await tracking.createExperiment({ name: "rss", artifactLocation: "", tags: [] })).experimentId;
    runId = (await tracking.createRun({ experimentId, userId: "u", runName: "r", tags: [] })).run!.info!.runId;
    tracking.close();
    // The artifact is put in place directly (uploads are covered elsewhere), written in 1 MB slices.
    const dir = join(data.path, "artifacts", experimentId, runId, "artifacts");
    mkdirSync(dir, { recursive: true });
    const fd = openSync(join(dir, "big.bin"), "w");
    const slice = Buffer.alloc(MB, 7);
    for (let at = 0; at < FILE_BYTES; at += MB) writeSync(fd, slice);
    closeSync(fd);
  });
  afterAll(async () => {
    for (const s of sessions) s.destroy();
    await lb?.stop();
    data.remove();
  });

  it(`holds ${STALLED} stalled downloads and ${CHURN} cancelled ones under ${RSS_LIMIT_MIB.toFixed(0)} MiB, still answering GetRun`, async () => {
    const pid = lb.child.pid!;
    const request = Buffer.from(DownloadArtifactRequest.encode({ runId, path: "big.bin" }).finish());
    const path = ArtifactServiceService.downloadArtifact.path;
    const baseline = rssMiB(pid).rss;
    let peak = baseline;
    const sample = () => {
      peak = Math.max(peak, rssMiB(pid).rss);
    };
    const sampler = setInterval(sample, 100);
    try {

    // 200 streams over 4 connections, never read: each gets its first bytes (the response head) and then stalls.
    for (let c = 0; c < CONNECTIONS; c++) sessions.push(await openSession(lb.grpcPort));
    const stalled: ClientHttp2Stream[] = [];
    const started: Promise<void>[] = [];
    for (let i = 0; i < STALLED; i++) {
      const stream = startCall(sessions[i % CONNECTIONS]!, path, request);
      stream.pause();
      started.push(new Promise((resolve) => stream.once("response", () => resolve())));
      stalled.push(stream);
    }
    await Promise.all(started);
    await sleep(2000); // let every stream fill what flow control and the server allow
    sample();
    const afterStall = rssMiB(pid).rss;

    // A normal client meanwhile.
    const tracking = promiseClient(TrackingServiceService, lb.address);
    expect((await tracking.getRun({ runId, runUuid: "" })).run?.info?.runId).toBe(runId);

    // 5,000 downloads opened and cancelled, 50 at a time, on 10 connections of their own (a client resetting
    // more than about 1,000 streams in a burst on one connection is cut off by Node's HTTP/2 rapid-reset guard).
    for (let c = 0; c < 10; c++) sessions.push(await openSession(lb.grpcPort));
    const churners = sessions.slice(-10);
    for (let done = 0; done < CHURN; ) {
      const session = churners[Math.floor(done / (CHURN / 10))]!;
      const batch = Array.from({ length: Math.min(50, CHURN - done) }, () => {
        const stream = startCall(session, path, request);
        return new Promise<void>((resolve) => {
          stream.once("response", () => {
            cancelCall(stream);
            resolve();
          });
          stream.once("close", () => resolve());
        });
      });
      await Promise.all(batch);
      done += batch.length;
      if (done % 1000 === 0) sample();
    }
    expect((await tracking.getRun({ runId, runUuid: "" })).run?.info?.runId).toBe(runId);
    await sleep(1000);
    sample();
    tracking.close();

    console.log(
      `server RSS: ${baseline.toFixed(0)} MiB at rest, ${afterStall.toFixed(0)} MiB with ${STALLED} stalled downloads, ` +
        `peak ${peak.toFixed(0)} MiB through ${CHURN} opened-and-cancelled ones (limit ${RSS_LIMIT_MIB.toFixed(0)} MiB)`,
    );
    expect(peak).toBeLessThan(RSS_LIMIT_MIB);
    for (const s of stalled) cancelCall(s);
    } finally {
      clearInterval(sampler);
    }
  });
});
