/**
 * The SQLite backend of the store conformance suite (src/store/contract.test.ts): every `open()` is a
 * fresh database file in a temp directory of its own; the directory goes when its last store closes.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createSqliteStore } from "../../src/store/sqlite/sqlite-store.js";
import type { Store } from "../../src/store/types.js";

interface Database {
  dir: string;
  path: string;
  openStores: number;
}

const databaseOf = new WeakMap<Store, Database>();

function openOn(database: Database): Store {
  const store = createSqliteStore({ path: database.path });
  const close = store.close.bind(store);
  database.openStores += 1;
  let closed = false;
  store.close = async () => {
    await close();
    if (closed) return;
    closed = true;
    database.openStores -= 1;
    if (database.openStores === 0) rmSync(database.dir, { recursive: true, force: true });
  };
  databaseOf.set(store, database);
  return store;
}

export const sqliteBackend = {
  name: "sqlite",
  /** A store on a new, empty database; not yet initialised. */
  open: async (): Promise<Store> => {
    const dir = mkdtempSync(join(tmpdir(), "logbook-store-"));
    return openOn({ dir, path: join(dir, "logbook.db"), openStores: 0 });
  },
  /** Another store on the database of `store` (a second server on the same file); not yet initialised. */
  openSameDatabase: async (store: Store): Promise<Store> => {
    const database = databaseOf.get(store);
    if (database === undefined) throw new Error("not a store opened by sqliteBackend");
    return openOn(database);
  },
};
