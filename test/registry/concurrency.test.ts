/**
 * The registry under concurrent writers from TWO Logbook processes sharing one database, on each store: MongoDB
 * (one database) and SQLite (one file, `--store sqlite:<file>`). No in-process lock can help here; only the store's
 * atomic version allocation and serialised stage transitions keep the answers right.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RegistryServiceService } from "../../gen/ts/logbook/v1/registry.js";
import { promiseClient, type PromiseClient } from "../harness/grpc.js";
import { spawnLogbook, tempDir, type LogbookProcess } from "../harness/logbook.js";
import { mongoTestUri } from "../harness/mongo.js";

type Registry = PromiseClient<typeof RegistryServiceService>;

const stores = [
  { kind: "mongodb", spec: () => ({ store: mongoTestUri("registry_conc"), cleanup: () => undefined }) },
  {
    kind: "sqlite",
    spec: () => {
      const dir = tempDir("logbook-registry-conc-");
      return { store: `sqlite:${dir.path}/shared.db`, dataDir: dir.path, cleanup: () => dir.remove() };
    },
  },
] as const;

describe.each(stores)("two Logbook processes on one $kind database", ({ spec }) => {
  const procs: LogbookProcess[] = [];
  const clients: Registry[] = [];
  let cleanup: () => void = () => {};
  /** The client for the i-th call: calls alternate between the two processes. */
  const via = (i: number) => clients[i % 2]!;

  beforeAll(async () => {
    const s = spec();
    cleanup = s.cleanup;
    const args = ["--store", s.store, ...("dataDir" in s ? ["--data-dir", s.dataDir] : [])];
    procs.push(...(await Promise.all([spawnLogbook(args), spawnLogbook(args)])));
    clients.push(...procs.map((p) => promiseClient(RegistryServiceService, p.address)));
  }, 120_000);
  afterAll(async () => {
    clients.forEach((c) => c.close());
    await Promise.all(procs.map((p) => p.stop()));
    cleanup();
  });

  it("100 concurrent CreateModelVersion calls get exactly the versions 1..100", async () => {
    const name = "concurrent-versions";
    await via(0).createRegisteredModel({ name, tags: [] });
    const created = await Promise.all(
      Array.from({ length: 100 }, (_, i) => via(i).createModelVersion({ name, source: `s3://bucket/model-${i}`, tags: [] })),
    );
    const numbers = created.map((c) => Number(c.modelVersion!.version)).sort((x, y) => x - y);
    expect(numbers).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    // Each number went to exactly one request: the stored version carries that request's source.
    for (const c of created) {
      const stored = await via(1).getModelVersion({ name, version: c.modelVersion!.version });
      expect(stored.modelVersion!.source).toBe(c.modelVersion!.source);
    }
    const details = await via(1).getModelDetails({ modelName: name });
    expect(details.modelVersions.map((v) => Number(v.version))).toEqual(Array.from({ length: 100 }, (_, i) => 100 - i));
    expect((await via(0).createModelVersion({ name, source: "s3://bucket/after", tags: [] })).modelVersion!.version).toBe("101");
  }, 180_000);

  it("20 concurrent promotions to Production with archive_existing_versions leave exactly one in Production", async () => {
    for (let round = 0; round < 3; round++) {
      const name = `concurrent-promotions-${round}`;
      await via(round).createRegisteredModel({ name, tags: [] });
      for (let i = 0; i < 20; i++) await via(i).createModelVersion({ name, source: `s3://bucket/m-${i}`, tags: [] });
      const promoted = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          i % 4 < 2
            ? via(i).promoteModelVersion({ name, version: String(i + 1), stage: "production", archiveExistingVersions: true })
            : via(i).transitionModelVersionStage({ name, version: String(i + 1), stage: "Production", archiveExistingVersions: true }),
        ),
      );
      expect(promoted.map((p) => p.modelVersion!.currentStage)).toEqual(Array(20).fill("Production"));
      const stages = (await via(round + 1).getModelDetails({ modelName: name })).modelVersions.map((v) => v.currentStage);
      expect(stages.filter((s) => s === "Production")).toHaveLength(1);
      expect(stages.filter((s) => s === "Archived")).toHaveLength(19);
      const latest = await via(round).getLatestVersions({ name, stages: ["Production"] });
      expect(latest.modelVersions).toHaveLength(1);
    }
  }, 180_000);
});
