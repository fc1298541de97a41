/**
 * Observes every gRPC call (src/observability/call-observer.ts): the RPC counter and histogram, a server span that
 * continues the caller's `traceparent` metadata and is active while the service runs (store spans become its
 * children, also inside server streams), and one request log line (with the caller's username once authentication,
 * a later step, has named them). It is the first step, so the calls later steps refuse (the in-flight cap,
 * authentication) are counted too.
 *
 * Sizes for the log line: requests are measured as they were decoded (message-codec.ts); a unary response is
 * serialized here (the adapter sends bytes as they are, so nothing is serialized twice); a stream's messages are
 * counted by the adapter as it writes them (`call.sent`): serializing them here instead held about one more message
 * per stalled stream (measured: +7–10 MiB RSS with 200 stalled downloads in test/chaos/stalled-streams.test.ts).
 */
import type { Metadata } from "@grpc/grpc-js";
import { AppError } from "../../domain/errors.js";
import type { CallObservation, CallObserver } from "../../observability/call-observer.js";
import { callerLogFields } from "../../services/auth/principal.js";
import { messageSize } from "../message-codec.js";
import { grpcStatusName } from "../status.js";
import type { GrpcCall, GrpcInterceptor, GrpcResult } from "./interceptor.js";

function metadataReader(metadata: Metadata): (name: string) => string | undefined {
  return (name) => {
    const value = metadata.get(name)[0];
    return typeof value === "string" ? value : undefined;
  };
}

/** The status a failed call is answered with: CANCELLED once the client has gone, else the error's own. */
function statusOf(err: unknown, signal: AbortSignal): string {
  return signal.aborted ? "CANCELLED" : grpcStatusName(AppError.from(err));
}

async function* measured(requests: AsyncIterable<unknown>, add: (bytes: number) => void): AsyncGenerator<unknown> {
  for await (const request of requests) {
    add(messageSize(request));
    yield request;
  }
}

export function observeCalls(calls: CallObserver): GrpcInterceptor {
  return (next) => async (call) => {
    const observation = calls.begin({
      transport: "grpc",
      header: metadataReader(call.metadata),
      name: { service: call.service, method: call.method, rpc: true, streaming: call.kind !== "unary" },
    });
    let bytesIn = call.kind === "client-streaming" ? 0 : messageSize(call.request);
    const observed: GrpcCall = call.kind === "client-streaming" ? { ...call, requests: measured(call.requests, (n) => (bytesIn += n)) } : call;
    let result: GrpcResult;
    try {
      result = await observation.run(() => next(observed));
    } catch (err) {
      observation.end({ code: statusOf(err, call.signal), bytesIn, ...callerLogFields(call.values) });
      throw err;
    }
    if (result.kind === "server-streaming") {
      return { kind: result.kind, responses: observedStream(result.responses, call, observation, bytesIn) };
    }
    let bytes: Buffer;
    try {
      bytes = call.serialize(result.response);
    } catch (err) {
      observation.end({ code: "INTERNAL", bytesIn, ...callerLogFields(call.values) });
      throw err;
    }
    observation.end({ code: "OK", bytesIn, bytesOut: bytes.length, ...callerLogFields(call.values) });
    return { kind: result.kind, response: bytes };
  };
}

/**
 * The stream as the adapter pulls it: each pull runs inside the call's span (when traced), and the call is recorded
 * once when the stream ends — drained (OK), failed (its status) or returned because the client went away
 * (CANCELLED). A class, not closures: one lives per open stream.
 */
class ObservedResponses implements AsyncIterator<unknown> {
  constructor(
    private readonly inner: AsyncIterator<unknown>,
    private readonly call: GrpcCall,
    private readonly observation: CallObservation,
    private readonly bytesIn: number,
  ) {}

  async next(): Promise<IteratorResult<unknown>> {
    let result: IteratorResult<unknown>;
    try {
      result = await (this.observation.traced ? this.observation.run(() => this.inner.next()) : this.inner.next());
    } catch (err) {
      this.end(statusOf(err, this.call.signal));
      throw err;
    }
    if (result.done) this.end("OK");
    return result;
  }

  async return(value?: unknown): Promise<IteratorResult<unknown>> {
    try {
      const returned = this.observation.traced ? this.observation.run(() => this.inner.return?.(value)) : this.inner.return?.(value);
      return (await returned) ?? { done: true, value: undefined };
    } finally {
      this.end(this.call.signal.aborted ? "CANCELLED" : "OK");
    }
  }

  private end(code: string): void {
    this.observation.end({ code, bytesIn: this.bytesIn, bytesOut: this.call.sent.bytes, ...callerLogFields(this.call.values) });
  }
}

function observedStream(responses: AsyncIterable<unknown>, call: GrpcCall, observation: CallObservation, bytesIn: number): AsyncIterable<unknown> {
  return { [Symbol.asyncIterator]: () => new ObservedResponses(responses[Symbol.asyncIterator](), call, observation, bytesIn) };
}
