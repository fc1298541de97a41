import { randomBytes } from "node:crypto";
import { MongoClient } from "mongodb";
import { inject } from "vitest";
import { detectServerKind } from "../../src/store/mongo/server-kind.js";

/** A connection string to a database of its own on the run's MongoDB-wire server. */
export function mongoTestUri(label: string): string {
  const base = new URL(inject("mongoUri"));
  base.pathname = `/lb_${label.replace(/\W/g, "_").slice(0, 30)}_${randomBytes(4).toString("hex")}`;
  return base.toString();
}

/** Whether the run's MongoDB-wire server has change streams (a MongoDB replica set or mongos; never FerretDB). */
export async function serverHasChangeStreams(): Promise<boolean> {
  const client = new MongoClient(inject("mongoUri"));
  try {
    return (await detectServerKind(client.db("admin"))).changeStreams;
  } finally {
    await client.close();
  }
}
