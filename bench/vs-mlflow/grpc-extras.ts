/**
 * Logbook alone, over gRPC through the generated client: the same ingest and search as over REST, GetRun
 * throughput, and — as the ceiling for GetRun — a bare grpc-js echo server's unary throughput on this machine.
 */
import { Client, Server, ServerCredentials, credentials, type ServiceError } from "@grpc/grpc-js";
import { SearchServiceService } from "../../gen/ts/logbook/v1/search_service.js";
import { TrackingServiceService } from "../../gen/ts/logbook/v1/tracking_service.js";
import { promiseClient } from "../../test/harness/promise-client.js";
import { percentile } from "../stats.js";
import { SEARCH_FILTER, SEARCH_ORDER } from "./dataset.js";

const IN_FLIGHT = 16;

/** Calls per second with IN_FLIGHT calls outstanding for `seconds`. */
async function throughput(call: () => Promise<unknown>, seconds: number): Promise<number> {
  const end = performance.now() + seconds * 1000;
  let done = 0;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (performance.now() < end) {
        await call();
        done++;
      }
    }),
  );
  return done / seconds;
}

export async function echoCeiling(seconds: number): Promise<number> {
  const identity = (b: Buffer) => b;
  const definition = {
    echo: { path: "/bench.Echo/Echo", requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity },
  };
  const server = new Server();
  server.addService(definition, { echo: (call: { request: Buffer }, cb: (e: null, r: Buffer) => void) => cb(null, call.request) });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure());
  const payload = Buffer.alloc(64, 1);
  try {
    return await throughput(
      () =>
        new Promise((resolve, reject) =>
          client.makeUnaryRequest("/bench.Echo/Echo", identity, identity, payload, (err: ServiceError | null, res?: Buffer) => (err ? reject(err) : resolve(res))),
        ),
      seconds,
    );
  } finally {
    client.close();
    await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  }
}

export interface GrpcFigures {
  ingestPointsPerSecond: number;
  searchP50: number;
  getRunPerSecond: number;
  getRunP50: number;
}

export async function grpcFigures(address: string, experimentId: string, runIds: string[], calls: number, seconds: number): Promise<GrpcFigures> {
  const tracking = promiseClient(TrackingServiceService, address);
  const search = promiseClient(SearchServiceService, address);
  try {
    const { experimentId: ingestExperiment } = await tracking.createExperiment({ name: `grpc-ingest-${Date.now()}`, artifactLocation: "", tags: [] });
    const targets: string[] = [];
    for (let r = 0; r < 10; r++) targets.push((await tracking.createRun({ experimentId: ingestExperiment, userId: "", runName: `g${r}`, tags: [] })).run!.info!.runId);
    let next = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        for (let b = next++; b < calls; b = next++) {
          const now = BigInt(Date.now());
          const metrics = Array.from({ length: 1000 }, (_, i) => ({ key: `m${i % 20}`, value: Math.random(), timestamp: now, step: BigInt(b * 50 + Math.floor(i / 20)), runId: "" }));
          await tracking.logBatch({ runId: targets[b % 10]!, metrics, params: [], tags: [] });
        }
      }),
    );
    const ingestPointsPerSecond = (calls * 1000) / ((performance.now() - started) / 1000);

    const latencies: number[] = [];
    for (let i = 0; i < 30; i++) {
      const t0 = performance.now();
      await search.searchRuns({ experimentIds: [experimentId], runViewType: 0, filter: SEARCH_FILTER, maxResults: 100, orderBy: SEARCH_ORDER, pageToken: "" });
      latencies.push(performance.now() - t0);
    }
    latencies.sort((a, b) => a - b);

    const gets: number[] = [];
    for (let i = 0; i < 200; i++) {
      const t0 = performance.now();
      await tracking.getRun({ runId: runIds[i % runIds.length]!, runUuid: "" });
      gets.push(performance.now() - t0);
    }
    gets.sort((a, b) => a - b);
    let i = 0;
    const getRunPerSecond = await throughput(() => tracking.getRun({ runId: runIds[i++ % runIds.length]!, runUuid: "" }), seconds);
    return { ingestPointsPerSecond, searchP50: percentile(latencies, 50), getRunPerSecond, getRunP50: percentile(gets, 50) };
  } finally {
    tracking.close();
    search.close();
  }
}
