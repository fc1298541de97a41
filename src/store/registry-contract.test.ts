/**
 * The model registry's conformance suite (RegistryStore in src/store/types.ts is the contract): the same cases against
 * every backend, each on a fresh database per test.
 */
import { randomBytes } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { STORE_BACKENDS } from "../../test/harness/store-backends.js";
import type { Tag } from "../domain/entities.js";
import { AppError } from "../domain/errors.js";
import type { ModelVersion, Stage } from "../domain/model-registry.js";
import {
  aliasNotFound,
  modelVersionNotFound,
  registeredModelExists,
  registeredModelNotFound,
} from "../domain/registry-messages.js";
import { parseModelVersionFilter, parseModelVersionOrderBy } from "../domain/filter/model-version-search.js";
import { parseRegisteredModelFilter, parseRegisteredModelOrderBy } from "../domain/filter/registered-model-search.js";
import type { NewModelVersion, Store } from "./types.js";

const backends = STORE_BACKENDS;

const NOW = 1_700_000_000_000;
const newRunId = () => randomBytes(16).toString("hex");
const byKey = (tags: Tag[]) => [...tags].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
const versionsOf = (versions: ModelVersion[]) => versions.map((v) => v.version);

async function expectError(promise: Promise<unknown>, expected: AppError): Promise<void> {
  const err = await promise.then(
    () => {
      throw new Error(`expected ${expected.code}, but the call succeeded`);
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AppError);
  const appError = err as AppError;
  expect({ code: appError.code, message: appError.message }).toEqual({ code: expected.code, message: expected.message });
}

describe.each(backends)("Registry contract: $name", (backend) => {
  const opened: Store[] = [];
  let store: Store;

  async function openStore(): Promise<Store> {
    const s = await backend.open();
    opened.push(s);
    await s.init();
    return s;
  }

  async function secondStore(): Promise<Store> {
    const s = await backend.openSameDatabase(store);
    opened.push(s);
    await s.init();
    return s;
  }

  const createModel = (name: string, fields: { description?: string; tags?: Tag[]; now?: number } = {}) =>
    store.createRegisteredModel({ name, description: fields.description ?? "", userId: "ada", tags: fields.tags ?? [], now: fields.now ?? NOW });

  const newVersion = (name: string, fields: Partial<NewModelVersion> = {}): NewModelVersion => ({
    name,
    source: "mlflow-artifacts:/0/abc/artifacts/model",
    runId: "",
    runLink: "",
    description: "",
    userId: "ada",
    tags: [],
    now: NOW,
    ...fields,
  });

  const createVersion = (name: string, fields: Partial<NewModelVersion> = {}, on: Store = store) =>
    on.createModelVersion(newVersion(name, fields));

  /** Every registered model matching `filter` (MLflow's language), by name. */
  const searchModels = async (filter = "") =>
    (await store.searchRegisteredModels({ filter: parseRegisteredModelFilter(filter), order: parseRegisteredModelOrderBy([]) }, { maxResults: 1000 })).items;
  /** Every model version matching `filter`, by name then version. */
  const searchVersions = async (filter = "") =>
    (await store.searchModelVersions({ filter: parseModelVersionFilter(filter), order: parseModelVersionOrderBy(["name", "version_number"]) }, { maxResults: 1000 }))
      .items;

  beforeEach(async () => {
    store = await openStore();
  });

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
  });

  describe("registered models", () => {
    it("creates a model and reads it back whole", async () => {
      const tags = [
        { key: "team", value: "vision" },
        { key: "a.b c", value: "" },
      ];
      const created = await createModel("fraud/model: v", { description: "first", tags });
      const expected = {
        name: "fraud/model: v",
        creationTimestamp: NOW,
        lastUpdatedTimestamp: NOW,
        userId: "ada",
        description: "first",
        latestVersions: [],
        aliases: [],
      };
      expect({ ...created, tags: byKey(created.tags) }).toEqual({ ...expected, tags: byKey(tags) });
      const read = await store.getRegisteredModel("fraud/model: v");
      expect({ ...read, tags: byKey(read.tags) }).toEqual({ ...expected, tags: byKey(tags) });
    });

    it("refuses a taken name and answers RESOURCE_DOES_NOT_EXIST for an unknown one", async () => {
      await createModel("m");
      await expectError(createModel("m"), registeredModelExists("m"));
      await expectError(store.getRegisteredModel("nope"), registeredModelNotFound("nope"));
      // Names are case-sensitive.
      await createModel("M");
      expect((await searchModels()).map((m) => m.name)).toEqual(["M", "m"]);
    });

    it("updates the description and the last-updated time", async () => {
      await createModel("m", { description: "old" });
      const updated = await store.updateRegisteredModel("m", "new", NOW + 5);
      expect(updated).toMatchObject({ name: "m", description: "new", creationTimestamp: NOW, lastUpdatedTimestamp: NOW + 5 });
      expect(await store.getRegisteredModel("m")).toEqual(updated);
      await expectError(store.updateRegisteredModel("nope", "x", NOW), registeredModelNotFound("nope"));
    });

    it("renames a model; its versions, tags and aliases follow", async () => {
      await createModel("old", { tags: [{ key: "k", value: "v" }] });
      await createVersion("old");
      await createVersion("old");
      await store.setModelVersionTag("old", 2, { key: "vk", value: "vv" });
      await store.setRegisteredModelAlias("old", "champion", 2, NOW);
      await store.transitionModelVersionStage("old", 1, "Production", false, NOW);

      const renamed = await store.renameRegisteredModel("old", "new", NOW + 7);
      expect(renamed).toMatchObject({ name: "new", lastUpdatedTimestamp: NOW + 7, tags: [{ key: "k", value: "v" }] });
      expect(renamed.aliases).toEqual([{ alias: "champion", version: 2 }]);
      expect(renamed.latestVersions.map((v) => [v.name, v.version, v.currentStage])).toEqual([
        ["new", 2, "None"],
        ["new", 1, "Production"],
      ]);
      expect(await store.getRegisteredModel("new")).toEqual(renamed);

      const version = await store.getModelVersion("new", 2);
      expect(version).toMatchObject({ name: "new", version: 2, tags: [{ key: "vk", value: "vv" }], aliases: ["champion"] });
      expect(await store.getModelVersionByAlias("new", "champion")).toEqual(version);
      expect(versionsOf(await store.listModelVersionsOf("new"))).toEqual([2, 1]);
      expect(versionsOf(await searchVersions("name = 'new'"))).toEqual([1, 2]);
      expect(await searchVersions("name LIKE 'old%'")).toEqual([]);
      expect((await searchVersions("name = 'new' and version_number = 2"))[0]).toEqual(version);

      await expectError(store.getRegisteredModel("old"), registeredModelNotFound("old"));
      await expectError(store.getModelVersion("old", 1), modelVersionNotFound("old", 1));
      // The old name is free again, and its numbering starts afresh.
      await createModel("old");
      expect((await createVersion("old")).version).toBe(1);
      expect((await createVersion("new")).version).toBe(3);
    });

    it("refuses to rename onto a taken name or an unknown model", async () => {
      await createModel("a");
      await createModel("b");
      await createVersion("a");
      await expectError(store.renameRegisteredModel("a", "b", NOW), registeredModelExists("b"));
      expect(versionsOf(await store.listModelVersionsOf("a"))).toEqual([1]);
      expect(await store.listModelVersionsOf("b")).toEqual([]);
      await expectError(store.renameRegisteredModel("nope", "c", NOW), registeredModelNotFound("nope"));
    });

    it("deletes a model with its versions, tags and aliases; the name then starts again at version 1", async () => {
      await createModel("m", { tags: [{ key: "k", value: "v" }] });
      await createVersion("m", { tags: [{ key: "vk", value: "vv" }] });
      await createVersion("m");
      await store.setRegisteredModelAlias("m", "champion", 1, NOW);
      await createModel("other");
      await createVersion("other");

      await store.deleteRegisteredModel("m");
      await expectError(store.getRegisteredModel("m"), registeredModelNotFound("m"));
      await expectError(store.getModelVersion("m", 1), modelVersionNotFound("m", 1));
      await expectError(store.deleteRegisteredModel("m"), registeredModelNotFound("m"));
      expect(await searchVersions("name = 'm'")).toEqual([]);
      expect((await searchVersions()).map((v) => v.name)).toEqual(["other"]);
      expect((await searchModels()).map((m) => m.name)).toEqual(["other"]);

      const again = await createModel("m");
      expect(again).toMatchObject({ tags: [], aliases: [], latestVersions: [] });
      const first = await createVersion("m");
      expect(first).toMatchObject({ version: 1, tags: [], aliases: [] });
      await expectError(store.getModelVersionByAlias("m", "champion"), aliasNotFound("m", "champion"));
      expect(versionsOf(await store.listModelVersionsOf("other"))).toEqual([1]);
    });

    it("upserts and deletes tags; deleting a tag that is not set is no error", async () => {
      await createModel("m", { tags: [{ key: "a", value: "1" }] });
      await store.setRegisteredModelTag("m", { key: "b", value: "2" });
      await store.setRegisteredModelTag("m", { key: "a", value: "changed" });
      expect(byKey((await store.getRegisteredModel("m")).tags)).toEqual([
        { key: "a", value: "changed" },
        { key: "b", value: "2" },
      ]);
      await store.deleteRegisteredModelTag("m", "a");
      await store.deleteRegisteredModelTag("m", "never set");
      expect((await store.getRegisteredModel("m")).tags).toEqual([{ key: "b", value: "2" }]);
      await expectError(store.setRegisteredModelTag("nope", { key: "a", value: "1" }), registeredModelNotFound("nope"));
      await expectError(store.deleteRegisteredModelTag("nope", "a"), registeredModelNotFound("nope"));
    });

    it("keeps the highest-numbered version of each stage as latest, ordered None, Staging, Production, Archived", async () => {
      await createModel("m");
      for (let i = 0; i < 7; i++) await createVersion("m");
      await store.transitionModelVersionStage("m", 1, "Archived", false, NOW);
      await store.transitionModelVersionStage("m", 2, "Production", false, NOW);
      await store.transitionModelVersionStage("m", 3, "Production", false, NOW);
      await store.transitionModelVersionStage("m", 4, "Staging", false, NOW);
      await store.transitionModelVersionStage("m", 5, "Archived", false, NOW);
      // 6 and 7 stay in None.
      const latest = (await store.getRegisteredModel("m")).latestVersions;
      expect(latest.map((v) => [v.currentStage, v.version])).toEqual([
        ["None", 7],
        ["Staging", 4],
        ["Production", 3],
        ["Archived", 5],
      ]);
      expect(latest[0]).toEqual(await store.getModelVersion("m", 7));

      await store.deleteModelVersion("m", 4, NOW);
      await store.deleteModelVersion("m", 7, NOW);
      expect((await store.getRegisteredModel("m")).latestVersions.map((v) => [v.currentStage, v.version])).toEqual([
        ["None", 6],
        ["Production", 3],
        ["Archived", 5],
      ]);
    });

    it("getLatestVersions answers the given stages, or every stage, ordered by stage", async () => {
      await createModel("m");
      for (let i = 0; i < 4; i++) await createVersion("m");
      await store.transitionModelVersionStage("m", 1, "Production", false, NOW);
      await store.transitionModelVersionStage("m", 2, "Staging", false, NOW);
      await store.transitionModelVersionStage("m", 3, "Production", false, NOW);
      const latest = (stages: Stage[]) => store.getLatestVersions("m", stages).then((vs) => vs.map((v) => [v.currentStage, v.version]));
      expect(await latest([])).toEqual([
        ["None", 4],
        ["Staging", 2],
        ["Production", 3],
      ]);
      expect(await latest(["Production", "None"])).toEqual([
        ["None", 4],
        ["Production", 3],
      ]);
      expect(await latest(["Archived"])).toEqual([]);
      const [production] = await store.getLatestVersions("m", ["Production"]);
      expect(production).toEqual(await store.getModelVersion("m", 3));
      await expectError(store.getLatestVersions("nope", []), registeredModelNotFound("nope"));
      await createModel("empty");
      expect(await store.getLatestVersions("empty", [])).toEqual([]);
    });
  });

  describe("model versions", () => {
    it("creates versions 1, 2, 3 and reads them back whole", async () => {
      await createModel("m");
      const runId = newRunId();
      const tags = [
        { key: "k", value: "v" },
        { key: "a", value: "" },
      ];
      const created = await createVersion("m", {
        source: "runs:/x/model",
        runId,
        runLink: "http://link",
        description: "desc",
        userId: "bob",
        tags,
        now: NOW + 1,
      });
      const expected = {
        name: "m",
        version: 1,
        creationTimestamp: NOW + 1,
        lastUpdatedTimestamp: NOW + 1,
        userId: "bob",
        currentStage: "None",
        description: "desc",
        source: "runs:/x/model",
        runId,
        runLink: "http://link",
        status: "READY",
        aliases: [],
      };
      expect({ ...created, tags: byKey(created.tags) }).toEqual({ ...expected, tags: byKey(tags) });
      const read = await store.getModelVersion("m", 1);
      expect({ ...read, tags: byKey(read.tags) }).toEqual({ ...expected, tags: byKey(tags) });
      expect(read.modelId).toBeUndefined();
      expect(read.storageLocation).toBeUndefined();

      expect((await createVersion("m")).version).toBe(2);
      expect((await createVersion("m")).version).toBe(3);
      expect(versionsOf(await store.listModelVersionsOf("m"))).toEqual([3, 2, 1]);
    });

    it("keeps a version's logged model and storage location", async () => {
      await createModel("m");
      const modelId = `m-${randomBytes(16).toString("hex")}`;
      const storageLocation = `mlflow-artifacts:/0/models/${modelId}/artifacts`;
      const created = await createVersion("m", { source: `models:/${modelId}`, modelId, storageLocation });
      expect(created).toMatchObject({ modelId, storageLocation, source: `models:/${modelId}` });
      expect(await store.getModelVersion("m", 1)).toEqual(created);
    });

    it("numbers versions per model and moves the model's last-updated time", async () => {
      await createModel("a");
      await createModel("b");
      expect((await createVersion("a")).version).toBe(1);
      expect((await createVersion("b")).version).toBe(1);
      expect((await createVersion("a", { now: NOW + 9 })).version).toBe(2);
      expect((await store.getRegisteredModel("a")).lastUpdatedTimestamp).toBe(NOW + 9);
      expect((await store.getRegisteredModel("b")).lastUpdatedTimestamp).toBe(NOW);
    });

    it("never reuses the number of a deleted version", async () => {
      await createModel("m");
      await createVersion("m");
      await createVersion("m");
      await createVersion("m");
      await store.deleteModelVersion("m", 3, NOW);
      await store.deleteModelVersion("m", 2, NOW);
      expect((await createVersion("m")).version).toBe(4);
      expect(versionsOf(await store.listModelVersionsOf("m"))).toEqual([4, 1]);
      await store.deleteModelVersion("m", 4, NOW);
      await store.deleteModelVersion("m", 1, NOW);
      expect(await store.listModelVersionsOf("m")).toEqual([]);
      expect((await createVersion("m")).version).toBe(5);
    });

    it("refuses a version of an unknown model, and unknown or deleted versions", async () => {
      await expectError(createVersion("nope"), registeredModelNotFound("nope"));
      await createModel("m");
      await createVersion("m");
      // As in MLflow, a version of an unknown model is an unknown version.
      await expectError(store.getModelVersion("nope", 1), modelVersionNotFound("nope", 1));
      await expectError(store.getModelVersion("m", 2), modelVersionNotFound("m", 2));
      await store.deleteModelVersion("m", 1, NOW);
      const gone = modelVersionNotFound("m", 1);
      await expectError(store.getModelVersion("m", 1), gone);
      await expectError(store.deleteModelVersion("m", 1, NOW), gone);
      await expectError(store.updateModelVersion("m", 1, "x", NOW), gone);
      await expectError(store.setModelVersionTag("m", 1, { key: "k", value: "v" }), gone);
      await expectError(store.deleteModelVersionTag("m", 1, "k"), gone);
      await expectError(store.transitionModelVersionStage("m", 1, "Staging", false, NOW), gone);
      await expectError(store.setRegisteredModelAlias("m", "a", 1, NOW), gone);
      await expectError(store.listModelVersionsOf("nope"), registeredModelNotFound("nope"));
      const unknown = modelVersionNotFound("nope", 1);
      await expectError(store.updateModelVersion("nope", 1, "x", NOW), unknown);
      await expectError(store.deleteModelVersion("nope", 1, NOW), unknown);
      await expectError(store.setModelVersionTag("nope", 1, { key: "k", value: "v" }), unknown);
      await expectError(store.deleteModelVersionTag("nope", 1, "k"), unknown);
      await expectError(store.transitionModelVersionStage("nope", 1, "Staging", true, NOW), unknown);
    });

    it("deleting a version moves the model's last-updated time and leaves the other versions", async () => {
      await createModel("m");
      await createVersion("m");
      await createVersion("m");
      await store.deleteModelVersion("m", 1, NOW + 3);
      expect((await store.getRegisteredModel("m")).lastUpdatedTimestamp).toBe(NOW + 3);
      expect((await store.getModelVersion("m", 2)).version).toBe(2);
    });

    it("updates the description and the version's last-updated time", async () => {
      await createModel("m");
      await createVersion("m", { description: "old" });
      await createVersion("m", { description: "other" });
      const updated = await store.updateModelVersion("m", 1, "new", NOW + 4);
      expect(updated).toMatchObject({ version: 1, description: "new", creationTimestamp: NOW, lastUpdatedTimestamp: NOW + 4 });
      expect(await store.getModelVersion("m", 1)).toEqual(updated);
      expect((await store.getModelVersion("m", 2)).description).toBe("other");
    });

    it("upserts and deletes version tags; deleting a tag that is not set is no error", async () => {
      await createModel("m");
      await createVersion("m", { tags: [{ key: "a", value: "1" }] });
      await createVersion("m");
      await store.setModelVersionTag("m", 1, { key: "b", value: "2" });
      await store.setModelVersionTag("m", 1, { key: "a", value: "changed" });
      expect(byKey((await store.getModelVersion("m", 1)).tags)).toEqual([
        { key: "a", value: "changed" },
        { key: "b", value: "2" },
      ]);
      expect((await store.getModelVersion("m", 2)).tags).toEqual([]);
      await store.deleteModelVersionTag("m", 1, "a");
      await store.deleteModelVersionTag("m", 1, "never set");
      expect((await store.getModelVersion("m", 1)).tags).toEqual([{ key: "b", value: "2" }]);
    });

    it("transitions stages, archiving the others in the stage only when asked", async () => {
      await createModel("m");
      for (let i = 0; i < 4; i++) await createVersion("m");
      await store.transitionModelVersionStage("m", 1, "Production", false, NOW);
      await store.transitionModelVersionStage("m", 2, "Production", false, NOW);
      await store.transitionModelVersionStage("m", 3, "Staging", false, NOW);
      const stages = async () => (await store.listModelVersionsOf("m")).map((v) => [v.version, v.currentStage]);
      expect(await stages()).toEqual([
        [4, "None"],
        [3, "Staging"],
        [2, "Production"],
        [1, "Production"],
      ]);

      const promoted = await store.transitionModelVersionStage("m", 4, "Production", true, NOW + 8);
      expect(promoted).toMatchObject({ version: 4, currentStage: "Production", lastUpdatedTimestamp: NOW + 8 });
      expect(await store.getModelVersion("m", 4)).toEqual(promoted);
      expect(await stages()).toEqual([
        [4, "Production"],
        [3, "Staging"],
        [2, "Archived"],
        [1, "Archived"],
      ]);
      expect((await store.getRegisteredModel("m")).lastUpdatedTimestamp).toBe(NOW + 8);

      // Back to None, and a transition to the stage a version is already in.
      await store.transitionModelVersionStage("m", 3, "None", false, NOW);
      await store.transitionModelVersionStage("m", 4, "Production", true, NOW);
      expect(await stages()).toEqual([
        [4, "Production"],
        [3, "None"],
        [2, "Archived"],
        [1, "Archived"],
      ]);
    });

    it("lists a model's versions newest first, and versions by names, runs, both or neither", async () => {
      const [runA, runB] = [newRunId(), newRunId()];
      await createModel("a");
      await createModel("b");
      await createModel("c");
      await createVersion("a", { runId: runA });
      await createVersion("a", { runId: runB });
      await createVersion("a");
      await createVersion("b", { runId: runA });
      await createVersion("c", { runId: runB });
      await store.deleteModelVersion("a", 3, NOW);
      const ids = (versions: ModelVersion[]) => versions.map((v) => `${v.name}/${v.version}`).sort();

      expect(versionsOf(await store.listModelVersionsOf("a"))).toEqual([2, 1]);
      expect(ids(await searchVersions())).toEqual(["a/1", "a/2", "b/1", "c/1"]);
      expect(ids(await searchVersions("name IN ('a', 'c', 'unknown')"))).toEqual(["a/1", "a/2", "c/1"]);
      expect(ids(await searchVersions(`run_id = '${runA}'`))).toEqual(["a/1", "b/1"]);
      expect(ids(await store.modelVersionsOfRuns([runA]))).toEqual(["a/1", "b/1"]);
      expect(ids(await searchVersions(`name IN ('a', 'c') and run_id = '${runB}'`))).toEqual(["a/2", "c/1"]);
      expect(ids(await searchVersions(`name = 'b' and run_id = '${runB}'`))).toEqual([]);
      expect(await store.modelVersionsOfRuns([newRunId()])).toEqual([]);
      expect(await store.modelVersionsOfRuns([])).toEqual([]);

      await store.setModelVersionTag("a", 1, { key: "k", value: "v" });
      await store.setRegisteredModelAlias("a", "champion", 1, NOW);
      const [listed] = await searchVersions(`name = 'a' and run_id = '${runA}'`);
      expect(listed).toEqual(await store.getModelVersion("a", 1));
      expect(listed).toMatchObject({ tags: [{ key: "k", value: "v" }], aliases: ["champion"] });
    });
  });

  describe("aliases", () => {
    it("sets, moves and deletes aliases; the model and its versions show them sorted", async () => {
      await createModel("m");
      for (let i = 0; i < 3; i++) await createVersion("m");
      await store.setRegisteredModelAlias("m", "zeta", 1, NOW);
      await store.setRegisteredModelAlias("m", "champion", 1, NOW);
      await store.setRegisteredModelAlias("m", "challenger", 2, NOW);
      expect((await store.getRegisteredModel("m")).aliases).toEqual([
        { alias: "challenger", version: 2 },
        { alias: "champion", version: 1 },
        { alias: "zeta", version: 1 },
      ]);
      expect((await store.getModelVersion("m", 1)).aliases).toEqual(["champion", "zeta"]);
      expect((await store.getModelVersion("m", 2)).aliases).toEqual(["challenger"]);
      expect(await store.getModelVersionByAlias("m", "champion")).toEqual(await store.getModelVersion("m", 1));

      await store.setRegisteredModelAlias("m", "champion", 3, NOW);
      expect((await store.getModelVersion("m", 1)).aliases).toEqual(["zeta"]);
      expect((await store.getModelVersion("m", 3)).aliases).toEqual(["champion"]);
      expect((await store.getModelVersionByAlias("m", "champion")).version).toBe(3);

      await store.deleteRegisteredModelAlias("m", "zeta", NOW);
      await store.deleteRegisteredModelAlias("m", "never set", NOW);
      expect((await store.getModelVersion("m", 1)).aliases).toEqual([]);
      expect((await store.getRegisteredModel("m")).aliases).toEqual([
        { alias: "challenger", version: 2 },
        { alias: "champion", version: 3 },
      ]);
      await expectError(store.getModelVersionByAlias("m", "zeta"), aliasNotFound("m", "zeta"));
    });

    it("keeps aliases per model", async () => {
      await createModel("a");
      await createModel("b");
      await createVersion("a");
      await createVersion("b");
      await createVersion("b");
      await store.setRegisteredModelAlias("a", "champion", 1, NOW);
      await store.setRegisteredModelAlias("b", "champion", 2, NOW);
      expect((await store.getModelVersionByAlias("a", "champion")).name).toBe("a");
      expect((await store.getModelVersionByAlias("b", "champion")).version).toBe(2);
      await store.deleteRegisteredModelAlias("a", "champion", NOW);
      expect((await store.getModelVersionByAlias("b", "champion")).version).toBe(2);
    });

    it("deleting a version deletes the aliases pointing at it", async () => {
      await createModel("m");
      await createVersion("m");
      await createVersion("m");
      await store.setRegisteredModelAlias("m", "champion", 1, NOW);
      await store.setRegisteredModelAlias("m", "challenger", 2, NOW);
      await store.deleteModelVersion("m", 1, NOW);
      await expectError(store.getModelVersionByAlias("m", "champion"), aliasNotFound("m", "champion"));
      expect((await store.getRegisteredModel("m")).aliases).toEqual([{ alias: "challenger", version: 2 }]);
      // A version created later with another number does not inherit it.
      await createVersion("m");
      await expectError(store.getModelVersionByAlias("m", "champion"), aliasNotFound("m", "champion"));
    });

    it("refuses unknown models and versions", async () => {
      await expectError(store.setRegisteredModelAlias("nope", "a", 1, NOW), modelVersionNotFound("nope", 1));
      await expectError(store.deleteRegisteredModelAlias("nope", "a", NOW), registeredModelNotFound("nope"));
      await expectError(store.getModelVersionByAlias("nope", "a"), registeredModelNotFound("nope"));
      await createModel("m");
      await expectError(store.setRegisteredModelAlias("m", "a", 1, NOW), modelVersionNotFound("m", 1));
      await expectError(store.getModelVersionByAlias("m", "a"), aliasNotFound("m", "a"));
    });
  });

  describe("listing and counts", () => {
    it("lists every registered model whole", async () => {
      await createModel("b", { tags: [{ key: "k", value: "v" }] });
      await createModel("a", { description: "d" });
      await createVersion("b");
      await store.setRegisteredModelAlias("b", "champion", 1, NOW);
      const listed = await searchModels();
      expect(listed).toEqual([await store.getRegisteredModel("a"), await store.getRegisteredModel("b")]);
      expect(listed[1]).toMatchObject({ aliases: [{ alias: "champion", version: 1 }], tags: [{ key: "k", value: "v" }] });
      expect(listed[1]?.latestVersions.map((v) => v.version)).toEqual([1]);
    });

    it("counts registered models and live model versions", async () => {
      expect(await store.counts()).toEqual({ experiments: 1, runs: 0, registeredModels: 0, modelVersions: 0 });
      await createModel("a");
      await createModel("b");
      await createModel("c");
      for (let i = 0; i < 3; i++) await createVersion("a");
      await createVersion("c");
      await store.deleteModelVersion("a", 2, NOW);
      await store.deleteRegisteredModel("c");
      expect(await store.counts()).toEqual({ experiments: 1, runs: 0, registeredModels: 2, modelVersions: 2 });
    });
  });

  describe("concurrency (two stores on one database)", () => {
    it("numbers 100 concurrent versions of one model exactly 1..100", async () => {
      const other = await secondStore();
      await createModel("m");
      const created = await Promise.all(Array.from({ length: 100 }, (_, i) => createVersion("m", {}, i % 2 === 0 ? store : other)));
      const numbers = created.map((v) => v.version).sort((a, b) => a - b);
      expect(numbers).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
      expect(versionsOf(await other.listModelVersionsOf("m"))).toEqual(Array.from({ length: 100 }, (_, i) => 100 - i));
      expect((await createVersion("m")).version).toBe(101);
    });

    it("leaves exactly one version in Production after 20 concurrent archiving promotions", async () => {
      const other = await secondStore();
      await createModel("m");
      for (let i = 0; i < 20; i++) await createVersion("m");
      await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? store : other).transitionModelVersionStage("m", i + 1, "Production", true, NOW)),
      );
      const stages = (await store.listModelVersionsOf("m")).map((v) => v.currentStage);
      expect(stages.filter((s) => s === "Production")).toHaveLength(1);
      expect(stages.filter((s) => s === "Archived")).toHaveLength(19);
      const [production] = await other.getLatestVersions("m", ["Production"]);
      expect(production?.currentStage).toBe("Production");
    });
  });
});
