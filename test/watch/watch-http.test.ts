/**
 * The watch routes over HTTP on both stores: Server-Sent Events for `Accept: text/event-stream` (event names, ids,
 * MLflow JSON data), resuming with `Last-Event-ID` (nothing twice, nothing missing), 204 for a resume of an ended run
 * (an EventSource stops there), an `error` event when the server shuts down, NDJSON otherwise; the leaderboard watch
 * route and the live leaderboard page.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { STORE_KINDS, startTestLogbook, type TestLogbook } from "../harness/logbook.js";
import { type SseEvent, openSse } from "../harness/sse-client.js";
import { type LiveStream, liveStream } from "../harness/watch-stream.js";

const NOW = 1_700_000_000_000;

describe.each(STORE_KINDS)("watching over HTTP on %s", (kind) => {
  let lb: TestLogbook;
  let experimentId: string;

  beforeAll(async () => {
    lb = await startTestLogbook(kind, { label: "watch-http" });
    ({ experimentId } = await lb.tracking.createExperiment({ name: "http-watch", artifactLocation: "", tags: [] }));
  });
  afterAll(async () => {
    await lb?.close();
  });

  async function newRun(name: string, params: Record<string, string> = {}): Promise<string> {
    const { run } = await lb.tracking.createRun({ experimentId, runName: name, tags: [], startTime: BigInt(NOW) } as never);
    const runId = run!.info!.runId;
    if (Object.keys(params).length) await lb.tracking.logBatch({ runId, metrics: [], params: Object.entries(params).map(([key, value]) => ({ key, value })), tags: [] });
    return runId;
  }
  const log = (runId: string, key: string, steps: number[]) =>
    lb.tracking.logBatch({ runId, metrics: steps.map((s) => ({ key, value: s / 10, timestamp: BigInt(NOW + s), step: BigInt(s), runId: "" })), params: [], tags: [] });

  async function sse(path: string, headers: Record<string, string> = {}): Promise<{ status: number; stream: LiveStream<SseEvent>; headers: Headers }> {
    const res = await openSse(`${lb.httpUrl}${path}`, headers);
    return { status: res.status, headers: res.headers, stream: liveStream(res.events, res.close) };
  }

  it("sends Server-Sent Events: snapshot, then one event per change, ids the sequences, data the MLflow JSON message", async () => {
    const runId = await newRun("sse");
    const { status, headers, stream } = await sse(`/mlflow/runs/${runId}/watch`);
    expect(status).toBe(200);
    expect(headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    const snapshot = await stream.next();
    expect(snapshot.event).toBe("snapshot");
    expect(JSON.parse(snapshot.data)).toMatchObject({ sequence: Number(snapshot.id), snapshot: { run: { info: { run_id: runId, status: "RUNNING" } } } });
    await log(runId, "loss", [1, 2]);
    await lb.tracking.logBatch({ runId, metrics: [], params: [{ key: "lr", value: "0.1" }], tags: [{ key: "t", value: "v" }] });
    const events = await stream.take(4);
    expect(events.map((e) => e.event)).toEqual(["metric", "metric", "param", "tag"]);
    expect(JSON.parse(events[0]!.data)).toEqual({ sequence: Number(events[0]!.id), metric: { key: "loss", value: 0.1, timestamp: NOW + 1, step: 1 } });
    expect(JSON.parse(events[2]!.data).param).toEqual({ key: "lr", value: "0.1" });
    const ids = events.map((e) => Number(e.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    stream.cancel();
  });

  it("resumes with Last-Event-ID: the changes after it, nothing twice; 204 once the run has ended", async () => {
    const runId = await newRun("resume");
    const first = await sse(`/mlflow/runs/${runId}/watch`);
    await first.stream.next();
    await log(runId, "x", [1, 2, 3]);
    const received = await first.stream.take(2); // x@1, x@2 — then the connection drops
    first.stream.cancel();
    await log(runId, "x", [4, 5]);
    await lb.tracking.updateRun({ runId, status: 3, endTime: BigInt(NOW + 9) } as never); // FINISHED

    const again = await sse(`/mlflow/runs/${runId}/watch`, { "last-event-id": received.at(-1)!.id! });
    expect(again.status).toBe(200);
    const rest = await again.stream.end();
    expect(rest.map((e) => (e.event === "metric" ? `x@${JSON.parse(e.data).metric.step}` : e.event))).toEqual(["x@3", "x@4", "x@5", "info"]);
    expect(JSON.parse(rest.at(-1)!.data).info).toMatchObject({ status: "FINISHED", end_time: NOW + 9 });

    // An EventSource would reconnect after the end: nothing more will come, so 204 (it stops reconnecting).
    const ended = await openSse(`${lb.httpUrl}/mlflow/runs/${runId}/watch`, { "last-event-id": rest.at(-1)!.id! });
    expect(ended.status).toBe(204);
    ended.close();
  });

  it("answers NDJSON without Accept: text/event-stream, and a JSON error before the stream for a bad request", async () => {
    const runId = await newRun("ndjson");
    const abort = new AbortController();
    const res = await fetch(`${lb.httpUrl}/mlflow/runs/${runId}/watch?metric_keys=a`, { signal: abort.signal });
    expect(res.headers.get("content-type")).toBe("application/x-ndjson");
    const reader = res.body!.getReader();
    const first = JSON.parse(new TextDecoder().decode((await reader.read()).value).split("\n")[0]!);
    expect(first.result.snapshot.run.info.run_id).toBe(runId);
    abort.abort();
    const missing = await fetch(`${lb.httpUrl}/mlflow/runs/${"e".repeat(32)}/watch`, { headers: { accept: "text/event-stream" } });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error_code: "RESOURCE_DOES_NOT_EXIST" });
    const noMetric = await fetch(`${lb.httpUrl}/mlflow/leaderboard/AAPL/watch`, { headers: { accept: "text/event-stream" } });
    expect(noMetric.status).toBe(400);
  });

  it("watches a leaderboard over SSE, and serves the live page", async () => {
    const a = await newRun("lb-a", { symbol: "SSE" });
    await log(a, "sharpe", [1]);
    const { stream } = await sse(`/mlflow/leaderboard/SSE/watch?metric=sharpe&experiment_ids=${experimentId}`);
    const board = await stream.next();
    expect(board.event).toBe("snapshot");
    expect(JSON.parse(board.data).snapshot.entries.map((e: { run_id: string }) => e.run_id)).toEqual([a]);
    const b = await newRun("lb-b", { symbol: "SSE" });
    await log(b, "sharpe", [30]);
    const update = await stream.next();
    expect(update.event).toBe("leaderboard");
    expect(JSON.parse(update.data).leaderboard.changes).toEqual([
      expect.objectContaining({ kind: "ENTERED", run_id: b, entry: expect.objectContaining({ rank: 1, value: 3 }) }),
      { kind: "MOVED", run_id: a, entry: expect.objectContaining({ rank: 2 }), previous_rank: 1 },
    ]);
    stream.cancel();

    const page = await fetch(`${lb.httpUrl}/logbook/leaderboard/SSE?metric=sharpe`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toBe("text/html; charset=utf-8");
    expect(page.headers.get("content-security-policy")).toContain("connect-src 'self'");
    const html = await page.text();
    expect(html).toContain('new EventSource(url)');
    expect(html.split("\n").length).toBeLessThanOrEqual(200);
    expect((await fetch(`${lb.httpUrl}/logbook/leaderboard/SSE`)).status).toBe(400);
  });

  it("ends open streams with an error event (TEMPORARILY_UNAVAILABLE) when the server shuts down", async () => {
    const other = await startTestLogbook(kind, { label: "watch-http-shutdown" });
    const { run } = await other.tracking.createRun({ experimentId: "0", runName: "bye", tags: [], startTime: BigInt(NOW) } as never);
    const res = await openSse(`${other.httpUrl}/mlflow/runs/${run!.info!.runId}/watch`);
    const stream = liveStream(res.events, res.close);
    await stream.next();
    await other.close();
    const rest = await stream.end();
    expect(rest.map((e) => e.event)).toEqual(["error"]);
    expect(JSON.parse(rest[0]!.data)).toMatchObject({ error_code: "TEMPORARILY_UNAVAILABLE" });
  });
});
