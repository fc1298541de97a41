import { describe, expect, it } from "vitest";
import { parseExposition, Scrape } from "../../test/harness/prometheus.js";
import { createMetrics, DURATION_BUCKETS } from "./metrics.js";

/** The names external scrapers and alert rules depend on, with their Prometheus types. */
const PINNED: Record<string, string> = {
  logbook_rpc_requests_total: "COUNTER",
  logbook_rpc_duration_seconds: "HISTOGRAM",
  logbook_rpc_in_flight: "GAUGE",
  logbook_streams_open: "GAUGE",
  logbook_streams_stalled: "GAUGE",
  logbook_stream_items_total: "COUNTER",
  logbook_ingested_metric_points_total: "COUNTER",
  logbook_ingested_params_total: "COUNTER",
  logbook_ingested_tags_total: "COUNTER",
  logbook_store_operation_duration_seconds: "HISTOGRAM",
  logbook_store_up: "GAUGE",
  logbook_artifact_bytes_total: "COUNTER",
};

function sources(state: { inFlight: number; up: boolean; read: number }) {
  return { inFlight: () => state.inFlight, storeUp: () => state.up, artifactBytesRead: () => state.read };
}

describe("metrics registry", () => {
  it("exposes every pinned metric with its type and help text, plus the Node runtime metrics, in a valid exposition", async () => {
    const metrics = createMetrics({ version: "1.2.3", sources: sources({ inFlight: 0, up: true, read: 0 }) });
    // Label sets appear once observed; observe one of each so the histograms print.
    metrics.rpcRequests.inc({ transport: "grpc", service: "s", method: "m", code: "OK" });
    metrics.rpcDuration.observe({ transport: "grpc", service: "s", method: "m" }, 0.002);
    metrics.storeOperationDuration.observe({ operation: "getRun", store: "sqlite" }, 0.0004);
    const text = await metrics.exposition();
    const scrape = new Scrape(text, parseExposition(text));
    for (const [name, type] of Object.entries(PINNED)) {
      const family = scrape.family(name);
      expect(family, name).toBeDefined();
      expect(family!.type, name).toBe(type);
      expect(family!.help.length, name).toBeGreaterThan(20);
    }
    for (const runtime of ["nodejs_eventloop_lag_seconds", "nodejs_heap_size_used_bytes", "nodejs_gc_duration_seconds", "process_cpu_seconds_total", "process_resident_memory_bytes"]) {
      // Declared even before it has samples (GC durations appear after the first collection).
      expect(text).toMatch(new RegExp(`^# TYPE ${runtime} `, "m"));
    }
    expect(scrape.value("logbook_build_info", { version: "1.2.3" })).toBe(1);
    // Buckets 1 ms … 10 s (+Inf added by the format).
    const buckets = Object.keys(scrape.exact("logbook_rpc_duration_seconds", { transport: "grpc", service: "s", method: "m" })!.buckets!);
    expect(buckets.map((b) => (b === "+Inf" ? Infinity : Number(b))).sort((a, b) => a - b)).toEqual([...DURATION_BUCKETS, Infinity]);
    expect(scrape.count("logbook_rpc_duration_seconds", { transport: "grpc", service: "s", method: "m" })).toBe(1);
    expect(scrape.exact("logbook_rpc_duration_seconds", { transport: "grpc", service: "s", method: "m" })!.buckets!["0.0025"]).toBe("1");
    expect(scrape.exact("logbook_rpc_duration_seconds", { transport: "grpc", service: "s", method: "m" })!.buckets!["0.001"]).toBe("0");
  });

  it("series with fixed labels exist at zero before anything happens", async () => {
    const metrics = createMetrics({ version: "0", sources: sources({ inFlight: 0, up: false, read: 0 }), runtime: false });
    const scrape = new Scrape("", parseExposition(await metrics.exposition()));
    for (const transport of ["grpc", "http"]) {
      expect(scrape.exact("logbook_streams_open", { transport })?.value).toBe("0");
      expect(scrape.exact("logbook_streams_stalled", { transport })?.value).toBe("0");
      expect(scrape.exact("logbook_stream_items_total", { transport })?.value).toBe("0");
    }
    for (const direction of ["upload", "download"]) expect(scrape.exact("logbook_artifact_bytes_total", { direction })?.value).toBe("0");
    for (const name of ["logbook_ingested_metric_points_total", "logbook_ingested_params_total", "logbook_ingested_tags_total"]) {
      expect(scrape.exact(name)?.value, name).toBe("0");
    }
  });

  it("gauges and the download counter read their sources when scraped", async () => {
    const state = { inFlight: 3, up: true, read: 100 };
    const metrics = createMetrics({ version: "0", sources: sources(state), runtime: false });
    const first = new Scrape("", parseExposition(await metrics.exposition()));
    expect(first.value("logbook_rpc_in_flight")).toBe(3);
    expect(first.value("logbook_store_up")).toBe(1);
    expect(first.value("logbook_artifact_bytes_total", { direction: "download" })).toBe(100);
    Object.assign(state, { inFlight: 0, up: false, read: 250 });
    const second = new Scrape("", parseExposition(await metrics.exposition()));
    expect(second.value("logbook_rpc_in_flight")).toBe(0);
    expect(second.value("logbook_store_up")).toBe(0);
    expect(second.value("logbook_artifact_bytes_total", { direction: "download" })).toBe(250);
  });

  it("two servers in one process keep separate registries", async () => {
    const a = createMetrics({ version: "0", sources: sources({ inFlight: 0, up: true, read: 0 }), runtime: false });
    const b = createMetrics({ version: "0", sources: sources({ inFlight: 0, up: true, read: 0 }), runtime: false });
    a.ingestedTags.inc(5);
    expect(new Scrape("", parseExposition(await a.exposition())).value("logbook_ingested_tags_total")).toBe(5);
    expect(new Scrape("", parseExposition(await b.exposition())).value("logbook_ingested_tags_total")).toBe(0);
  });
});
