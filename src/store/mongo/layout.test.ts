/**
 * init() on a database written by the previous layout (tags and params as `[{k, v}]` arrays, no experiment `num`, no
 * name on versions, no linked-metric summaries): every document is upgraded, read back unchanged and found by the
 * searches; a second init() finds nothing to do.
 */
import { MongoClient } from "mongodb";
import { afterEach, describe, expect, it } from "vitest";
import { mongoTestUri } from "../../../test/harness/mongo.js";
import { parseExperimentFilter, parseExperimentOrderBy } from "../../domain/filter/experiment-search.js";
import { parseLoggedModelFilter, parseLoggedModelOrderBy } from "../../domain/filter/logged-model-search.js";
import { parseModelVersionFilter, parseModelVersionOrderBy } from "../../domain/filter/model-version-search.js";
import { parseRegisteredModelFilter, parseRegisteredModelOrderBy } from "../../domain/filter/registered-model-search.js";
import type { Store } from "../types.js";
import { historyDocOf } from "./mapping.js";
import { LAYOUT_VERSION } from "./layout.js";
import { createMongoStore } from "./mongo-store.js";

const NOW = 1_700_000_000_000;
const RUN = "0".repeat(31) + "1";
const MODEL = `m-${"0".repeat(31)}1`;

const stores: Store[] = [];
const clients: MongoClient[] = [];
afterEach(async () => {
  await Promise.all([...stores.splice(0).map((s) => s.close()), ...clients.splice(0).map((c) => c.close())]);
});

/** What the previous layout stored: written straight into the collections. */
async function writeOldLayout(uri: string) {
  const client = new MongoClient(uri);
  clients.push(client);
  const db = client.db();
  const pairs = (record: Record<string, string>) => Object.entries(record).map(([k, v]) => ({ k, v }));
  await db.collection("experiments").insertMany([
    { _id: "0", name: "Default", artifact_location: "mlflow-artifacts:/0", lifecycle_stage: "active", creation_time: NOW, last_update_time: NOW, tags: [], rev: 0 },
    { _id: "10", name: "ten", artifact_location: "a", lifecycle_stage: "active", creation_time: NOW, last_update_time: NOW, tags: pairs({ "a.b": "1", $x: "2" }), rev: 1 },
    { _id: "9", name: "nine", artifact_location: "a", lifecycle_stage: "active", creation_time: NOW, last_update_time: NOW, tags: [], rev: 0 },
  ] as never[]);
  await db.collection("registered_models").insertOne({
    _id: "rm-1",
    name: "model",
    description: "",
    user_id: "u",
    creation_timestamp: NOW,
    last_updated_timestamp: NOW,
    tags: pairs({ team: "quant" }),
    aliases: [{ alias: "champion", version: 1 }],
  } as never);
  await db.collection("model_versions").insertMany([
    { _id: "rm-1:1", model: "rm-1", version: 1, deleted: false, creation_timestamp: NOW, last_updated_timestamp: NOW, user_id: "u", current_stage: "None",
      description: "", source: "s", run_id: RUN, run_link: "", status: "READY", tags: pairs({ flavor: "sklearn" }), model_id: MODEL },
    { _id: "rm-1:2", model: "rm-1", version: 2, deleted: true },
  ] as never[]);
  await db.collection("logged_models").insertOne({
    _id: MODEL,
    experiment_id: "10",
    name: "lm",
    creation_timestamp_ms: NOW,
    last_updated_timestamp_ms: NOW,
    artifact_uri: "a",
    status: "READY",
    model_type: "sklearn",
    tags: pairs({ t: "1" }),
    params: pairs({ lr: "0.1" }),
    deleted: false,
  } as never);
  await db.collection("metric_history").insertMany([
    historyDocOf(RUN, { key: "acc", value: 0.5, timestamp: 1, step: 0, modelId: MODEL, datasetName: "test", datasetDigest: "d" }),
    historyDocOf(RUN, { key: "acc", value: 0.7, timestamp: 2, step: 0, modelId: MODEL }),
  ] as never[]);
  return db;
}

describe("MongoDB layout upgrade at init()", () => {
  it("upgrades every document of the previous layout, which then reads and searches as new ones do", async () => {
    const uri = mongoTestUri("layout");
    const db = await writeOldLayout(uri);
    const store = createMongoStore({ uri });
    stores.push(store);
    await store.init();

    expect((await store.getExperiment("10")).tags.sort((a, b) => (a.key < b.key ? -1 : 1))).toEqual([
      { key: "$x", value: "2" },
      { key: "a.b", value: "1" },
    ]);
    const byId = await store.searchExperiments({ filter: [], order: parseExperimentOrderBy(["experiment_id DESC"]), viewType: "ALL" }, { maxResults: 5 });
    expect(byId.items.map((e) => e.experimentId)).toEqual(["10", "9", "0"]);
    const tagged = await store.searchExperiments({ filter: parseExperimentFilter("tags.`a.b` = '1'"), order: parseExperimentOrderBy([]), viewType: "ALL" }, { maxResults: 5 });
    expect(tagged.items.map((e) => e.name)).toEqual(["ten"]);

    const models = await store.searchRegisteredModels({ filter: parseRegisteredModelFilter("tags.team = 'quant'"), order: parseRegisteredModelOrderBy([]) }, { maxResults: 5 });
    expect(models.items).toEqual([await store.getRegisteredModel("model")]);
    expect(models.items[0]).toMatchObject({ tags: [{ key: "team", value: "quant" }], latestVersions: [expect.objectContaining({ version: 1 })] });
    const versions = await store.searchModelVersions({ filter: parseModelVersionFilter("name = 'model' and tags.flavor = 'sklearn'"), order: parseModelVersionOrderBy([]) }, { maxResults: 5 });
    expect(versions.items).toEqual([await store.getModelVersion("model", 1)]);
    expect(versions.items[0]).toMatchObject({ aliases: ["champion"], tags: [{ key: "flavor", value: "sklearn" }] });

    const logged = (filter: string, orderBy = parseLoggedModelOrderBy([])) =>
      store.searchLoggedModels({ experimentIds: ["10"], filter: parseLoggedModelFilter(filter), datasets: [], order: orderBy }, { maxResults: 5 });
    for (const filter of ["params.lr = '0.1' and tags.t = '1'", "metrics.acc > 0.6", "metrics.acc < 0.6", "model_type = 'sklearn'"]) {
      expect((await logged(filter)).items.map((m) => m.modelId), filter).toEqual([MODEL]);
    }
    const [model] = (await logged("", parseLoggedModelOrderBy([{ fieldName: "metrics.acc" }]))).items;
    expect(model).toEqual(await store.getLoggedModel(MODEL));
    expect(model).toMatchObject({ params: [{ key: "lr", value: "0.1" }], registrations: [{ name: "model", version: "1" }] });
    expect(await db.collection("logged_models").findOne({ _id: MODEL as never })).toMatchObject({
      has_model_type: 1,
      metrics: { acc: { a: { p: 1, ts: 2 }, n: { test: { ts: 1 } }, d: { test: { d: { ts: 1 } } } } },
      datasets: { n: { test: 1 }, d: { test: { d: 1 } } },
    });

    // Nothing left to do the second time.
    expect(await db.collection("counters").findOne({ _id: "layout" as never })).toMatchObject({ seq: LAYOUT_VERSION });
    const again = createMongoStore({ uri });
    stores.push(again);
    await again.init();
    expect(await again.getLoggedModel(MODEL)).toEqual(model);
  });
});
