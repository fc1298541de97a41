/**
 * The instrumented store against real stores (SQLite and the MongoDB-wire server): exact duration observations per
 * operation, ingest counts only for what was written, stream timing, and spans that carry no values.
 */
import { randomBytes } from "node:crypto";
import { context, SpanStatusCode, trace } from "@opentelemetry/api";
import { InMemorySpanExporter, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { mongoBackend } from "../../test/harness/mongo-backend.js";
import { parseExposition, Scrape } from "../../test/harness/prometheus.js";
import { sqliteBackend } from "../../test/harness/sqlite-backend.js";
import { parseRunFilter } from "../domain/filter/index.js";
import { canStreamChanges, type Store } from "../store/types.js";
import { instrumentStore } from "./instrument-store.js";
import { createMetrics, type Metrics } from "./metrics.js";
import { STORE_OPERATIONS } from "./store-operations.js";
import { startTracing, type Tracing } from "./tracing.js";

const NOW = 1_700_000_000_000;
const silent = pino({ level: "silent" });

async function scrape(metrics: Metrics): Promise<Scrape> {
  const text = await metrics.exposition();
  return new Scrape(text, parseExposition(text));
}

describe.each([sqliteBackend, mongoBackend])("instrumented store: $name", (backend) => {
  let raw: Store;
  let store: Store;
  let metrics: Metrics;
  let tracing: Tracing;
  let exporter: InMemorySpanExporter;
  const kind = backend.name;
  const ops = (s: Scrape, operation: string) => s.count("logbook_store_operation_duration_seconds", { operation, store: kind });

  beforeEach(async () => {
    raw = await backend.open();
    metrics = createMetrics({ version: "0", sources: { inFlight: () => 0, storeUp: () => true, artifactBytesRead: () => 0 }, runtime: false });
    exporter = new InMemorySpanExporter();
    tracing = await startTracing({ settings: { exporter: "console" }, version: "0", logger: silent, exporter });
    store = instrumentStore(raw, { metrics, tracing });
    await store.init();
  });

  afterEach(async () => {
    await store.close();
    await tracing.shutdown();
  });

  /** Runs `fn` inside a (local) parent span, as a traced RPC would; returns the spans exported under it. */
  async function underParent(fn: () => Promise<unknown>): Promise<{ parent: ReadableSpan; children: ReadableSpan[] }> {
    const parentSpan = tracing.tracer.startSpan("rpc");
    await tracing.with(trace.setSpan(context.active(), parentSpan), fn).catch(() => undefined);
    parentSpan.end();
    await tracing.flush();
    const spans = exporter.getFinishedSpans();
    const parent = spans.find((s) => s.name === "rpc")!;
    return { parent, children: spans.filter((s) => s.parentSpanContext?.spanId === parent.spanContext().spanId) };
  }

  it("wraps every operation of the Store contract", () => {
    const functions = (s: Store) => Object.keys(s).filter((k) => typeof (s as unknown as Record<string, unknown>)[k] === "function");
    const operations = Object.keys(STORE_OPERATIONS);
    expect(functions(raw)).toEqual(expect.arrayContaining(operations));
    const passedThrough = ["onChange", ...(canStreamChanges(raw) ? ["changeStream"] : [])];
    expect(new Set(functions(store))).toEqual(new Set([...operations, ...passedThrough]));
    expect(store.status).toEqual(raw.status);
  });

  it("keeps the change log's subscription and the optional change stream the server looks for", async () => {
    expect(canStreamChanges(store)).toBe(canStreamChanges(raw));
    if (canStreamChanges(store) && canStreamChanges(raw)) expect(store.changeStream() === undefined).toBe(raw.changeStream() === undefined);
    const seen: string[] = [];
    const unsubscribe = store.onChange((change) => seen.push(change.runId ?? ""));
    const experimentId = await store.createExperiment({ name: `e-${randomBytes(4).toString("hex")}`, tags: [], now: NOW });
    const runId = randomBytes(16).toString("hex");
    await store.createRun({ runId, experimentId, userId: "u", runName: "r", startTime: NOW, tags: [] });
    unsubscribe();
    expect(seen).toContain(runId);
  });

  it("observes each call once, failed ones too, and counts ingested points, params and tags only when written", async () => {
    const experimentId = await store.createExperiment({ name: `e-${randomBytes(4).toString("hex")}`, tags: [], now: NOW });
    const runId = randomBytes(16).toString("hex");
    await store.createRun({ runId, experimentId, userId: "u", runName: "r", startTime: NOW, tags: [] });
    const before = await scrape(metrics);
    await store.logBatch(runId, {
      metrics: [1, 2, 3].map((step) => ({ key: "loss", value: 1 / step, timestamp: NOW, step })),
      params: [
        { key: "lr", value: "0.1" },
        { key: "symbol", value: "AAPL" },
      ],
      tags: [{ key: "stage", value: "dev" }],
    });
    await expect(store.getRun("f".repeat(32))).rejects.toMatchObject({ code: "RESOURCE_DOES_NOT_EXIST" });
    // A param changed to another value: refused, nothing written, nothing counted.
    await expect(store.logBatch(runId, { metrics: [], params: [{ key: "lr", value: "0.2" }], tags: [] })).rejects.toMatchObject({
      code: "INVALID_PARAMETER_VALUE",
    });
    await store.getRun(runId);
    const after = await scrape(metrics);
    expect(ops(after, "logBatch") - ops(before, "logBatch")).toBe(2);
    expect(ops(after, "getRun") - ops(before, "getRun")).toBe(2);
    expect(ops(after, "createRun") - ops(before, "createRun")).toBe(0);
    expect(after.value("logbook_ingested_metric_points_total") - before.value("logbook_ingested_metric_points_total")).toBe(3);
    expect(after.value("logbook_ingested_params_total") - before.value("logbook_ingested_params_total")).toBe(2);
    expect(after.value("logbook_ingested_tags_total") - before.value("logbook_ingested_tags_total")).toBe(1);
    // Only operation names and the store kind as labels.
    expect(after.labelValues("logbook_store_operation_duration_seconds", "store")).toEqual(new Set([kind]));
    for (const op of after.labelValues("logbook_store_operation_duration_seconds", "operation")) expect(STORE_OPERATIONS).toHaveProperty(op);
  });

  it("times a stream once, when it ends, whether drained or left early", async () => {
    const experimentId = await store.createExperiment({ name: `s-${randomBytes(4).toString("hex")}`, tags: [], now: NOW });
    for (let i = 0; i < 5; i++) {
      await store.createRun({ runId: randomBytes(16).toString("hex"), experimentId, userId: "u", runName: `r${i}`, startTime: NOW + i, tags: [] });
    }
    const query = { experimentIds: [experimentId], filter: parseRunFilter(""), order: [], viewType: "ALL" as const };
    const before = await scrape(metrics);
    let all = 0;
    for await (const run of store.streamRuns(query, { batchSize: 2 })) if (run.info.experimentId === experimentId) all++;
    const afterDrained = await scrape(metrics);
    const early = store.streamRuns(query, { batchSize: 2 })[Symbol.asyncIterator]();
    await early.next();
    await early.return!();
    const afterEarly = await scrape(metrics);
    expect(all).toBe(5);
    expect(ops(afterDrained, "streamRuns") - ops(before, "streamRuns")).toBe(1);
    expect(ops(afterEarly, "streamRuns") - ops(afterDrained, "streamRuns")).toBe(1);
  });

  it("makes a child span per operation under a traced call, carrying the statement kind and never a value", async () => {
    const secret = `name-${randomBytes(6).toString("hex")}`;
    const { parent, children } = await underParent(async () => {
      const experimentId = await store.createExperiment({ name: secret, tags: [{ key: "k", value: secret }], now: NOW });
      await store.getExperiment(experimentId);
      await store.getRun(secret.padEnd(32, "0")).catch(() => undefined);
    });
    expect(children.map((s) => s.name)).toEqual(["store.createExperiment", "store.getExperiment", "store.getRun"]);
    for (const span of children) {
      expect(span.spanContext().traceId).toBe(parent.spanContext().traceId);
      expect(JSON.stringify(span.attributes)).not.toContain(secret.slice(5));
      expect(span.attributes["db.system.name"]).toBe(kind);
    }
    expect(children[0]!.attributes).toEqual({ "db.system.name": kind, "db.operation.name": "createExperiment", "logbook.store.statement_kind": "write" });
    expect(children[1]!.attributes["logbook.store.statement_kind"]).toBe("read");
    expect(children[1]!.status.code).toBe(SpanStatusCode.UNSET);
    expect(children[2]!.status).toEqual({ code: SpanStatusCode.ERROR, message: "RESOURCE_DOES_NOT_EXIST" });
    expect(children[2]!.attributes["error.type"]).toBe("RESOURCE_DOES_NOT_EXIST");
  });

  it("makes no span outside a traced call (health pings, start-up)", async () => {
    await store.ping();
    await store.counts();
    await tracing.flush();
    expect(exporter.getFinishedSpans()).toEqual([]);
  });
});
