import { mkdirSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { createMongoStore } from "../store/mongo/mongo-store.js";
import type { SqliteSynchronous } from "../store/sqlite/durability.js";
import { createSqliteStore } from "../store/sqlite/sqlite-store.js";
import type { Store } from "../store/types.js";

/** A store spec without the credentials a MongoDB URI may carry, for messages and logs. */
export function redactStoreSpec(spec: string): string {
  return spec.replace(/^(mongodb(?:\+srv)?:\/\/)[^@/]*@/, "$1***@");
}

/**
 * Opens the store named by --store: "sqlite:" / "sqlite:<file>" (embedded) or a MongoDB URI. New experiments get
 * `<defaultArtifactRoot>/<id>` (default `mlflow-artifacts:/<id>`).
 */
export function openStore(
  spec: string,
  dataDir: string,
  options: { defaultArtifactRoot?: string; sqliteSynchronous?: SqliteSynchronous } = {},
): Store {
  const { sqliteSynchronous, ...common } = options;
  if (spec.startsWith("mongodb://") || spec.startsWith("mongodb+srv://")) return createMongoStore({ uri: spec, ...common });
  if (spec === "sqlite:" || spec === "sqlite" || spec.startsWith("sqlite:")) {
    const file = spec.slice("sqlite:".length);
    mkdirSync(dataDir, { recursive: true });
    const path = file ? (isAbsolute(file) ? file : resolve(file)) : join(resolve(dataDir), "logbook.db");
    return createSqliteStore({ path, ...common, ...(sqliteSynchronous ? { synchronous: sqliteSynchronous } : {}) });
  }
  throw new Error(`--store: expected "sqlite:", "sqlite:<file>" or a mongodb:// URI, got "${redactStoreSpec(spec)}"`);
}
