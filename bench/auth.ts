/**
 * What `--auth basic` costs: two Logbooks on one store (the same data) — one with `--auth none`, one with
 * `--auth basic` called by a non-admin user (so every search carries its readable-experiments condition: the user holds
 * DENY on some experiments and MANAGE on the one measured, default READ) with an access token — measured in
 * interleaved A/B rounds (the order alternates each round, so drift on a shared machine hits both alike). Each round
 * times, per server and transport: SearchRuns' first page (filter + metric order, 100 runs), LogBatch (100 metrics,
 * 10 params, 10 tags), GetRun; the figure of a round is its median, the result the median over rounds; printed for
 * both servers with the ratio (auth / none). A figure, not a gate: the issue's goal is ≤ 1.10 at p50.
 *   npx tsx bench/auth.ts [--runs N] [--rounds N] [--iterations N] [--stores sqlite,mongodb] [--transports grpc,http]
 * (`npm run build` first: the servers are the built CLI.) MongoDB means MONGODB_URI, else FerretDB 1.24 — a correctness
 * stand-in, where the ratio says little.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Client, Metadata, credentials, type ServiceError } from "@grpc/grpc-js";
import { startMongoForTests } from "../scripts/ferretdb.mjs";
import { AuthServiceService } from "../gen/ts/logbook/v1/auth_service.js";
import { SearchServiceService } from "../gen/ts/logbook/v1/search_service.js";
import { TrackingServiceService } from "../gen/ts/logbook/v1/tracking_service.js";
import type { MethodDefinition } from "../src/services/rpc.js";
import { type LogbookProcess, spawnLogbook } from "../test/harness/logbook-process.js";
import { machine } from "./stats.js";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "5000" },
    rounds: { type: "string", default: "7" },
    iterations: { type: "string", default: "30" },
    stores: { type: "string", default: "sqlite" },
    transports: { type: "string", default: "grpc,http" },
  },
});
const ADMIN = { username: "bench-admin", password: "bench-admin-password-1" };
const USER = { username: "analyst", password: "analyst-password-1" };
const FILTER = "params.symbol = 'X' and metrics.r2 > 0.2";
const ORDER = ["metrics.sharpe_ratio DESC"];
const OTHER_EXPERIMENTS = 20;
const basic = (u: { username: string; password: string }) => `Basic ${Buffer.from(`${u.username}:${u.password}`).toString("base64")}`;

/** Unary gRPC calls sending `authorization` when given. */
function caller(address: string, authorization?: string) {
  const raw = new Client(address, credentials.createInsecure());
  const call = <Res>(def: unknown, request: object, as = authorization): Promise<Res> => {
    const d = def as MethodDefinition;
    const metadata = new Metadata();
    if (as) metadata.set("authorization", as);
    const full = { ...(d.requestDeserialize(Buffer.alloc(0)) as object), ...request };
    return new Promise((resolve, reject) =>
      raw.makeUnaryRequest(d.path, d.requestSerialize, d.responseDeserialize, full, metadata, (err: ServiceError | null, res?: unknown) => (err ? reject(err) : resolve(res as Res))),
    );
  };
  return { call, close: () => raw.close() };
}

interface Target {
  label: string;
  proc: LogbookProcess;
  /** The measured caller's authorization (none without auth). */
  authorization?: string;
  experimentId: string;
  runIds: string[];
  /** The run LogBatch writes to (one per server). */
  writeRun: string;
}

interface Seeded {
  token: string;
  experimentId: string;
  runIds: string[];
}

/**
 * The data both servers read (they share one store): experiments the user may not read, and one experiment of `runs`
 * runs that the user creates (and so MANAGEs), as a training job would.
 */
async function seed(proc: LogbookProcess, runs: number): Promise<Seeded> {
  const admin = caller(proc.address, basic(ADMIN));
  try {
    await admin.call(AuthServiceService.createUser, USER);
    const token = (await admin.call<{ token: string }>(AuthServiceService.createAccessToken, { name: "bench" }, basic(USER))).token;
    const user = caller(proc.address, `Bearer ${token}`);
    try {
      for (let i = 0; i < OTHER_EXPERIMENTS; i++) {
        const { experimentId } = await admin.call<{ experimentId: string }>(TrackingServiceService.createExperiment, { name: `other-${i}` });
        const run = await admin.call<{ run: { info: { runId: string } } }>(TrackingServiceService.createRun, { experimentId });
        await admin.call(TrackingServiceService.logBatch, { runId: run.run.info.runId, params: [{ key: "symbol", value: "X" }], metrics: [{ key: "r2", value: 0.9, timestamp: 1n, step: 0n }] });
        if (i % 2 === 0) {
          await admin.call(AuthServiceService.grantUserPermission, { username: USER.username, resourceType: "experiment", resourceId: experimentId, permission: "DENY" });
        }
      }
      const { experimentId } = await user.call<{ experimentId: string }>(TrackingServiceService.createExperiment, { name: "measured" });
      const runIds: string[] = [];
      let next = 0;
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          for (let i = next++; i < runs; i = next++) {
            const run = await user.call<{ run: { info: { runId: string } } }>(TrackingServiceService.createRun, { experimentId, startTime: BigInt(1_700_000_000_000 + i) });
            runIds.push(run.run.info.runId);
            await user.call(TrackingServiceService.logBatch, {
              runId: run.run.info.runId,
              params: [{ key: "symbol", value: ["X", "Y", "Z", "W"][i % 4]! }],
              metrics: ["r2", "sharpe_ratio", "loss"].map((key, k) => ({ key, value: ((i * 7919 + k * 104729) % 1000) / 1000, timestamp: 1n, step: 0n })),
            });
          }
        }),
      );
      return { token, experimentId, runIds };
    } finally {
      user.close();
    }
  } finally {
    admin.close();
  }
}

async function target(label: string, proc: LogbookProcess, seeded: Seeded, authorization?: string): Promise<Target> {
  const c = caller(proc.address, authorization);
  try {
    const writeRun = (await c.call<{ run: { info: { runId: string } } }>(TrackingServiceService.createRun, { experimentId: seeded.experimentId })).run.info.runId;
    return { label, proc, ...(authorization ? { authorization } : {}), experimentId: seeded.experimentId, runIds: seeded.runIds, writeRun };
  } finally {
    c.close();
  }
}

type Op = "SearchRuns first page" | "LogBatch" | "GetRun";
const OPS: Op[] = ["SearchRuns first page", "LogBatch", "GetRun"];

function batch(step: number) {
  return {
    metrics: Array.from({ length: 100 }, (_, k) => ({ key: `m${k % 10}`, value: k / 100, timestamp: BigInt(1_700_000_000_000 + step), step: BigInt(step * 100 + k) })),
    params: Array.from({ length: 10 }, (_, k) => ({ key: `p${step}_${k}`, value: String(k) })),
    tags: Array.from({ length: 10 }, (_, k) => ({ key: `t${k}`, value: String(step) })),
  };
}

/** One round of one server on one transport: the median of `iterations` calls of each op. */
async function round(target: Target, transport: "grpc" | "http", iterations: number, stepBase: number): Promise<Record<Op, number>> {
  const grpc = caller(target.proc.address, target.authorization);
  const headers: Record<string, string> = { "content-type": "application/json", ...(target.authorization ? { authorization: target.authorization } : {}) };
  const http = async (method: string, path: string, body?: object) => {
    const r = await fetch(`${target.proc.httpUrl}${path}`, { method, headers, ...(body ? { body: JSON.stringify(body) } : {}) });
    const text = await r.text();
    if (r.status !== 200) throw new Error(`${method} ${path}: ${r.status} ${text.slice(0, 200)}`);
    return text;
  };
  const ops: Record<Op, (i: number) => Promise<unknown>> =
    transport === "grpc"
      ? {
          "SearchRuns first page": () => grpc.call(SearchServiceService.searchRuns, { experimentIds: [target.experimentId], filter: FILTER, orderBy: ORDER, maxResults: 100 }),
          LogBatch: (i) => grpc.call(TrackingServiceService.logBatch, { runId: target.writeRun, ...batch(stepBase + i) }),
          GetRun: (i) => grpc.call(TrackingServiceService.getRun, { runId: target.runIds[i % target.runIds.length]! }),
        }
      : {
          "SearchRuns first page": () => http("POST", "/api/2.0/mlflow/runs/search", { experiment_ids: [target.experimentId], filter: FILTER, order_by: ORDER, max_results: 100 }),
          LogBatch: (i) => {
            const b = batch(stepBase + i);
            return http("POST", "/api/2.0/mlflow/runs/log-batch", {
              run_id: target.writeRun,
              metrics: b.metrics.map((m) => ({ ...m, timestamp: Number(m.timestamp), step: Number(m.step) })),
              params: b.params,
              tags: b.tags,
            });
          },
          GetRun: (i) => http("GET", `/api/2.0/mlflow/runs/get?run_id=${target.runIds[i % target.runIds.length]!}`),
        };
  try {
    const out = {} as Record<Op, number>;
    for (const op of OPS) {
      await ops[op](0); // warm
      const times: number[] = [];
      for (let i = 0; i < iterations; i++) {
        const t0 = performance.now();
        await ops[op](i + 1);
        times.push(performance.now() - t0);
      }
      out[op] = median(times);
    }
    return out;
  } finally {
    grpc.close();
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

async function measure(label: string, storeArgs: string[], runs: number) {
  const rounds = Number(values.rounds);
  const iterations = Number(values.iterations);
  // Both servers on the same store, so they read the very same data: the one with auth creates the schema and seeds.
  const basicAuth = await spawnLogbook([...storeArgs, "--auth", "basic"], { LOGBOOK_ADMIN_USERNAME: ADMIN.username, LOGBOOK_ADMIN_PASSWORD: ADMIN.password });
  let none: LogbookProcess | undefined;
  try {
    const s0 = performance.now();
    const seeded = await seed(basicAuth, runs);
    none = await spawnLogbook([...storeArgs, "--auth", "none"]);
    const a = await target("auth none", none, seeded);
    const b = await target("auth basic", basicAuth, seeded, `Bearer ${seeded.token}`);
    // Same answer from both (the user may read the measured experiment), so the two sides do the same work.
    const pages = await Promise.all(
      [a, b].map(async (t) => {
        const c = caller(t.proc.address, t.authorization);
        try {
          const res = await c.call<{ runs: Array<{ info: { runId: string } }> }>(SearchServiceService.searchRuns, { experimentIds: [t.experimentId], filter: FILTER, orderBy: ORDER, maxResults: 100 });
          return res.runs.map((r) => r.info.runId).join();
        } finally {
          c.close();
        }
      }),
    );
    if (pages[0] !== pages[1] || pages[0] === "") throw new Error("the two servers' first pages differ");
    console.log(`\n${label}: ${runs} runs (+${OTHER_EXPERIMENTS} other experiments, half of them DENY for the user), one store for both servers, seeded in ${((performance.now() - s0) / 1000).toFixed(0)} s`);
    for (const transport of values.transports.split(",") as Array<"grpc" | "http">) {
      const per: Record<string, Record<Op, number[]>> = { none: { "SearchRuns first page": [], LogBatch: [], GetRun: [] }, basic: { "SearchRuns first page": [], LogBatch: [], GetRun: [] } };
      for (let r = 0; r < rounds; r++) {
        const order = r % 2 === 0 ? ([["none", a], ["basic", b]] as const) : ([["basic", b], ["none", a]] as const);
        for (const [key, t] of order) {
          const got = await round(t, transport, iterations, (r * 2 + (key === "basic" ? 1 : 0)) * (iterations + 1) + 1);
          for (const op of OPS) per[key]![op].push(got[op]);
        }
      }
      const table: Record<string, Record<string, number>> = {};
      for (const op of OPS) {
        const n = median(per.none![op]);
        const y = median(per.basic![op]);
        table[op] = { "auth none p50 ms": round2(n), "auth basic p50 ms": round2(y), "ratio basic/none": Number((y / n).toFixed(3)) };
      }
      console.log(`${transport}: medians of ${rounds} interleaved rounds × ${iterations} calls each`);
      console.table(table);
    }
  } finally {
    await none?.stop();
    await basicAuth.stop();
  }
}

const round2 = (x: number) => Number(x.toFixed(2));

console.log(`--auth basic vs --auth none: SearchRuns "${FILTER}" order by ${ORDER.join(", ")} (100 per page), LogBatch (100 metrics, 10 params, 10 tags), GetRun`);
console.log(`machine: ${machine()}`);
const stores = values.stores.split(",");
if (stores.includes("sqlite")) {
  const dir = mkdtempSync(join(tmpdir(), "logbook-bench-auth-"));
  try {
    await measure("sqlite (embedded)", ["--data-dir", dir, "--store", `sqlite:${join(dir, "bench.db")}`], Number(values.runs));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
if (stores.includes("mongodb")) {
  const mongo = await startMongoForTests();
  try {
    const label = process.env.MONGODB_URI ? "mongodb (MONGODB_URI)" : "mongodb (FerretDB 1.24: correctness stand-in, not a speed reference)";
    await measure(label, ["--store", `${new URL(`/logbook_bench_auth_${Date.now()}`, mongo.uri)}`], Math.min(Number(values.runs), 1000));
  } finally {
    await mongo.stop();
  }
}
