/** The backends every store conformance suite (src/store/*contract.test.ts) runs against. */
import type { Store } from "../../src/store/types.js";
import { mongoBackend } from "./mongo-backend.js";
import { sqliteBackend } from "./sqlite-backend.js";

export interface StoreBackend {
  name: string;
  /** A store on a new, empty database; not yet initialised. */
  open(): Promise<Store>;
  /** A second store on the database of `store` (another server on the same data); not yet initialised. */
  openSameDatabase(store: Store): Promise<Store>;
}

export const STORE_BACKENDS: readonly StoreBackend[] = [sqliteBackend, mongoBackend];
