/**
 * logbook_streams_open, logbook_streams_stalled and logbook_stream_items_total, fed by the byte-bounded stream writer
 * that every server stream goes through (src/edge/stream-writer.ts): one observer per stream, made when it opens and
 * closed by its owner when it is over — also when it is abandoned while stalled, so the gauges come back to 0.
 *
 * An observer is a small class instance (its methods on the prototype, two flags of its own), not a set of closures:
 * thousands of streams may be open at once, and closures made that four-hook observer about 1.4 KB each.
 */
import type { Counter, Gauge } from "prom-client";
import type { StreamObserver, StreamObservers } from "../edge/stream-writer.js";
import type { Metrics, Transport } from "./metrics.js";

interface TransportSeries {
  open: Gauge.Internal<string>;
  stalled: Gauge.Internal<string>;
  items: Counter.Internal;
}

class StreamCount implements StreamObserver {
  private isStalled = false;
  private isClosed = false;

  constructor(private readonly series: TransportSeries) {
    series.open.inc();
  }

  written(): void {
    this.series.items.inc();
  }

  stalled(): void {
    if (this.isStalled || this.isClosed) return;
    this.isStalled = true;
    this.series.stalled.inc();
  }

  resumed(): void {
    if (!this.isStalled) return;
    this.isStalled = false;
    this.series.stalled.dec();
  }

  closed(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.resumed();
    this.series.open.dec();
  }
}

export function streamObservers(metrics: Metrics, transport: Transport): StreamObservers {
  const series: TransportSeries = {
    open: metrics.streamsOpen.labels({ transport }),
    stalled: metrics.streamsStalled.labels({ transport }),
    items: metrics.streamItems.labels({ transport }),
  };
  return () => new StreamCount(series);
}
