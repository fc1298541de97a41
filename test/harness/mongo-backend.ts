/**
 * The MongoDB backend of the store conformance suite (src/store/contract.test.ts): every `open()` is a store on a
 * fresh database of the run's MongoDB-wire server (MONGODB_URI, else the FerretDB of the global setup).
 * Closing is the suite's job (`store.close()`); the databases go with the server.
 */
import { createMongoStore } from "../../src/store/mongo/mongo-store.js";
import type { Store } from "../../src/store/types.js";
import { mongoTestUri } from "./mongo.js";

const uriOf = new WeakMap<Store, string>();

function openOn(uri: string): Store {
  const store = createMongoStore({ uri });
  uriOf.set(store, uri);
  return store;
}

export const mongoBackend = {
  name: "mongodb",
  /** A store on a new, empty database; not yet initialised. */
  open: async (): Promise<Store> => openOn(mongoTestUri("contract")),
  /** Another store (its own MongoClient) on the database of `store`; not yet initialised. */
  openSameDatabase: async (store: Store): Promise<Store> => {
    const uri = uriOf.get(store);
    if (uri === undefined) throw new Error("not a store opened by mongoBackend");
    return openOn(uri);
  },
};
