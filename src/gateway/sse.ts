/**
 * Server-streaming RPCs as Server-Sent Events, for requests that accept `text/event-stream` (NDJSON otherwise): the
 * same messages in MLflow JSON, one event each. From the response message's descriptor, once per route:
 * - `event:` the name of the set member of the message's oneof (WatchRun: snapshot, metric, param, tag, info;
 *   WatchLeaderboard: snapshot, leaderboard); no event line for a message without a oneof ("message");
 * - `id:` the message's `sequence` field, when it has one — so a browser's EventSource resumes after it with
 *   `Last-Event-ID`, which the gateway binds to the request's `after_sequence` when it has that field;
 * - a failure after the stream began is an `error` event carrying the MLflow error body;
 * - a comment line every 15 s keeps proxies and load balancers from closing a quiet stream;
 * - a stream that ends before its first event is answered 204, which tells an EventSource not to reconnect (a
 *   watched run that had already ended).
 */
import type { DescMessage } from "@bufbuild/protobuf";
import type { JsonObject } from "./json-text.js";

export const SSE_CONTENT_TYPE = "text/event-stream";
export const SSE_HEARTBEAT_MS = 15_000;

/** True when the Accept header asks for an event stream (and does not refuse it with q=0). */
export function acceptsEventStream(accept: string | undefined): boolean {
  if (!accept) return false;
  return accept.split(",").some((part) => {
    const [type, ...params] = part.trim().toLowerCase().split(";");
    if (type?.trim() !== SSE_CONTENT_TYPE) return false;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}

/** How one stream message becomes an event: its name and id, read from the JSON the codec wrote. */
export interface SseFraming {
  event(json: JsonObject): string | undefined;
  id(json: JsonObject): string | undefined;
}

/** The framing of a route's response message (built once per route at start-up). */
export function sseFraming(output: DescMessage): SseFraming {
  const members = output.oneofs[0]?.fields.map((f) => f.name) ?? [];
  const sequence = output.fields.find((f) => f.name === "sequence") ? "sequence" : undefined;
  return {
    event: (json) => members.find((name) => json[name] !== undefined),
    id: (json) => (sequence !== undefined && json[sequence] !== undefined ? String(json[sequence]) : undefined),
  };
}

/** One event's text. `data` is one line of JSON (compact JSON has no newline). */
export function formatEvent(event: { event?: string | undefined; id?: string | undefined; data: string }): string {
  return `${event.event ? `event: ${event.event}\n` : ""}${event.id !== undefined ? `id: ${event.id}\n` : ""}data: ${event.data}\n\n`;
}

/** A `Last-Event-ID` header as a sequence: digits only (anything else is ignored, as a fresh start). */
export function lastEventSequence(header: string | string[] | undefined): bigint | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined || !/^\d{1,19}$/.test(value.trim())) return undefined;
  const n = BigInt(value.trim());
  return n <= 0x7fffffffffffffffn ? n : undefined;
}

export const HEARTBEAT = ": heartbeat\n\n";
