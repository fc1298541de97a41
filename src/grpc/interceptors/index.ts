/**
 * The gRPC edge steps, in order. The first is the outermost: it sees a call before the others and its result after
 * them.
 *
 * 1. The in-flight cap comes first, so an overloaded server refuses a call before doing any work for it — and
 *    bounds the password verifications (scrypt, 32 MiB each) running at once.
 * 2. Authentication (`--auth basic`) right after it: a refused caller costs a slot only briefly. What the caller
 *    may do is the permission table's business, applied to the service functions (src/services/auth/).
 * 3. The body limits wrap client streams, so a stalled upload is cut wherever it is read.
 * Metrics and request logs (later) go first of all, so they also count the calls the cap refuses.
 */
import type { BodyLimits } from "../../edge/body-limits.js";
import type { InFlightLimiter } from "../../edge/in-flight.js";
import type { Authenticate } from "../../services/auth/authenticator.js";
import { authenticateCalls } from "./authenticate.js";
import { clientStreamLimits } from "./body-limits.js";
import { inFlightCap } from "./in-flight-cap.js";
import type { GrpcInterceptor } from "./interceptor.js";

export interface GrpcEdgeOptions {
  inFlight: InFlightLimiter;
  bodyLimits: BodyLimits;
  /** With `--auth basic`: who calls (services/auth/authenticator.ts). */
  authenticate?: Authenticate;
}

export function grpcInterceptors(options: GrpcEdgeOptions): GrpcInterceptor[] {
  return [inFlightCap(options.inFlight), ...(options.authenticate ? [authenticateCalls(options.authenticate)] : []), clientStreamLimits(options.bodyLimits)];
}

export { applyInterceptors, type GrpcCall, type GrpcHandler, type GrpcInterceptor, type GrpcResult } from "./interceptor.js";
