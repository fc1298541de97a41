import { mkdirSync } from "node:fs";
import { isAbsolute, join, resolve } from "node:path";
import { createMongoStore } from "../store/mongo/mongo-store.js";
import { createSqliteStore } from "../store/sqlite/sqlite-store.js";
import type { Store } from "../store/types.js";

/**
 * Opens the store named by --store: "sqlite:" / "sqlite:<file>" (embedded) or a MongoDB URI. New experiments get
 * `<defaultArtifactRoot>/<id>` (default `mlflow-artifacts:/<id>`).
 */
export function openStore(spec: string, dataDir: string, options: { defaultArtifactRoot?: string } = {}): Store {
  if (spec.startsWith("mongodb://") || spec.startsWith("mongodb+srv://")) return createMongoStore({ uri: spec, ...options });
  if (spec === "sqlite:" || spec === "sqlite" || spec.startsWith("sqlite:")) {
    const file = spec.slice("sqlite:".length);
    mkdirSync(dataDir, { recursive: true });
    const path = file ? (isAbsolute(file) ? file : resolve(file)) : join(resolve(dataDir), "logbook.db");
    return createSqliteStore({ path, ...options });
  }
  throw new Error(`--store: expected "sqlite:", "sqlite:<file>" or a mongodb:// URI, got "${spec}"`);
}
