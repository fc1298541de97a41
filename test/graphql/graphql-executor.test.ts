/**
 * The executor over the real services on a SQLite store: a page of runs asks for its runs' experiments and model
 * versions once per request, not once per run; a resolver's unexpected failure is logged, and answered without its
 * internals.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { sqliteBackend } from "../harness/sqlite-backend.js";
import { openArtifactRoots, type OpenedArtifactRoots } from "../../src/artifacts/open.js";
import { createServices } from "../../src/server/services.js";
import { implementationOf, type CallContext } from "../../src/services/rpc.js";
import type { Store } from "../../src/store/types.js";
import { ArtifactServiceService } from "../../gen/ts/logbook/v1/artifact_service.js";
import { SearchServiceService } from "../../gen/ts/logbook/v1/search_service.js";
import { TrackingServiceService } from "../../gen/ts/logbook/v1/tracking_service.js";
import { createGraphqlExecutor } from "../../src/graphql/graphql-executor.js";
import { CallValues } from "../../src/services/call-values.js";
import type { GraphqlServices } from "../../src/graphql/resolvers.js";
import { createWatchHub } from "../../src/services/watch/watch-hub.js";

const logger = pino({ level: "silent" });
const call: CallContext = { signal: new AbortController().signal, logger, values: new CallValues() };
const limits = { maxRootFields: 10, maxAliases: 10 };

describe("GraphQL executor", () => {
  let store: Store;
  let artifacts: OpenedArtifactRoots;
  let dir: string;
  let services: GraphqlServices;
  const calls = { getExperiment: 0, searchModelVersions: 0 };

  beforeEach(async () => {
    store = await sqliteBackend.open();
    await store.init();
    dir = mkdtempSync(join(tmpdir(), "logbook-gql-"));
    artifacts = await openArtifactRoots({ artifactsDestination: undefined, defaultArtifactRoot: undefined, serveArtifacts: true, storeSpec: "sqlite:", dataDir: dir });
    const runtime = { version: "0", startedAt: 0, storeReachable: () => true, ports: () => ({}) };
    const registered = createServices({ store, roots: artifacts.roots, logger, runtime, watch: createWatchHub({ store, logger }) });
    const tracking = implementationOf(registered, TrackingServiceService)!;
    const search = implementationOf(registered, SearchServiceService)!;
    calls.getExperiment = 0;
    calls.searchModelVersions = 0;
    services = {
      tracking: { getRun: tracking.getRun, getExperiment: (req, ctx) => (calls.getExperiment++, tracking.getExperiment(req, ctx)) },
      search: { ...search, searchModelVersions: (req, ctx) => (calls.searchModelVersions++, search.searchModelVersions(req, ctx)) },
      artifacts: implementationOf(registered, ArtifactServiceService) as never,
    };
  });
  afterEach(async () => {
    await artifacts.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("reads each experiment once and the model versions of a whole page in one search", async () => {
    const experiments = [
      await store.createExperiment({ name: "a", tags: [], now: 1 }),
      await store.createExperiment({ name: "b", tags: [], now: 1 }),
    ];
    const runIds: string[] = [];
    for (let i = 0; i < 12; i++) {
      const runId = i.toString(16).padStart(32, "0");
      await store.createRun({ runId, experimentId: experiments[i % 2]!, userId: "u", runName: `r${i}`, startTime: i, tags: [] });
      runIds.push(runId);
    }
    await store.createRegisteredModel({ name: "m", description: "", userId: "u", tags: [], now: 1 });
    for (const runId of [runIds[3]!, runIds[3]!, runIds[8]!]) {
      await store.createModelVersion({ name: "m", source: `runs:/${runId}/model`, runId, runLink: "", description: "", userId: "u", tags: [], now: 1 } as never);
    }
    const execute = createGraphqlExecutor({ services, limits, logger });
    const { data, errors } = await execute(
      { query: `mutation { mlflowSearchRuns(input: {experimentIds: ["${experiments[0]}", "${experiments[1]}"]}) { runs { info { runName } experiment { name } modelVersions { version } } } }` },
      call,
    );
    expect(errors).toBeNull();
    const runs = (data as any).mlflowSearchRuns.runs as { info: { runName: string }; experiment: { name: string }; modelVersions: { version: string }[] }[];
    expect(runs).toHaveLength(12);
    expect(runs.find((r) => r.info.runName === "r3")?.modelVersions.map((v) => v.version).sort()).toEqual(["1", "2"]);
    expect(runs.find((r) => r.info.runName === "r8")?.modelVersions).toEqual([{ version: "3" }]);
    expect(runs.find((r) => r.info.runName === "r5")).toMatchObject({ experiment: { name: "b" }, modelVersions: [] });
    expect(calls).toEqual({ getExperiment: 2, searchModelVersions: 1 });
  });

  it("answers an unexpected resolver failure 'Internal error' and logs it", async () => {
    const logged: unknown[] = [];
    const spy = pino({ level: "error" }, { write: (line: string) => void logged.push(JSON.parse(line)) });
    const broken: GraphqlServices = { ...services, tracking: { ...services.tracking, getRun: () => Promise.reject(new Error("disk on fire: /var/secret")) } };
    const execute = createGraphqlExecutor({ services: broken, limits, logger });
    const result = await execute({ query: '{ mlflowGetRun(input: {runId: "x"}) { run { info { runId } } } }' }, { ...call, logger: spy });
    expect(result).toEqual({ data: { mlflowGetRun: null }, errors: ["Internal error"] });
    expect(JSON.stringify(logged)).toContain("disk on fire");
  });
});
