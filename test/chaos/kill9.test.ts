/**
 * kill -9 under load, on both stores: the built server runs as a child process under mixed LogBatch load — MLflow
 * REST clients and gRPC clients writing at once — and is SIGKILLed mid-load, three rounds in a row on the same
 * data. After every restart, every point whose call was acknowledged is there exactly once (points whose call was
 * cut off may or may not be; none is ever there twice).
 */
import { afterAll, describe, expect, it } from "vitest";
import { TrackingServiceService } from "../../gen/ts/logbook/v1/tracking_service.js";
import { promiseClient, type PromiseClient } from "../harness/promise-client.js";
import { STORE_KINDS, spawnLogbook, storeSpec, tempDir, type LogbookProcess, type StoreKind } from "../harness/logbook.js";

const ROUNDS = 3;
const CLIENTS_PER_TRANSPORT = 2;
const POINTS_PER_BATCH = 20;
/** Acknowledged batches per round before the kill (FerretDB is slow: keep its volume modest). */
const BATCHES_BEFORE_KILL: Record<StoreKind, number> = { sqlite: 60, mongodb: 12 };
const BASE_TS = 1_700_000_000_000;

interface Writer {
  key: string;
  runId: string;
  transport: "http" | "grpc";
  nextStep: number;
  acked: Set<number>;
}

describe.each(STORE_KINDS)("kill -9 under mixed HTTP + gRPC LogBatch load on %s", (kind) => {
  const data = tempDir("logbook-chaos-kill9-");
  const store = storeSpec(kind, "kill9");
  const args = ["--data-dir", data.path, "--store", store];
  let server: LogbookProcess | undefined;
  afterAll(async () => {
    await server?.stop();
    data.remove();
  });

  /** Every point of every writer's key, from the server: acknowledged ones exactly once, none twice. */
  async function verify(tracking: PromiseClient<typeof TrackingServiceService>, writers: Writer[]): Promise<{ acked: number; extra: number }> {
    let acked = 0;
    let extra = 0;
    for (const w of writers) {
      const { metrics } = await tracking.getMetricHistory({ runId: w.runId, runUuid: "", metricKey: w.key, pageToken: "" });
      const seen = new Map<number, number>();
      for (const m of metrics) seen.set(Number(m.step), (seen.get(Number(m.step)) ?? 0) + 1);
      const twice = [...seen].filter(([, n]) => n > 1).map(([step]) => step);
      expect(twice, `${w.key}: steps stored twice`).toEqual([]);
      const missing = [...w.acked].filter((step) => !seen.has(step));
      expect(missing, `${w.key}: acknowledged steps missing`).toEqual([]);
      acked += w.acked.size;
      extra += seen.size - w.acked.size;
    }
    return { acked, extra };
  }

  async function logHttp(url: string, w: Writer, steps: number[]): Promise<void> {
    const metrics = steps.map((s) => ({ key: w.key, value: s, timestamp: BASE_TS + s, step: s }));
    const res = await fetch(`${url}/api/2.0/mlflow/runs/log-batch`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ run_id: w.runId, metrics }),
    });
    if (res.status !== 200) throw new Error(`log-batch answered ${res.status}`);
    await res.arrayBuffer();
  }

  it(`keeps every acknowledged point exactly once across ${ROUNDS} kills`, async () => {
    let writers: Writer[] = [];
    const report: string[] = [];
    for (let round = 1; round <= ROUNDS + 1; round++) {
      server = await spawnLogbook(args);
      const tracking = promiseClient(TrackingServiceService, server.address);
      if (round === 1) {
        const experimentId = (await tracking.createExperiment({ name: "kill9", artifactLocation: "", tags: [] })).experimentId;
        const runIds = await Promise.all(
          ["http", "grpc"].map(async (t) => (await tracking.createRun({ experimentId, userId: "u", runName: t, tags: [] })).run!.info!.runId),
        );
        writers = (["http", "grpc"] as const).flatMap((transport, t) =>
          Array.from({ length: CLIENTS_PER_TRANSPORT }, (_, c) => ({ key: `${transport}${c}`, runId: runIds[t]!, transport, nextStep: 0, acked: new Set<number>() })),
        );
      } else {
        const { acked, extra } = await verify(tracking, writers);
        report.push(`after kill ${round - 1}: ${acked} acknowledged points all present once, ${extra} unacknowledged ones kept`);
      }
      if (round > ROUNDS) {
        tracking.close();
        await server.stop();
        server = undefined;
        break;
      }

      // Load until enough batches are acknowledged this round, then SIGKILL while calls are in flight.
      const target = BATCHES_BEFORE_KILL[kind];
      let ackedThisRound = 0;
      let killed = false;
      const live = server;
      const clients = writers.map((w) => (w.transport === "grpc" ? promiseClient(TrackingServiceService, live.address) : undefined));
      const kill = new Promise<void>((resolve) => {
        const check = setInterval(() => {
          if (ackedThisRound >= target) {
            clearInterval(check);
            killed = true;
            live.child.kill("SIGKILL");
            resolve();
          }
        }, 5);
      });
      await Promise.all(
        writers.map(async (w, i) => {
          while (!killed) {
            const steps = Array.from({ length: POINTS_PER_BATCH }, () => w.nextStep++);
            try {
              if (w.transport === "http") await logHttp(live.httpUrl, w, steps);
              else await clients[i]!.logBatch({ runId: w.runId, metrics: steps.map((s) => ({ key: w.key, value: s, timestamp: BigInt(BASE_TS + s), step: BigInt(s), runId: "" })), params: [], tags: [] });
            } catch {
              if (killed) return; // cut off by the kill: not acknowledged
              throw new Error(`${w.key}: a call failed before the kill`);
            }
            for (const s of steps) w.acked.add(s);
            ackedThisRound++;
          }
        }),
      );
      await kill;
      expect(await live.exited).toBeNull(); // killed by the signal, not exited
      clients.forEach((c) => c?.close());
      tracking.close();
      server = undefined;
    }
    console.log(`kill -9 on ${kind}:\n  ${report.join("\n  ")}`);
    expect(report).toHaveLength(ROUNDS);
  });
});
