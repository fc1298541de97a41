import type { TestProject } from "vitest/node";
import { startMongoForTests } from "../../scripts/ferretdb.mjs";

declare module "vitest" {
  export interface ProvidedContext {
    /** A MongoDB-wire server for the whole run: MONGODB_URI, else a FerretDB started here. */
    mongoUri: string;
  }
}

export default async function setup(project: TestProject) {
  const mongo = await startMongoForTests();
  project.provide("mongoUri", mongo.uri);
  return async () => {
    await mongo.stop();
  };
}
