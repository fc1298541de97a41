/**
 * The in-flight cap on gRPC: a call takes a slot of the limiter shared with HTTP (src/edge/in-flight.ts) for as
 * long as it runs — a server stream until it ends — and is refused UNAVAILABLE when none is free. Families exempt
 * from the cap (route-families.ts) pass through.
 */
import { createInFlightLimiter, overloaded, type InFlightLimiter } from "../../edge/in-flight.js";
import { onStreamEnd, type GrpcInterceptor } from "./interceptor.js";

export function inFlightCap(limiter: InFlightLimiter = createInFlightLimiter()): GrpcInterceptor {
  return (next) => async (call) => {
    if (!call.family.inFlightCap) return next(call);
    const release = limiter.tryAcquire();
    if (!release) throw overloaded(limiter.max);
    let result;
    try {
      result = await next(call);
    } catch (err) {
      release();
      throw err;
    }
    if (result.kind !== "server-streaming") {
      release();
      return result;
    }
    return { kind: "server-streaming", responses: onStreamEnd(result.responses, release) };
  };
}
