/**
 * Stateless servers scale out: two Logbook processes on one MongoDB database. An in-process lock would
 * prove nothing here; only the store's single-document atomic operations keep the answers right.
 */
import { afterAll, describe, expect, it } from "vitest";
import { TrackingServiceService } from "../../gen/ts/logbook/v1/tracking_service.js";
import { compareMetricRecency, type Metric } from "../../src/domain/entities.js";
import { promiseClient, type PromiseClient } from "../harness/grpc.js";
import { spawnLogbook, type LogbookProcess } from "../harness/logbook.js";
import { mongoTestUri } from "../harness/mongo.js";

type Tracking = PromiseClient<typeof TrackingServiceService>;

describe("two Logbook processes sharing one MongoDB database", () => {
  const procs: LogbookProcess[] = [];
  const clients: Tracking[] = [];
  afterAll(async () => {
    clients.forEach((c) => c.close());
    await Promise.all(procs.map((p) => p.stop()));
  });

  it("start at once on an empty database with one Default experiment, and lose no concurrent metric point", async () => {
    const store = mongoTestUri("scaleout");
    procs.push(...(await Promise.all([spawnLogbook(["--store", store]), spawnLogbook(["--store", store])])));
    clients.push(...procs.map((p) => promiseClient(TrackingServiceService, p.address)));
    const [a, b] = clients as [Tracking, Tracking];

    const { experiment } = await b.getExperimentByName({ experimentName: "Default" });
    expect(experiment?.experimentId).toBe("0");
    const first = await a.createExperiment({ name: "from-a", artifactLocation: "", tags: [] });
    const second = await b.createExperiment({ name: "from-b", artifactLocation: "", tags: [] });
    expect(Number(second.experimentId)).toBe(Number(first.experimentId) + 1);

    const { run } = await a.createRun({ experimentId: first.experimentId, userId: "", runName: "shared", tags: [] });
    const runId = run!.info!.runId;

    // 20 writers, split across the two servers, 1,000 distinct points each, all at once.
    const all: Metric[] = [];
    const writes = Array.from({ length: 20 }, (_, w) => {
      const metrics = Array.from({ length: 1000 }, (_, i) => {
        const key = `k${i % 5}`;
        // Steps and timestamps collide across writers (so "latest" is decided by all three of step,
        // timestamp and value); values make every point distinct.
        const m: Metric = { key, value: w * 1000 + i, timestamp: 1_000 + (w % 3), step: Math.floor(i / 5) % 50 };
        all.push(m);
        return m;
      });
      const client = w % 2 === 0 ? a : b;
      return client.logBatch({
        runId,
        metrics: metrics.map((m) => ({ key: m.key, value: m.value, timestamp: BigInt(m.timestamp), step: BigInt(m.step), runId: "" })),
        params: [],
        tags: [],
      });
    });
    await Promise.all(writes);

    let stored = 0;
    for (const key of ["k0", "k1", "k2", "k3", "k4"]) {
      const history = await b.getMetricHistory({ runId, runUuid: "", metricKey: key, pageToken: "" });
      stored += history.metrics.length;
    }
    expect(stored).toBe(20_000);

    const latest = new Map<string, Metric>();
    for (const m of all) {
      const cur = latest.get(m.key);
      if (!cur || compareMetricRecency(m, cur) > 0) latest.set(m.key, m);
    }
    const got = (await a.getRun({ runId, runUuid: "" })).run!.data!.metrics;
    expect(
      Object.fromEntries(got.map((m) => [m.key, [m.value, Number(m.timestamp), Number(m.step)]])),
    ).toEqual(Object.fromEntries([...latest.values()].map((m) => [m.key, [m.value, m.timestamp, m.step]])));
  }, 300_000); // 20,000 points through FerretDB, a slow correctness stand-in
});
