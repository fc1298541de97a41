/**
 * Requests that never end, or trickle: a JSON body or an artifact upload that stops sending is cut after the idle
 * timeout with MLflow's error body (408) and the connection closed; one that sends too slowly is cut once it has
 * waited that long; the same holds for a gRPC UploadArtifact stream (DEADLINE_EXCEEDED); nothing is written; an
 * idle keep-alive connection is closed; a slow but steady upload still completes. The limits are shortened here
 * (2 s idle, 200 bytes/s, 1 s keep-alive); only outcomes are asserted, never durations.
 */
import { status, type ServiceError } from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ArtifactServiceService } from "../../gen/ts/logbook/v1/artifact_service.js";
import { startUpload } from "../harness/artifacts.js";
import { promiseClient, type PromiseClient } from "../harness/grpc.js";
import { startTestLogbook, type TestLogbook } from "../harness/logbook.js";
import { openRaw, parseAnswer } from "../harness/raw-http.js";

const PROXY = "/api/2.0/mlflow-artifacts/artifacts";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("slow and never-ending requests", () => {
  let lb: TestLogbook;
  let artifacts: PromiseClient<typeof ArtifactServiceService>;
  let runId: string;
  let runRoot: string;

  beforeAll(async () => {
    lb = await startTestLogbook("sqlite", { config: { bodyIdleTimeoutS: 2, bodyMinBytesPerS: 200, keepAliveTimeoutS: 1 } });
    artifacts = promiseClient(ArtifactServiceService, lb.address);
    const experimentId = (await lb.tracking.createExperiment({ name: "slow", artifactLocation: "", tags: [] })).experimentId;
    runId = (await lb.tracking.createRun({ experimentId, userId: "u", runName: "r", tags: [] })).run!.info!.runId;
    runRoot = `${experimentId}/${runId}/artifacts`;
  });
  afterAll(async () => {
    artifacts?.close();
    await lb?.close();
  });

  const listed = async () => (await artifacts.listArtifacts({ runId, runUuid: "", path: "", pageToken: "" })).files.map((f) => f.path);

  /** Sends the head and `first`, then `more` pieces every `everyMs` (never finishing unless `end`); returns the answer once the server closes. */
  async function sendSlowly(head: string, first: string, more: { piece: string; everyMs: number; count: number; end?: string }) {
    const conn = await openRaw(lb.logbook.httpPort);
    conn.socket.write(head + first);
    let closed = false;
    void conn.closed.then(() => (closed = true));
    for (let i = 0; i < more.count && !closed; i++) {
      await sleep(more.everyMs);
      if (!closed) conn.socket.write(more.piece);
    }
    if (more.end !== undefined && !closed) conn.socket.write(more.end);
    await Promise.race([conn.closed, sleep(30_000)]);
    const answer = parseAnswer(conn.received(), closed);
    conn.socket.destroy();
    return answer;
  }

  const expectCut = (answer: ReturnType<typeof parseAnswer>) => {
    expect(answer.closed).toBe(true);
    expect(answer.status, answer.text.slice(0, 300)).toBe(408);
    expect(JSON.parse(answer.body)).toMatchObject({ error_code: "DEADLINE_EXCEEDED", message: expect.stringMatching(/request body/) });
  };

  // Every kind of route that reads a JSON body: an RPC binding, a hand-written MLflow route, GraphQL, a UI helper.
  it.each(["/api/2.0/mlflow/experiments/create", "/ajax-api/2.0/mlflow/runs/create-promptlab-run", "/graphql", "/ajax-api/3.0/mlflow/ui-telemetry"])(
    "cuts a chunked JSON body that never finishes (POST %s), creating nothing",
    async (path) => {
      const before = (await lb.tracking.getServerStatus({})).counts;
      const answer = await sendSlowly(
        `POST ${path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`,
        '9\r\n{"name": \r\n',
        { piece: "", everyMs: 1000, count: 0 },
      );
      expectCut(answer);
      expect((await lb.tracking.getServerStatus({})).counts).toEqual(before);
    },
  );

  it("cuts an artifact upload that stops sending, leaving nothing", async () => {
    const answer = await sendSlowly(
      `PUT ${PROXY}/${runRoot}/stalled.bin HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000000\r\n\r\n`,
      "x".repeat(10_000),
      { piece: "", everyMs: 1000, count: 0 },
    );
    expectCut(answer);
    expect(await listed()).not.toContain("stalled.bin");
    expect(await lb.logbook.artifacts.pendingUploads()).toBe(0);
  });

  it("cuts an upload that trickles below the minimum rate", async () => {
    const answer = await sendSlowly(
      `PUT ${PROXY}/${runRoot}/trickle.bin HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100000\r\n\r\n`,
      "x",
      { piece: "x", everyMs: 300, count: 100 },
    );
    expectCut(answer);
    expect(await listed()).not.toContain("trickle.bin");
  });

  it("lets a slow but steady upload through, however long it takes in total", async () => {
    const piece = "y".repeat(2048);
    const pieces = 20; // ~4 s at 10 KiB/s: twice the idle timeout, well above the minimum rate
    const answer = await sendSlowly(
      `PUT ${PROXY}/${runRoot}/steady.bin HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${piece.length * (pieces + 1)}\r\nConnection: close\r\n\r\n`,
      piece,
      { piece, everyMs: 200, count: pieces },
    );
    expect(answer.status, answer.text.slice(0, 300)).toBe(200);
    expect(await listed()).toContain("steady.bin");
  });

  it("cuts a gRPC upload stream that stops sending (DEADLINE_EXCEEDED), leaving nothing", async () => {
    const err = await new Promise<ServiceError | null>((resolve) => {
      const call = startUpload(artifacts.raw, (e) => resolve(e));
      call.write({ header: { runId, path: "grpc-stalled.bin" } });
      call.write({ chunk: Buffer.alloc(1000) });
      // …and nothing more, never ending the stream.
    });
    expect(err?.code).toBe(status.DEADLINE_EXCEEDED);
    expect(err?.details).toMatch(/request body/);
    expect(await listed()).not.toContain("grpc-stalled.bin");
    expect(await lb.logbook.artifacts.pendingUploads()).toBe(0);
  });

  it("closes an idle keep-alive connection", async () => {
    const conn = await openRaw(lb.logbook.httpPort);
    conn.socket.write("GET /health HTTP/1.1\r\nHost: localhost\r\n\r\n");
    const closed = await Promise.race([conn.closed.then(() => true), sleep(30_000).then(() => false)]);
    expect(parseAnswer(conn.received(), closed).status).toBe(200);
    expect(closed).toBe(true);
  });
});
