/**
 * docs/mongodb.md lists every index with the query shapes it serves: its table must be the list init() works from
 * (indexes.ts), and init() must create exactly that list on the run's server — the MongoDB-only ones on MongoDB only.
 */
import { readFileSync } from "node:fs";
import { MongoClient } from "mongodb";
import { describe, expect, it } from "vitest";
import { mongoTestUri } from "../../../test/harness/mongo.js";
import { openConnection } from "./connection.js";
import { INDEXES, indexesFor } from "./indexes.js";
import { createMongoStore } from "./mongo-store.js";
import { detectServerKind } from "./server-kind.js";

interface Row {
  collection: string;
  name: string;
  key: Record<string, number>;
  options: string[];
  mongodbOnly: boolean;
}

/** `{a: 1, b.$**: -1}` → `{a: 1, "b.$**": -1}` (field names as written, in order). */
function parseKey(text: string): Record<string, number> {
  const inner = /^`\{(.*)\}`$/.exec(text)?.[1];
  if (inner === undefined) throw new Error(`not a key: ${text}`);
  return Object.fromEntries(inner.split(", ").map((part) => {
    const [field, direction] = part.split(": ");
    return [field!, Number(direction)];
  }));
}

function documentedIndexes(): Row[] {
  const doc = readFileSync(new URL("../../../docs/mongodb.md", import.meta.url), "utf8");
  const table = /<!-- indexes:begin -->([\s\S]*?)<!-- indexes:end -->/.exec(doc)?.[1];
  if (!table) throw new Error("docs/mongodb.md has no indexes table");
  return table
    .split("\n")
    .filter((line) => line.startsWith("| ") && !line.startsWith("| collection") && !line.startsWith("|---"))
    .map((line) => {
      const [collection, name, key, options, createdOn] = line.split("|").slice(1, -1).map((cell) => cell.trim());
      return { collection: collection!, name: name!, key: parseKey(key!), options: options ? options.split(", ") : [], mongodbOnly: createdOn === "MongoDB" };
    });
}

/** Collection names by the keys indexes.ts uses for them. */
const collectionNames = (() => {
  const { collections } = openConnection({ uri: "mongodb://127.0.0.1/names" });
  return (key: keyof typeof collections) => collections[key].collectionName;
})();

const specRows = (specs: typeof INDEXES): Row[] =>
  specs.map((spec) => ({
    collection: collectionNames(spec.collection),
    name: spec.name,
    key: spec.key as Record<string, number>,
    options: [...(spec.unique ? ["unique"] : []), ...(spec.sparse ? ["sparse"] : [])],
    mongodbOnly: spec.mongodbOnly === true,
  }));

describe("MongoDB indexes", () => {
  it("are the list docs/mongodb.md documents", () => {
    expect(documentedIndexes()).toEqual(specRows(INDEXES));
  });

  it("are what init() creates on this server", async () => {
    const uri = mongoTestUri("indexes");
    const store = createMongoStore({ uri });
    const client = new MongoClient(uri);
    try {
      await store.init();
      const db = client.db();
      const server = await detectServerKind(db);
      const ferretdb = server.kind === "ferretdb";
      const expected = specRows(indexesFor(server));
      const created: Row[] = [];
      for (const collection of new Set(specRows(INDEXES).map((r) => r.collection))) {
        for (const index of await db.collection(collection).listIndexes().toArray()) {
          if (index.name === "_id_") continue;
          created.push({ collection, name: index.name, key: index.key, options: [...(index.unique ? ["unique"] : []), ...(index.sparse ? ["sparse"] : [])], mongodbOnly: false });
        }
      }
      // FerretDB accepts `sparse` and ignores it (every index of it is dense), so it lists no options but `unique`.
      const comparable = (rows: Row[]) =>
        rows
          .map((r) => ({ collection: r.collection, name: r.name, key: r.key, options: ferretdb ? r.options.filter((o) => o !== "sparse") : r.options }))
          .sort((a, b) => `${a.collection}.${a.name}`.localeCompare(`${b.collection}.${b.name}`));
      expect(comparable(created)).toEqual(comparable(expected));
      if (ferretdb) expect(expected.some((r) => r.name === "metric_desc")).toBe(false);
    } finally {
      await store.close();
      await client.close();
    }
  });
});
