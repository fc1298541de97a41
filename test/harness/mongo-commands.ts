/**
 * Counting the commands (wire messages) a MongoDB store sends, through the driver's command monitoring: every command
 * — find, getMore, killCursors, distinct, endSessions … —, not the driver's monitoring heartbeats. `count(work)` runs
 * `work` and returns what it sent, in order.
 */
import type { CommandStartedEvent } from "mongodb";
import { createMongoStore } from "../../src/store/mongo/mongo-store.js";
import type { Store } from "../../src/store/types.js";

export interface CountingStore {
  store: Store;
  /** The commands `work` sent (name and body), in order. */
  count(work: () => Promise<unknown>): Promise<CommandStartedEvent[]>;
}

export function openCountingStore(uri: string): CountingStore {
  let recording: CommandStartedEvent[] | undefined;
  const store = createMongoStore({ uri, onCommand: (event) => recording?.push(event) });
  return {
    store,
    async count(work) {
      const sent: CommandStartedEvent[] = [];
      recording = sent;
      try {
        await work();
      } finally {
        recording = undefined;
      }
      return sent;
    },
  };
}
