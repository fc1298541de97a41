/**
 * MongoDB-specific behaviour the conformance suite cannot see: concurrency between separate clients (separate
 * servers in production), what the stored documents look like, and outages of the database itself.
 * Against the run's MongoDB-wire server (MONGODB_URI, else FerretDB), except the outage tests, which start
 * a FerretDB of their own to stop and restart.
 */
import { randomBytes } from "node:crypto";
import { type Document, MongoClient } from "mongodb";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type FerretDBHandle, startFerretDB } from "../../../scripts/ferretdb.mjs";
import { mongoTestUri } from "../../../test/harness/mongo.js";
import { type Metric, compareMetricRecency } from "../../domain/entities.js";
import { AppError, ErrorCode } from "../../domain/errors.js";
import { parseLoggedModelFilter, parseLoggedModelOrderBy } from "../../domain/filter/logged-model-search.js";
import { paramChangedMessage } from "../../domain/validation.js";
import type { Store } from "../types.js";
import { decodeFieldKey, encodeFieldKey } from "./key-fields.js";
import { historyDocOf } from "./mapping.js";
import { createMongoStore } from "./mongo-store.js";
import { valueSortKey } from "./value-encoding.js";

const NOW = 1_700_000_000_000;
const newRunId = () => randomBytes(16).toString("hex");
const point = (key: string, value: number, timestamp: number, step: number): Metric => ({ key, value, timestamp, step });
const exact = (m: Metric) => ({ ...m, value: Object.is(m.value, -0) ? "-0" : String(m.value) });
const byKey = <T extends { key: string }>(xs: T[]) => [...xs].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));

async function rejection(promise: Promise<unknown>): Promise<AppError> {
  const err = await promise.then(
    () => new Error("expected a rejection"),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  return err as AppError;
}

const stores: Store[] = [];
const clients: MongoClient[] = [];

function open(uri: string, options: { pingTimeoutMS?: number } = {}): Store {
  const store = createMongoStore({ uri, ...options });
  stores.push(store);
  return store;
}

/** A plain driver connection to look at what the store wrote. */
async function raw(uri: string) {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 5000 });
  clients.push(client);
  return client.db();
}

afterEach(async () => {
  await Promise.all([...stores.splice(0).map((s) => s.close()), ...clients.splice(0).map((c) => c.close())]);
});

describe("MongoDB store: connection string", () => {
  it("takes the database from the URI path (default logbook) and shows no credentials or options", async () => {
    const cases = [
      ["mongodb://ada:secret@db1:27017,db2:27018/tracking?authSource=admin&tls=true", "mongodb://db1:27017,db2:27018/tracking"],
      ["mongodb+srv://ada:secret@cluster.example.net/?retryWrites=true", "mongodb+srv://cluster.example.net/logbook"],
      ["mongodb://127.0.0.1:27017", "mongodb://127.0.0.1:27017/logbook"],
    ];
    for (const [uri, location] of cases) {
      const store = createMongoStore({ uri: uri as string });
      expect(store.status).toEqual({ kind: "mongodb", location });
      await store.close();
    }
  });
});

describe("MongoDB store: concurrency across clients", () => {
  it("creates exactly one Default experiment when servers initialise one empty database at once", async () => {
    for (let round = 0; round < 3; round++) {
      const uri = mongoTestUri("init_race");
      const servers = [open(uri), open(uri), open(uri)];
      await Promise.all(servers.map((s) => s.init()));
      const db = await raw(uri);
      expect(await db.collection("experiments").find({}).toArray()).toEqual([
        expect.objectContaining({ _id: "0", name: "Default", lifecycle_stage: "active" }),
      ]);
      for (const s of servers) expect(await s.counts()).toEqual({ experiments: 1, runs: 0, registeredModels: 0, modelVersions: 0 });
      expect((await servers[1]?.getExperiment("0"))?.name).toBe("Default");
    }
  });

  it("hands out distinct experiment ids to concurrent creators on separate clients", async () => {
    const uri = mongoTestUri("id_race");
    const a = open(uri);
    const b = open(uri);
    await Promise.all([a.init(), b.init()]);
    const names = Array.from({ length: 30 }, (_, i) => `e${i}`);
    const ids = await Promise.all(names.map((name, i) => (i % 2 ? a : b).createExperiment({ name, tags: [], now: NOW })));
    expect(new Set(ids).size).toBe(30);
    for (const [i, id] of ids.entries()) expect((await a.getExperiment(id)).name).toBe(names[i]);
    expect(await b.counts()).toEqual({ experiments: 31, runs: 0, registeredModels: 0, modelVersions: 0 });
  });

  it("keeps every linked point in a logged model's search summaries when two clients log to it at once", async () => {
    const uri = mongoTestUri("linked_race");
    const [a, b] = [open(uri), open(uri)];
    await Promise.all([a.init(), b.init()]);
    const modelId = `m-${randomBytes(16).toString("hex")}`;
    await a.createLoggedModel({ modelId, experimentId: "0", name: "m", params: [], tags: [], now: NOW });
    const runs = await Promise.all([a, b].map((s) => s.createRun({ runId: newRunId(), experimentId: "0", userId: "u", runName: "r", startTime: NOW, tags: [] })));
    // 2 × 10 batches at once, values 1..20 and a tag set meanwhile: the lowest, highest and latest must all survive.
    await Promise.all([
      ...Array.from({ length: 20 }, (_, i) =>
        (i % 2 ? a : b).logBatch(runs[i % 2]!.info.runId, { metrics: [{ key: "acc", value: i + 1, timestamp: NOW + i, step: 0, modelId }], params: [], tags: [] }),
      ),
      b.setLoggedModelTags(modelId, [{ key: "t", value: "v" }], NOW),
    ]);
    const search = (filter: string, orderBy: { fieldName: string; ascending?: boolean }[] = []) =>
      a.searchLoggedModels({ experimentIds: ["0"], filter: parseLoggedModelFilter(filter), datasets: [], order: parseLoggedModelOrderBy(orderBy) }, { maxResults: 5 });
    for (const filter of ["metrics.acc >= 20", "metrics.acc <= 1", "metrics.acc = 7", "tags.t = 'v'"]) expect((await search(filter)).items, filter).toHaveLength(1);
    const page = await search("", [{ fieldName: "metrics.acc" }, { fieldName: "name" }]);
    expect(page.items).toHaveLength(1);
    const db = await raw(uri);
    expect(await db.collection("logged_models").findOne({ _id: modelId as never })).toMatchObject({ metrics: { acc: { a: { ts: NOW + 19 } } } });
  });

  // The run's writes are compare-and-set on MongoDB and held under the run's lease on FerretDB (run-writer.ts):
  // either way exactly one of two writers of a param wins, and the other is told the value that stayed.
  it("lets exactly one of two clients log a param with different values at once", async () => {
    const uri = mongoTestUri("param_race");
    const a = open(uri);
    const b = open(uri);
    await Promise.all([a.init(), b.init()]);
    for (let round = 0; round < 10; round++) {
      const { runId } = (await a.createRun({ runId: newRunId(), experimentId: "0", userId: "u", runName: "r", startTime: NOW, tags: [] })).info;
      const results = await Promise.allSettled([
        a.logBatch(runId, { metrics: [], params: [{ key: "lr", value: "0.1" }], tags: [{ key: "from", value: "a" }] }),
        b.logBatch(runId, { metrics: [], params: [{ key: "lr", value: "0.2" }], tags: [{ key: "from", value: "b" }] }),
      ]);
      const won = results.findIndex((r) => r.status === "fulfilled");
      const lost = results.find((r) => r.status === "rejected");
      expect(won, `round ${round}`).toBeGreaterThanOrEqual(0);
      expect(lost, `round ${round}`).toBeDefined();
      const winner = won === 0 ? "0.1" : "0.2";
      const loser = won === 0 ? "0.2" : "0.1";
      expect((lost as PromiseRejectedResult).reason).toMatchObject({
        code: ErrorCode.INVALID_PARAMETER_VALUE,
        message: paramChangedMessage(runId, "lr", winner, loser),
      });
      expect((await b.getRun(runId)).data.params).toEqual([{ key: "lr", value: winner }]);
    }
  });

  it("keeps every point and the right latest values when two clients log 20 × 1000 points into one run", async () => {
    const uri = mongoTestUri("batch_race");
    const a = open(uri);
    const b = open(uri);
    await Promise.all([a.init(), b.init()]);
    const { runId } = (await a.createRun({ runId: newRunId(), experimentId: "0", userId: "u", runName: "r", startTime: NOW, tags: [] })).info;
    // Four keys, 250 points each per batch; the latest point of each key sits in a different batch, and the
    // batches go out at once, alternating between the two clients.
    const keys = ["loss", "acc", "lr", "grad.norm"];
    const batches = Array.from({ length: 20 }, (_, batch) =>
      Array.from({ length: 1000 }, (_, i) => {
        const k = i % 4;
        const step = Math.floor(i / 4);
        // key k peaks (highest timestamp at the top step) in batch 5k+3
        const timestamp = NOW + (batch === 5 * k + 3 ? 1000 : batch);
        return point(keys[k] as string, batch * 1000 + i + (k === 2 ? Number.NaN : 0), timestamp, step);
      }),
    );
    await Promise.all(batches.map((metrics, i) => (i % 2 ? a : b).logBatch(runId, { metrics, params: [], tags: [] })));

    const all = batches.flat();
    let total = 0;
    for (const key of keys) {
      const page = await b.getMetricHistory(runId, key, {});
      total += page.metrics.length;
      expect(page.metrics).toHaveLength(5000);
    }
    expect(total).toBe(20_000);
    const expected = keys.map((key) => all.filter((p) => p.key === key).reduce((x, y) => (compareMetricRecency(y, x) > 0 ? y : x)));
    expect(byKey((await a.getRun(runId)).data.metrics).map(exact)).toEqual(byKey(expected).map(exact));
    const db = await raw(uri);
    const stored = await db.collection("runs").findOne({ _id: runId as unknown as Document["_id"] });
    expect(Object.keys(stored?.metrics as object).map(decodeFieldKey).sort()).toEqual([...keys].sort());
  }, 300_000);
});

describe("MongoDB store: stored documents", () => {
  let uri: string;
  let store: Store;
  let db: Awaited<ReturnType<typeof raw>>;

  beforeAll(async () => {
    uri = mongoTestUri("documents");
  });

  async function setUp() {
    store = open(uri);
    await store.init();
    db = await raw(uri);
  }

  it("stores NaN, ±Infinity and -0 without non-finite doubles and reads them back exactly", async () => {
    await setUp();
    const { runId } = (await store.createRun({ runId: newRunId(), experimentId: "0", userId: "u", runName: "r", startTime: NOW, tags: [] })).info;
    const values = [Number.NaN, Infinity, -Infinity, -0, 0, 1.7976931348623157e308, -5e-324];
    const metrics = values.map((v, i) => point(`m${i}`, v, NOW, 0));
    await store.logBatch(runId, { metrics, params: [], tags: [] });
    expect(byKey((await store.getRun(runId)).data.metrics).map(exact)).toEqual(metrics.map(exact));
    for (const m of metrics) expect((await store.getMetricHistory(runId, m.key, {})).metrics.map(exact)).toEqual([exact(m)]);
    const finiteOrAbsent = (d: Document) => d.v === undefined || (typeof d.v === "number" && Number.isFinite(d.v));
    const history = await db.collection("metric_history").find({ run_id: runId }).toArray();
    const latest = Object.entries((await db.collection("runs").findOne({ _id: runId as unknown as Document["_id"] }))?.metrics as Record<string, Document>);
    expect(history).toHaveLength(values.length);
    expect(latest).toHaveLength(values.length);
    for (const d of [...history, ...latest.map(([, entry]) => entry)]) expect(finiteOrAbsent(d), JSON.stringify(d)).toBe(true);
    const entry = (key: string) => latest.find(([field]) => field === key)?.[1];
    expect(entry("m3")).toMatchObject({ v: 0, x: "-0", s: valueSortKey(0) });
    expect(entry("m0")).toMatchObject({ x: "NaN" });
    expect(entry("m0")?.s).toBeUndefined();
    expect(entry("m5")?.v).toBe(1.7976931348623157e308);
  });

  it("handles '.', '$' and ':' inside keys and never uses a key as a field name", async () => {
    await setUp();
    const keys = ["a.b", "x$y", "$lead", "end$", "a:b", "100%", "a..b.c"];
    const { runId } = (await store.createRun({ runId: newRunId(), experimentId: "0", userId: "u", runName: "r", startTime: NOW, tags: [] })).info;
    await store.logBatch(runId, {
      metrics: keys.map((key, i) => point(key, i, NOW, i)),
      params: keys.map((key) => ({ key, value: `p ${key}` })),
      tags: keys.map((key) => ({ key, value: `t ${key}` })),
    });
    const run = await store.getRun(runId);
    expect(byKey(run.data.params)).toEqual(byKey(keys.map((key) => ({ key, value: `p ${key}` }))));
    expect(byKey(run.data.tags)).toEqual(byKey(keys.map((key) => ({ key, value: `t ${key}` }))));
    expect(byKey(run.data.metrics)).toEqual(byKey(keys.map((key, i) => point(key, i, NOW, i))));
    for (const [i, key] of keys.entries()) {
      expect((await store.getMetricHistory(runId, key, {})).metrics).toEqual([point(key, i, NOW, i)]);
    }
    // The same param again is fine, another value is refused, under keys that look like paths or operators.
    await store.logBatch(runId, { metrics: [], params: [{ key: "x$y", value: "p x$y" }], tags: [] });
    const changed = await rejection(store.logBatch(runId, { metrics: [], params: [{ key: "a.b", value: "other" }], tags: [] }));
    expect(changed.code).toBe(ErrorCode.INVALID_PARAMETER_VALUE);
    await store.deleteRunTag(runId, "$lead");
    expect(run.data.tags.length - (await store.getRun(runId)).data.tags.length).toBe(1);

    const experimentId = await store.createExperiment({ name: "keys", tags: keys.map((key) => ({ key, value: key })), now: NOW });
    await store.deleteExperimentTag(experimentId, "a.b");
    expect(byKey((await store.getExperiment(experimentId)).tags)).toEqual(byKey(keys.filter((k) => k !== "a.b").map((key) => ({ key, value: key }))));

    // Keys are field names of the run document only encoded: no '.' or leading '$' anywhere, and they decode back.
    const fieldNames = (value: unknown): string[] =>
      Array.isArray(value) ? value.flatMap(fieldNames) : value && typeof value === "object" ? Object.entries(value).flatMap(([k, v]) => [k, ...fieldNames(v)]) : [];
    for (const name of ["runs", "experiments", "metric_history"]) {
      for (const doc of await db.collection(name).find({}).toArray()) {
        for (const field of fieldNames(doc)) expect(field, `${name}: ${field}`).not.toMatch(/\.|^\$/);
      }
    }
    const stored = await db.collection("runs").findOne({ _id: runId as unknown as Document["_id"] });
    for (const part of ["params", "tags", "metrics", "metric_asc", "metric_desc"]) {
      expect(Object.keys(stored?.[part] as object).map(decodeFieldKey).sort(), part).toEqual([...keys].filter((k) => part !== "tags" || k !== "$lead").sort());
    }
    // An experiment's tags are one field per key, the key percent-encoded: never a '.', never a leading '$'.
    const experiment = await db.collection("experiments").findOne({ _id: experimentId as never });
    expect(Object.keys(experiment!.tags as object).sort()).toEqual(keys.filter((k) => k !== "a.b").map(encodeFieldKey).sort());
    for (const field of Object.keys(experiment!.tags as object)) expect(field).toMatch(/^[^.$][^.]*$/);
  });

  it("carries model links made before logged_model_metrics (history points carrying a model id) over, once", async () => {
    uri = mongoTestUri("carry_over");
    await setUp();
    const { runId } = (await store.createRun({ runId: newRunId(), experimentId: "0", userId: "u", runName: "r", startTime: NOW, tags: [] })).info;
    const model = await store.createLoggedModel({ modelId: `m-${randomBytes(16).toString("hex")}`, experimentId: "0", name: "m", params: [], tags: [], now: NOW });
    const linked: Metric = { ...point("acc", 0.5, NOW + 1, 1), modelId: model.modelId, datasetName: "eval" };
    // A database from before: the point stored with its model id, no link, not marked carried over.
    await db.collection("metric_history").insertOne(historyDocOf(runId, linked) as unknown as Document);
    await db.collection("counters").deleteOne({ _id: "logged_model_metrics_carried_over" } as Document);
    expect((await store.getLoggedModel(model.modelId)).metrics).toEqual([]);

    const restarted = open(uri);
    await restarted.init();
    expect((await restarted.getLoggedModel(model.modelId)).metrics).toEqual([{ ...linked, runId }]);
    // Done once: a link removed afterwards is not made again by the next start-up.
    await db.collection("logged_model_metrics").deleteMany({});
    await open(uri).init();
    expect((await restarted.getLoggedModel(model.modelId)).metrics).toEqual([]);
  });
});

describe("MongoDB store: document layout", () => {
  /** A database as Logbook 0.1 left it (runs with [{k, v}] params and tags, latest_metrics, run_inputs); r3 as layout 2 left it (`o` on latest metrics). */
  async function layout1Database(uri: string) {
    const db = await raw(uri);
    const insert = (name: string, docs: object[]) => db.collection(name).insertMany(docs as Document[]);
    await insert("experiments", [
      { _id: "0", name: "Default", artifact_location: "mlflow-artifacts:/0", lifecycle_stage: "active", creation_time: NOW, last_update_time: NOW, tags: [], rev: 0 },
      { _id: "1", name: "old", artifact_location: "mlflow-artifacts:/1", lifecycle_stage: "active", creation_time: NOW, last_update_time: NOW, tags: [], rev: 0 },
    ]);
    await insert("counters", [{ _id: "experiment_id", seq: 1 }]);
    const run = (id: string, startTime: number, params: [string, string][], extra: object = {}) => ({
      _id: id, experiment_id: "1", user_id: "ada", run_name: `name-${id}`, status: "FINISHED", start_time: startTime, end_time: startTime + 10,
      artifact_uri: `mlflow-artifacts:/1/${id}/artifacts`, lifecycle_stage: "active", params: params.map(([k, v]) => ({ k, v })),
      tags: [{ k: "mlflow.runName", v: `name-${id}` }, { k: "a.b", v: "t" }], rev: 3, model_inputs: ["m-1"], model_outputs: [{ model_id: "m-2", step: 4 }], ...extra,
    });
    await insert("runs", [
      run("r1", 100, [["zeta", "1"], ["alpha", "2"]]),
      run("r2", 200, [["zeta", "3"]], { lifecycle_stage: "deleted", deleted_time: NOW }),
      run("r3", 300, []),
    ]);
    const latest = (runId: string, key: string, value: number, step: number, o?: number) => ({
      _id: `${runId}:${key}`, run_id: runId, key, step, ts: NOW + step, ...(Number.isNaN(value) ? { x: "NaN" } : { v: value }), experiment_id: "1",
      n: Number.isNaN(value), s: valueSortKey(value), rk: "x", ...(o === undefined ? {} : { o }),
    });
    await insert("latest_metrics", [latest("r1", "loss", 0.5, 3), latest("r1", "acc", 0.9, 3), latest("r2", "loss", Number.NaN, 1), latest("r3", "loss", 0.25, 2, 7), latest("r3", "acc", 0.5, 2, 8)]);
    const dataset = (name: string) => ({ name, digest: "d", source_type: "local", source: "/data", schema: "{}" });
    await insert("run_inputs", [
      { _id: "r1:train:d", run_id: "r1", ord: 2, dataset: dataset("train"), tags: [{ k: "mlflow.data.context", v: "train" }] },
      { _id: "r1:eval:d", run_id: "r1", ord: 1, dataset: dataset("eval"), tags: [] },
    ]);
    await insert("metric_history", [{ ...historyDocOf("r1", point("loss", 0.5, NOW + 3, 3)), rk: "x" }]);
    await db.collection("latest_metrics").createIndex({ key: 1, n: 1, s: 1 }, { name: "key_nan_value" });
    await db.collection("runs").createIndex({ experiment_id: 1, start_time: -1 }, { name: "experiment_start_time" });
    return db;
  }

  it("moves a database written by Logbook 0.1 to the run-document layout at init(), data intact, once", async () => {
    const uri = mongoTestUri("layout_v1");
    const db = await layout1Database(uri);
    // Two servers start at once: one migrates, the other waits for it.
    const [a, b] = [open(uri), open(uri)];
    await Promise.all([a.init(), b.init()]);
    const r1 = await b.getRun("r1");
    expect(r1.info).toEqual({
      runId: "r1", runName: "name-r1", experimentId: "1", userId: "ada", status: "FINISHED", startTime: 100, endTime: 110,
      artifactUri: "mlflow-artifacts:/1/r1/artifacts", lifecycleStage: "active",
    });
    // Params and tags in their logged order; metrics after them, in key order (0.1 kept no order for them).
    expect(r1.data.params).toEqual([{ key: "zeta", value: "1" }, { key: "alpha", value: "2" }]);
    expect(r1.data.tags).toEqual([{ key: "mlflow.runName", value: "name-r1" }, { key: "a.b", value: "t" }]);
    expect(r1.data.metrics).toEqual([point("acc", 0.9, NOW + 3, 3), point("loss", 0.5, NOW + 3, 3)]);
    // Where layout 2 recorded when each key was first logged, that order.
    expect((await b.getRun("r3")).data.metrics.map((m) => m.key)).toEqual(["loss", "acc"]);
    expect(r1.inputs.datasetInputs.map((d) => d.dataset.name)).toEqual(["eval", "train"]);
    expect(r1.inputs.modelInputs).toEqual([{ modelId: "m-1" }]);
    expect(r1.outputs.modelOutputs).toEqual([{ modelId: "m-2", step: 4 }]);
    expect((await a.getRun("r2")).info.lifecycleStage).toBe("deleted");
    expect((await a.getRun("r2")).data.metrics.map(exact)).toEqual([exact(point("loss", Number.NaN, NOW + 1, 1))]);
    expect((await a.getMetricHistory("r1", "loss", {})).metrics).toEqual([point("loss", 0.5, NOW + 3, 3)]);
    const search = await a.searchRuns({ experimentIds: ["1"], filter: [], order: [{ type: "metric", key: "loss", ascending: true }], viewType: "ALL" }, { maxResults: 10 });
    expect(search.runs.map((r) => r.info.runId)).toEqual(["r3", "r1", "r2"]);
    // The runs can be written to as any other.
    await a.logBatch("r3", { metrics: [point("loss", 0.1, NOW, 9)], params: [{ key: "p", value: "1" }], tags: [] });
    expect((await b.getRun("r3")).data).toMatchObject({ metrics: [point("loss", 0.1, NOW, 9), point("acc", 0.5, NOW + 2, 2)], params: [{ key: "p", value: "1" }] });

    const names = (await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name);
    expect(names).not.toContain("latest_metrics");
    expect(names).not.toContain("run_inputs");
    expect(await db.collection("counters").findOne({ _id: "layout" } as Document)).toEqual({ _id: "layout", seq: 3 });
    expect(await db.collection("counters").findOne({ _id: "migration" } as Document)).toBeNull();
    expect((await db.collection("runs").listIndexes().toArray()).map((i) => i.name)).not.toContain("experiment_start_time");
    await a.init();
    expect(await a.counts()).toMatchObject({ experiments: 2, runs: 3 });
  });

  it("takes over an empty database and refuses one recorded with another layout", async () => {
    const empty = mongoTestUri("layout_empty");
    await (await raw(empty)).collection("latest_metrics").insertOne({ _id: "x" } as unknown as Document);
    const store = open(empty);
    await store.init();
    expect(await (await raw(empty)).collection("counters").findOne({ _id: "layout" as unknown as Document["_id"] })).toEqual({ _id: "layout", seq: 3 });

    const newer = mongoTestUri("layout_v4");
    await (await raw(newer)).collection("counters").insertOne({ _id: "layout", seq: 4 } as unknown as Document);
    const err = await rejection(open(newer).init());
    expect(err.code).toBe(ErrorCode.INVALID_STATE);
    expect(err.message).toMatch(/layout 4; this Logbook reads layout 3/);
  });
});

describe("MongoDB store: the database goes away and comes back", () => {
  let ferret: FerretDBHandle;

  beforeAll(async () => {
    ferret = await startFerretDB();
  });

  afterAll(async () => {
    await ferret?.stop();
  });

  it("answers TEMPORARILY_UNAVAILABLE while the server is down and reconnects after a restart, data intact", async () => {
    const store = open(`${ferret.uri}lb_outage`);
    await store.init();
    const experimentId = await store.createExperiment({ name: "survives", tags: [{ key: "k", value: "v" }], now: NOW });
    const { runId } = (await store.createRun({ runId: newRunId(), experimentId, userId: "u", runName: "r", startTime: NOW, tags: [] })).info;
    await store.logBatch(runId, { metrics: [point("loss", 0.5, NOW, 1)], params: [{ key: "lr", value: "0.1" }], tags: [] });
    const before = await store.getRun(runId);

    await ferret.kill();
    const started = Date.now();
    const down = await rejection(store.ping());
    expect(down.code).toBe(ErrorCode.TEMPORARILY_UNAVAILABLE);
    expect(down.cause).toBeDefined();
    expect(down.message).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|Mongo/);
    const read = await rejection(store.getRun(runId));
    expect(read.code, `cause: ${String(read.cause)}`).toBe(ErrorCode.TEMPORARILY_UNAVAILABLE);
    const write = await rejection(store.logBatch(runId, { metrics: [point("loss", 0.4, NOW, 2)], params: [], tags: [] }));
    expect(write.code, `cause: ${String(write.cause)}`).toBe(ErrorCode.TEMPORARILY_UNAVAILABLE);
    expect(Date.now() - started).toBeLessThan(15_000);

    await ferret.restart();
    await expect(store.ping()).resolves.toBeUndefined();
    expect(await store.getRun(runId)).toEqual(before);
    expect((await store.getExperiment(experimentId)).tags).toEqual([{ key: "k", value: "v" }]);
    await store.logBatch(runId, { metrics: [point("loss", 0.3, NOW, 3)], params: [], tags: [] });
    expect((await store.getRun(runId)).data.metrics).toEqual([point("loss", 0.3, NOW, 3)]);
  });

  it("answers ping within its timeout when the server accepts connections but does not respond", async () => {
    const store = open(`${ferret.uri}lb_frozen`, { pingTimeoutMS: 1000 });
    await store.init();
    ferret.pause();
    try {
      // A reply already on its way when SIGSTOP landed can still arrive (seen on a loaded machine): wait
      // for the first unanswered ping, then check that one more fails within its timeout.
      await expect.poll(() => store.ping().then(() => "up", () => "down"), { timeout: 10_000, interval: 100 }).toBe("down");
      const started = Date.now();
      expect((await rejection(store.ping())).code).toBe(ErrorCode.TEMPORARILY_UNAVAILABLE);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      ferret.resume();
    }
    await expect.poll(() => store.ping().then(() => "up", () => "down"), { timeout: 60_000, interval: 500 }).toBe("up");
  }, 90_000);
});
