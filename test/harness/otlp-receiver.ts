/**
 * An OpenTelemetry collector stand-in for tests: an HTTP server on a free loopback port taking OTLP trace exports
 * (`POST /v1/traces`) as http/protobuf or http/json, as a real collector's OTLP/HTTP receiver does, and keeping the
 * spans; and its gRPC twin (TraceService/Export, for OTEL_EXPORTER_OTLP_PROTOCOL=grpc). The protobuf is read field by field (OTLP's trace.proto field numbers) with @bufbuild/protobuf's wire
 * reader; nothing of the exporter is reused to read what the exporter wrote.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { BinaryReader, WireType } from "@bufbuild/protobuf/wire";
import { Server, ServerCredentials, type sendUnaryData, type ServerUnaryCall } from "@grpc/grpc-js";

export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  /** "" for a root span. */
  parentSpanId: string;
  name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client. */
  kind: number;
  attributes: Record<string, string | number | boolean>;
  /** OTLP StatusCode: 0 unset, 1 ok, 2 error. */
  status: { code: number; message: string };
  resource: Record<string, string | number | boolean>;
  /** How the export that carried it was encoded. */
  contentType: string;
}

export interface OtlpReceiver {
  /** http://127.0.0.1:<port> — OTEL_EXPORTER_OTLP_ENDPOINT. */
  endpoint: string;
  spans: ReceivedSpan[];
  /** Resolves once `predicate` holds for the spans received (checked on each export); rejects after `guardMs`. */
  waitFor(predicate: (spans: ReceivedSpan[]) => boolean, guardMs?: number): Promise<ReceivedSpan[]>;
  close(): Promise<void>;
}

type Attr = string | number | boolean;
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

function readAnyValue(bytes: Uint8Array): Attr {
  const r = new BinaryReader(bytes);
  let value: Attr = "";
  while (r.pos < r.len) {
    const [field, wire] = r.tag();
    if (field === 1) value = r.string();
    else if (field === 2) value = r.bool();
    else if (field === 3) value = Number(r.int64());
    else if (field === 4) value = r.double();
    else r.skip(wire);
  }
  return value;
}

function readKeyValue(bytes: Uint8Array): [string, Attr] {
  const r = new BinaryReader(bytes);
  let key = "";
  let value: Attr = "";
  while (r.pos < r.len) {
    const [field, wire] = r.tag();
    if (field === 1) key = r.string();
    else if (field === 2) value = readAnyValue(r.bytes());
    else r.skip(wire);
  }
  return [key, value];
}

function readAttributesOf(bytes: Uint8Array, attributeField: number): Record<string, Attr> {
  const r = new BinaryReader(bytes);
  const out: Record<string, Attr> = {};
  while (r.pos < r.len) {
    const [field, wire] = r.tag();
    if (field === attributeField && wire === WireType.LengthDelimited) {
      const [k, v] = readKeyValue(r.bytes());
      out[k] = v;
    } else r.skip(wire);
  }
  return out;
}

function readSpan(bytes: Uint8Array, resource: Record<string, Attr>, contentType: string): ReceivedSpan {
  const r = new BinaryReader(bytes);
  const span: ReceivedSpan = { traceId: "", spanId: "", parentSpanId: "", name: "", kind: 0, attributes: {}, status: { code: 0, message: "" }, resource, contentType };
  while (r.pos < r.len) {
    const [field, wire] = r.tag();
    switch (field) {
      case 1: span.traceId = hex(r.bytes()); break;
      case 2: span.spanId = hex(r.bytes()); break;
      case 4: span.parentSpanId = hex(r.bytes()); break;
      case 5: span.name = r.string(); break;
      case 6: span.kind = r.int32(); break;
      case 9: { const [k, v] = readKeyValue(r.bytes()); span.attributes[k] = v; break; }
      case 15: {
        const s = new BinaryReader(r.bytes());
        while (s.pos < s.len) {
          const [f, w] = s.tag();
          if (f === 2) span.status.message = s.string();
          else if (f === 3) span.status.code = s.int32();
          else s.skip(w);
        }
        break;
      }
      default: r.skip(wire);
    }
  }
  return span;
}

/** ExportTraceServiceRequest → ResourceSpans(1) → {Resource(1), ScopeSpans(2) → Span(2)}. */
function decodeProtobuf(body: Uint8Array, contentType: string): ReceivedSpan[] {
  const spans: ReceivedSpan[] = [];
  const request = new BinaryReader(body);
  while (request.pos < request.len) {
    const [field, wire] = request.tag();
    if (field !== 1) {
      request.skip(wire);
      continue;
    }
    const resourceSpans = request.bytes();
    let resource: Record<string, Attr> = {};
    const scopes: Uint8Array[] = [];
    const rs = new BinaryReader(resourceSpans);
    while (rs.pos < rs.len) {
      const [f, w] = rs.tag();
      if (f === 1) resource = readAttributesOf(rs.bytes(), 1);
      else if (f === 2) scopes.push(rs.bytes());
      else rs.skip(w);
    }
    for (const scope of scopes) {
      const ss = new BinaryReader(scope);
      while (ss.pos < ss.len) {
        const [f, w] = ss.tag();
        if (f === 2) spans.push(readSpan(ss.bytes(), resource, contentType));
        else ss.skip(w);
      }
    }
  }
  return spans;
}

interface JsonAttr {
  key: string;
  value: { stringValue?: string; boolValue?: boolean; intValue?: string | number; doubleValue?: number };
}
const jsonAttrs = (list: JsonAttr[] = []): Record<string, Attr> =>
  Object.fromEntries(
    list.map(({ key, value }) => [key, value.stringValue ?? value.boolValue ?? (value.intValue !== undefined ? Number(value.intValue) : (value.doubleValue ?? ""))]),
  );

/** OTLP/JSON: lowerCamelCase fields, ids as hex strings. */
function decodeJson(body: Buffer, contentType: string): ReceivedSpan[] {
  const request = JSON.parse(body.toString("utf8")) as {
    resourceSpans?: {
      resource?: { attributes?: JsonAttr[] };
      scopeSpans?: { spans?: { traceId: string; spanId: string; parentSpanId?: string; name: string; kind?: number; attributes?: JsonAttr[]; status?: { code?: number; message?: string } }[] }[];
    }[];
  };
  return (request.resourceSpans ?? []).flatMap((rs) =>
    (rs.scopeSpans ?? []).flatMap((ss) =>
      (ss.spans ?? []).map((s) => ({
        traceId: s.traceId,
        spanId: s.spanId,
        parentSpanId: s.parentSpanId ?? "",
        name: s.name,
        kind: s.kind ?? 0,
        attributes: jsonAttrs(s.attributes),
        status: { code: s.status?.code ?? 0, message: s.status?.message ?? "" },
        resource: jsonAttrs(rs.resource?.attributes),
        contentType,
      })),
    ),
  );
}

function collector() {
  const spans: ReceivedSpan[] = [];
  const waiters: { predicate: (s: ReceivedSpan[]) => boolean; resolve: (s: ReceivedSpan[]) => void }[] = [];
  return {
    spans,
    add(received: ReceivedSpan[]) {
      spans.push(...received);
      for (const w of [...waiters]) {
        if (w.predicate(spans)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(spans);
        }
      }
    },
    waitFor: (predicate: (s: ReceivedSpan[]) => boolean, guardMs = 30_000): Promise<ReceivedSpan[]> => {
      if (predicate(spans)) return Promise.resolve(spans);
      return new Promise((resolve, reject) => {
        // A guard against a hang, not a timing check: the spans it waits for are exported within a second.
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(waiter), 1);
          reject(new Error(`the expected spans never arrived; received: ${spans.map((s) => `${s.name} (${s.spanId} < ${s.parentSpanId || "root"})`).join(", ")}`));
        }, guardMs);
        const waiter = {
          predicate,
          resolve: (s: ReceivedSpan[]) => {
            clearTimeout(timer);
            resolve(s);
          },
        };
        waiters.push(waiter);
      });
    },
  };
}

export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const { spans, add, waitFor } = collector();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const contentType = req.headers["content-type"] ?? "";
      if (req.method !== "POST" || req.url !== "/v1/traces") {
        res.writeHead(404).end();
        return;
      }
      const body = Buffer.concat(chunks);
      try {
        const json = contentType.startsWith("application/json");
        const received = json ? decodeJson(body, contentType) : decodeProtobuf(body, contentType);
        // An empty ExportTraceServiceResponse: no partial_success.
        res.writeHead(200, { "content-type": json ? "application/json" : "application/x-protobuf" }).end(json ? "{}" : undefined);
        add(received);
      } catch (err) {
        res.writeHead(400).end(String(err));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    spans,
    waitFor,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** OTLP over gRPC: the collector's TraceService with raw-bytes codecs, read by the same protobuf reader. */
export async function startOtlpGrpcReceiver(): Promise<OtlpReceiver> {
  const { spans, add, waitFor } = collector();
  const server = new Server();
  const raw = (b: Buffer) => b;
  server.addService(
    {
      export: {
        path: "/opentelemetry.proto.collector.trace.v1.TraceService/Export",
        requestStream: false,
        responseStream: false,
        requestSerialize: raw,
        requestDeserialize: raw,
        responseSerialize: raw,
        responseDeserialize: raw,
      },
    },
    {
      export: (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => {
        const received = decodeProtobuf(call.request, "application/grpc");
        callback(null, Buffer.alloc(0));
        add(received);
      },
    },
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    endpoint: `http://127.0.0.1:${port}`,
    spans,
    waitFor,
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}
