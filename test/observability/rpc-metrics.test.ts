/**
 * RPC and stream metrics of a running Logbook, scraped before and after known calls and parsed by Prometheus's own
 * parser: exact counter and histogram deltas with the expected labels on both transports (RPCs, hand-written routes,
 * unmatched paths, refusals), stream gauges through a stalled and cancelled stream, and bounded label cardinality
 * after 1,000 requests for 1,000 different run ids.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { get, request, type IncomingMessage } from "node:http";
import { join } from "node:path";
import { credentials, status as GrpcStatus, type ClientReadableStream } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DownloadArtifactResponse } from "../../gen/ts/logbook/v1/artifact_service.js";
import { SearchServiceClient } from "../../gen/ts/logbook/v1/search_service.js";
import { content, MiB, startDownload } from "../harness/artifacts.js";
import { expectGrpcError } from "../harness/grpc.js";
import { STORE_KINDS, startTestLogbook, type TestLogbook } from "../harness/logbook.js";
import { scrape, type Labels, type Scrape } from "../harness/prometheus.js";
import { openSse } from "../harness/sse-client.js";

const TRACKING = "logbook.v1.TrackingService";
const REQUESTS = "logbook_rpc_requests_total";
const DURATION = "logbook_rpc_duration_seconds";

/** Waits (polling /metrics) until `holds` is true of a scrape; a guard against hangs, not a timing check. */
async function until(url: string, holds: (s: Scrape) => boolean, what: string): Promise<Scrape> {
  for (let i = 0; i < 600; i++) {
    const s = await scrape(url);
    if (holds(s)) return s;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`never happened: ${what}`);
}

function deltas(before: Scrape, after: Scrape) {
  return {
    requests: (labels: Labels) => after.value(REQUESTS, labels) - before.value(REQUESTS, labels),
    durations: (labels: Labels) => after.count(DURATION, labels) - before.count(DURATION, labels),
    value: (name: string, labels: Labels = {}) => after.value(name, labels) - before.value(name, labels),
  };
}

describe.each(STORE_KINDS)("RPC metrics on %s", (kind) => {
  let lb: TestLogbook;
  const metricsUrl = () => `${lb.httpUrl}/metrics`;

  beforeAll(async () => {
    lb = await startTestLogbook(kind, { label: "rpc_metrics" });
  });
  afterAll(async () => {
    await lb?.close();
  });

  it("gRPC: each call counted once under its service, RPC name and status, and timed", async () => {
    const unknownRun = randomBytes(16).toString("hex");
    const before = await scrape(metricsUrl());
    await lb.tracking.getExperiment({ experimentId: "0" });
    await lb.tracking.getExperiment({ experimentId: "0" });
    await expectGrpcError(lb.tracking.getRun({ runId: unknownRun, runUuid: "" }), { grpcCode: GrpcStatus.NOT_FOUND, mlflowCode: "RESOURCE_DOES_NOT_EXIST" });
    await expectGrpcError(lb.tracking.getExperiment({ experimentId: "not-a-number" }), { grpcCode: GrpcStatus.INVALID_ARGUMENT, mlflowCode: "INVALID_PARAMETER_VALUE" });
    const after = await scrape(metricsUrl());
    const d = deltas(before, after);
    const grpc = { transport: "grpc", service: TRACKING };
    expect(d.requests({ ...grpc, method: "GetExperiment", code: "OK" })).toBe(2);
    expect(d.requests({ ...grpc, method: "GetExperiment", code: "INVALID_ARGUMENT" })).toBe(1);
    expect(d.durations({ ...grpc, method: "GetExperiment" })).toBe(3);
    expect(d.requests({ ...grpc, method: "GetRun", code: "NOT_FOUND" })).toBe(1);
    expect(d.durations({ ...grpc, method: "GetRun" })).toBe(1);
    // Nothing else moved on gRPC.
    const grpcTotal = (s: Scrape) => s.samples(REQUESTS, { transport: "grpc" }).reduce((n, m) => n + Number(m.value), 0);
    expect(grpcTotal(after) - grpcTotal(before)).toBe(4);
    expect(after.value("logbook_rpc_in_flight")).toBe(0);
  });

  it("HTTP: RPC bindings by RPC name, other routes by family and pattern, unknown paths as unmatched, refusals too", async () => {
    const url = lb.httpUrl;
    const before = await scrape(metricsUrl());
    expect((await fetch(`${url}/api/2.0/mlflow/experiments/get?experiment_id=0`)).status).toBe(200);
    expect((await fetch(`${url}/ajax-api/2.0/mlflow/experiments/get?experiment_id=0`)).status).toBe(200);
    expect((await fetch(`${url}/mlflow/runs/${randomBytes(16).toString("hex")}`)).status).toBe(404);
    expect((await fetch(`${url}/health`)).status).toBe(200);
    expect((await fetch(`${url}/no/such/path/${randomBytes(4).toString("hex")}`)).status).toBe(404);
    expect((await fetch(`${url}/api/2.0/mlflow/experiments/get?experiment_id=0`, { method: "PUT" })).status).toBe(405);
    // Refused by the Host check before any route runs: still counted, under the RPC the path names.
    const refused = await new Promise<number>((resolve, reject) => {
      const u = new URL(`${url}/api/2.0/mlflow/experiments/get?experiment_id=0`);
      request({ host: u.hostname, port: u.port, path: u.pathname + u.search, headers: { host: "evil.example" } }, (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode!));
      })
        .on("error", reject)
        .end();
    });
    expect(refused).toBe(403);
    const after = await scrape(metricsUrl());
    const d = deltas(before, after);
    const http = { transport: "http" };
    expect(d.requests({ ...http, service: TRACKING, method: "GetExperiment", code: "200" })).toBe(2);
    expect(d.requests({ ...http, service: TRACKING, method: "GetExperiment", code: "403" })).toBe(1);
    expect(d.durations({ ...http, service: TRACKING, method: "GetExperiment" })).toBe(3);
    expect(d.requests({ ...http, service: TRACKING, method: "GetRun", code: "404" })).toBe(1);
    expect(d.requests({ ...http, service: "health", method: "/health", code: "200" })).toBe(1);
    expect(d.requests({ ...http, service: "unrouted", method: "unmatched", code: "404" })).toBe(1);
    expect(d.requests({ ...http, service: "mlflow-api", method: "unmatched", code: "405" })).toBe(1);
    // The first scrape is counted by the second.
    expect(d.requests({ ...http, service: "metrics", method: "/metrics", code: "200" })).toBe(1);
    const httpTotal = (s: Scrape) => s.samples(REQUESTS, { transport: "http" }).reduce((n, m) => n + Number(m.value), 0);
    expect(httpTotal(after) - httpTotal(before)).toBe(8);
  });
});

describe("stream metrics and cardinality (sqlite)", () => {
  let lb: TestLogbook;
  let experimentId: string;
  let runId: string;
  const metricsUrl = () => `${lb.httpUrl}/metrics`;

  beforeAll(async () => {
    lb = await startTestLogbook("sqlite", { label: "stream_metrics" });
    experimentId = (await lb.tracking.createExperiment({ name: "streams", artifactLocation: "", tags: [] })).experimentId;
    for (let i = 0; i < 7; i++) {
      const run = (await lb.tracking.createRun({ experimentId, userId: "u", runName: `r${i}`, tags: [] })).run!;
      runId = run.info!.runId;
      await lb.tracking.logBatch({
        runId,
        metrics: [{ key: "sharpe", value: i, timestamp: 1n, step: 0n, runId: "" }],
        params: [{ key: "symbol", value: "AAPL" }],
        tags: [],
      });
    }
    const dir = join(lb.dataDir, "artifacts", experimentId, runId, "artifacts");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "big.bin"), content(8 * MiB));
  });
  afterAll(async () => {
    await lb?.close();
  });

  it("counts items of gRPC and NDJSON streams, and the streams close", async () => {
    const search = new SearchServiceClient(lb.address, credentials.createInsecure());
    try {
      const before = await scrape(metricsUrl());
      const got = await new Promise<number>((resolve, reject) => {
        let n = 0;
        const call = search.streamSearchRuns({ experimentIds: [experimentId], filter: "", orderBy: [], runViewType: 0 });
        call.on("data", () => n++).on("error", reject).on("end", () => resolve(n));
      });
      const ndjson = await (await fetch(`${lb.httpUrl}/mlflow/leaderboard/AAPL?metric=sharpe&limit=5&experiment_ids=${experimentId}`)).text();
      const lines = ndjson.trim().split("\n");
      const after = await until(metricsUrl(), (s) => s.value("logbook_streams_open", { transport: "http" }) === 0, "streams closed");
      const d = deltas(before, after);
      expect(got).toBe(7);
      expect(lines).toHaveLength(5);
      expect(d.value("logbook_stream_items_total", { transport: "grpc" })).toBe(7);
      expect(d.value("logbook_stream_items_total", { transport: "http" })).toBe(5);
      expect(after.value("logbook_streams_open", { transport: "grpc" })).toBe(0);
      expect(d.requests({ transport: "grpc", service: "logbook.v1.SearchService", method: "StreamSearchRuns", code: "OK" })).toBe(1);
      expect(d.requests({ transport: "http", service: "logbook.v1.SearchService", method: "Leaderboard", code: "200" })).toBe(1);
    } finally {
      search.close();
    }
  });

  it("counts a live watch over Server-Sent Events while it is open, and closes it when the client goes", async () => {
    const before = await scrape(metricsUrl());
    const sse = await openSse(`${lb.httpUrl}/mlflow/runs/${runId}/watch`);
    expect(sse.status).toBe(200);
    expect((await sse.events[Symbol.asyncIterator]().next()).value).toMatchObject({ event: "snapshot" });
    const open = await until(metricsUrl(), (s) => s.value("logbook_streams_open", { transport: "http" }) === 1, "an open watch");
    expect(deltas(before, open).value("logbook_stream_items_total", { transport: "http" })).toBeGreaterThanOrEqual(1);
    sse.close();
    const after = await until(metricsUrl(), (s) => s.value("logbook_streams_open", { transport: "http" }) === 0, "the watch closed");
    expect(deltas(before, after).requests({ transport: "http", service: TRACKING, method: "WatchRun", code: "499" })).toBe(1);
  });

  it("a gRPC download the client stops reading is open and stalled, holds an in-flight slot, and is CANCELLED when dropped", async () => {
    const before = await scrape(metricsUrl());
    const call: ClientReadableStream<DownloadArtifactResponse> = startDownload(lb.tracking.raw, { runId, path: "big.bin" });
    call.on("error", () => undefined); // the cancel below
    // Pause once data flows (a stream paused before its first read buffers without limit).
    await new Promise((resolve) => call.once("data", () => resolve(call.pause())));
    const stalled = await until(metricsUrl(), (s) => s.value("logbook_streams_stalled", { transport: "grpc" }) === 1, "a stalled gRPC stream");
    expect(stalled.value("logbook_streams_open", { transport: "grpc" })).toBe(1);
    expect(stalled.value("logbook_rpc_in_flight")).toBe(1);
    call.cancel();
    const after = await until(metricsUrl(), (s) => s.value("logbook_streams_open", { transport: "grpc" }) === 0, "the stream closed");
    expect(after.value("logbook_streams_stalled", { transport: "grpc" })).toBe(0);
    expect(after.value("logbook_rpc_in_flight")).toBe(0);
    expect(deltas(before, after).requests({ transport: "grpc", service: "logbook.v1.ArtifactService", method: "DownloadArtifact", code: "CANCELLED" })).toBe(1);
  });

  it("an HTTP download the client stops reading is stalled too, and counted 499 when the client goes", async () => {
    const before = await scrape(metricsUrl());
    const res = await new Promise<IncomingMessage>((resolve, reject) => get(`${lb.httpUrl}/get-artifact?run_id=${runId}&path=big.bin`, resolve).on("error", reject));
    expect(res.statusCode).toBe(200);
    await new Promise((resolve) => res.once("data", () => resolve(res.pause())));
    const stalled = await until(metricsUrl(), (s) => s.value("logbook_streams_stalled", { transport: "http" }) === 1, "a stalled HTTP stream");
    expect(stalled.value("logbook_streams_open", { transport: "http" })).toBe(1);
    res.destroy();
    const after = await until(metricsUrl(), (s) => s.value("logbook_streams_open", { transport: "http" }) === 0, "the stream closed");
    expect(after.value("logbook_streams_stalled", { transport: "http" })).toBe(0);
    expect(deltas(before, after).requests({ transport: "http", service: "artifacts", method: "/get-artifact", code: "499" })).toBe(1);
  });

  it("label cardinality stays bounded after 1,000 requests for 1,000 different run ids, on both transports", async () => {
    const before = await scrape(metricsUrl());
    const ids = Array.from({ length: 1000 }, () => randomBytes(16).toString("hex"));
    const calls = ids.map((id, i) => async () => {
      switch (i % 4) {
        case 0:
          return lb.tracking.getRun({ runId: id, runUuid: "" }).catch(() => undefined);
        case 1:
          return (await fetch(`${lb.httpUrl}/mlflow/runs/${id}`)).arrayBuffer();
        case 2:
          return (await fetch(`${lb.httpUrl}/api/2.0/mlflow/runs/get?run_id=${id}`)).arrayBuffer();
        default:
          return (await fetch(`${lb.httpUrl}/api/2.0/mlflow-artifacts/artifacts/${experimentId}/${id}/artifacts/model.pkl`)).arrayBuffer();
      }
    });
    for (let i = 0; i < calls.length; i += 25) await Promise.all(calls.slice(i, i + 25).map((c) => c()));
    const after = await scrape(metricsUrl());
    expect(deltas(before, after).requests({ transport: "grpc", service: TRACKING, method: "GetRun", code: "NOT_FOUND" })).toBe(250);
    // Every label value of every series comes from a small fixed set: no id anywhere, and few series.
    for (const id of ids) expect(after.text).not.toContain(id);
    expect(after.text).not.toMatch(/[0-9a-f]{32}/);
    const series = (s: Scrape) => s.families.reduce((n, f) => n + f.metrics.length, 0);
    expect(series(after) - series(before)).toBeLessThanOrEqual(8);
    expect(after.labelValues(REQUESTS, "method")).toEqual(new Set([...before.labelValues(REQUESTS, "method"), "GetRun", "/api/2.0/mlflow-artifacts/artifacts/*"]));
  });
});
