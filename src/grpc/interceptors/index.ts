/**
 * The gRPC edge steps, in order. The first is the outermost: it sees a call before the others and its result after
 * them.
 *
 * 0. Observation (metrics, the call's span, its request log line) wraps everything, so it also counts and times the
 *    calls the later steps refuse, and the span is active while they and the service run.
 * 1. The in-flight cap comes next, so an overloaded server refuses a call before doing any work for it — and
 *    bounds the password verifications (scrypt, 32 MiB each) running at once.
 * 2. Authentication (`--auth basic`) right after it: a refused caller costs a slot only briefly. What the caller
 *    may do is the permission table's business, applied to the service functions (src/services/auth/).
 * 3. The body limits wrap client streams, so a stalled upload is cut wherever it is read.
 */
import type { BodyLimits } from "../../edge/body-limits.js";
import type { InFlightLimiter } from "../../edge/in-flight.js";
import type { Authenticate } from "../../services/auth/authenticator.js";
import { authenticateCalls } from "./authenticate.js";
import { clientStreamLimits } from "./body-limits.js";
import type { CallObserver } from "../../observability/call-observer.js";
import { inFlightCap } from "./in-flight-cap.js";
import { observeCalls } from "./observe.js";
import type { GrpcInterceptor } from "./interceptor.js";

export interface GrpcEdgeOptions {
  inFlight: InFlightLimiter;
  bodyLimits: BodyLimits;
  /** With `--auth basic`: who calls (services/auth/authenticator.ts). */
  authenticate?: Authenticate;
  /** Observes every call (metrics, spans, request logs); none when absent. */
  calls?: CallObserver;
}

export function grpcInterceptors(options: GrpcEdgeOptions): GrpcInterceptor[] {
  return [
    ...(options.calls ? [observeCalls(options.calls)] : []),
    inFlightCap(options.inFlight),
    ...(options.authenticate ? [authenticateCalls(options.authenticate)] : []),
    clientStreamLimits(options.bodyLimits),
  ];
}

export { applyInterceptors, type GrpcCall, type GrpcHandler, type GrpcInterceptor, type GrpcResult } from "./interceptor.js";
