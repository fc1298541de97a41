/**
 * Logbook against a MongoDB-wire server that goes away: health follows the store, data survives a
 * database restart, and a graceful shutdown finishes the call that was in flight when SIGTERM came.
 * Each case runs its own FerretDB so it can stop or freeze it (MONGODB_URI cannot be stopped).
 */
import { status } from "@grpc/grpc-js";
import { afterEach, describe, expect, it } from "vitest";
import { startFerretDB, type FerretDBHandle } from "../../scripts/ferretdb.mjs";
import { TrackingServiceService } from "../../gen/ts/logbook/v1/tracking_service.js";
import { HealthCheckClient } from "../harness/health.js";
import { promiseClient } from "../harness/grpc.js";
import { spawnLogbook, startTestLogbook, type LogbookProcess, type TestLogbook } from "../harness/logbook.js";

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("a server whose MongoDB goes away", () => {
  let ferret: FerretDBHandle | undefined;
  let lb: TestLogbook | undefined;
  let proc: LogbookProcess | undefined;
  afterEach(async () => {
    ferret?.resume();
    await proc?.stop();
    await lb?.close();
    await ferret?.stop();
    ferret = undefined;
    lb = undefined;
    proc = undefined;
  });

  it("turns NOT_SERVING while the database is down and SERVING again, with the data intact", async () => {
    ferret = await startFerretDB();
    lb = await startTestLogbook("mongodb", { store: `${ferret.uri}logbook_health` });
    const health = new HealthCheckClient(lb.address);
    try {
      expect(await health.check("")).toBe("SERVING");
      const { experimentId } = await lb.tracking.createExperiment({ name: "survives", artifactLocation: "", tags: [] });

      await ferret.kill();
      await until("NOT_SERVING", async () => (await health.check("")) === "NOT_SERVING");
      expect(await health.check("logbook.v1.TrackingService")).toBe("NOT_SERVING");
      const degraded = await lb.tracking.getServerStatus({});
      expect(degraded).toMatchObject({ status: "degraded", store: { kind: "mongodb", reachable: false } });
      expect(degraded.counts).toBeUndefined();
      expect((await fetch(`${lb.httpUrl}/readyz`)).status).toBe(503);
      expect(await (await fetch(`${lb.httpUrl}/mlflow/status`)).json()).toMatchObject({
        status: "degraded",
        store: { kind: "mongodb", reachable: false },
      });
      expect((await fetch(`${lb.httpUrl}/health`)).status).toBe(200); // liveness: the process is fine

      await ferret.restart();
      await until("SERVING", async () => (await health.check("")) === "SERVING");
      const { experiment } = await lb.tracking.getExperiment({ experimentId });
      expect(experiment?.name).toBe("survives");
      expect(await lb.tracking.getServerStatus({})).toMatchObject({ status: "ok", store: { reachable: true } });
    } finally {
      health.close();
    }
  });

  it("finishes an in-flight call on SIGTERM, refuses new ones, and exits 0", async () => {
    ferret = await startFerretDB();
    proc = await spawnLogbook(["--store", `${ferret.uri}logbook_shutdown`, "--shutdown-timeout-s", "60"]);
    const client = promiseClient(TrackingServiceService, proc.address);
    try {
      const { run } = await client.createRun({ experimentId: "0", userId: "", runName: "in-flight", tags: [] });
      const runId = run!.info!.runId;

      ferret.pause(); // nothing the server sends to the database is answered now
      const inFlight = client.logBatch({
        runId,
        metrics: [{ key: "m", value: 1, timestamp: 1n, step: 0n, runId: "" }],
        params: [],
        tags: [],
      });
      await new Promise((r) => setTimeout(r, 500)); // the call has reached the server and waits on the database
      proc.child.kill("SIGTERM");
      await new Promise((r) => setTimeout(r, 500));

      const late = promiseClient(TrackingServiceService, proc.address);
      await expect(late.getExperiment({ experimentId: "0" })).rejects.toMatchObject({ code: status.UNAVAILABLE });
      late.close();
      expect(proc.child.exitCode).toBeNull(); // still waiting for the in-flight call

      ferret.resume();
      await expect(inFlight).resolves.toEqual({});
      expect(await proc.exited).toBe(0);
    } finally {
      client.close();
    }
  });
});
