/**
 * A MongoDB change stream on the change log (store/types.ts ChangeStream): the inserts into `run_changes`, pushed by
 * the server as they commit, so a process learns of other processes' changes without polling. Only replica sets and
 * sharded clusters have change streams (server detection decides); FerretDB and a standalone MongoDB poll instead.
 *
 * Not exercised on this project's own machines (there is no MongoDB replica set here: FerretDB has no change
 * streams); the watch suites run it when MONGODB_URI names a replica set.
 */
import type { ChangeStream as MongoChangeStream, ChangeStreamInsertDocument, Collection } from "mongodb";
import type { ChangeStream } from "../types.js";
import { type ChangeDoc, toChange } from "./change-log.js";

export function createChangeStream(changes: Collection<ChangeDoc>): ChangeStream {
  let stream: MongoChangeStream<ChangeDoc, ChangeStreamInsertDocument<ChangeDoc>> | undefined;
  return {
    start({ deliver, ready, broken }) {
      stream = changes.watch<ChangeDoc, ChangeStreamInsertDocument<ChangeDoc>>([{ $match: { operationType: "insert" } }]);
      let first = true;
      // 'init' comes with the server's answer to the aggregate that opens the stream: from then on nothing is missed.
      stream.on("init", () => {
        if (first) ready();
        first = false;
      });
      stream.on("change", (event) => deliver(toChange(event.fullDocument)));
      stream.on("error", (err) => broken(err));
    },
    async stop() {
      await stream?.close();
      stream = undefined;
    },
  };
}
