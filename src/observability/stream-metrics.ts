/**
 * logbook_streams_open, logbook_streams_stalled and logbook_stream_items_total, fed by the byte-bounded stream writer
 * that every server stream goes through (src/edge/stream-writer.ts): one observer per stream, made when it opens and
 * closed by its owner when it is over — also when it is abandoned while stalled, so the gauges come back to 0.
 */
import type { StreamObservers } from "../edge/stream-writer.js";
import type { Metrics, Transport } from "./metrics.js";

export function streamObservers(metrics: Metrics, transport: Transport): StreamObservers {
  const open = metrics.streamsOpen.labels({ transport });
  const stalledStreams = metrics.streamsStalled.labels({ transport });
  const items = metrics.streamItems.labels({ transport });
  return () => {
    open.inc();
    let stalled = false;
    let closed = false;
    const unstall = () => {
      if (!stalled) return;
      stalled = false;
      stalledStreams.dec();
    };
    return {
      written: () => items.inc(),
      stalled: () => {
        if (stalled || closed) return;
        stalled = true;
        stalledStreams.inc();
      },
      resumed: unstall,
      closed: () => {
        if (closed) return;
        closed = true;
        unstall();
        open.dec();
      },
    };
  };
}
