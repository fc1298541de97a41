/**
 * The body limits of HTTP (src/edge/body-limits.ts) on gRPC client streams (UploadArtifact): a client that stops
 * sending, or trickles, is cut with DEADLINE_EXCEEDED instead of holding its call open.
 */
import { limitBody, type BodyLimits } from "../../edge/body-limits.js";
import { messageSize } from "../message-codec.js";
import type { GrpcInterceptor } from "./interceptor.js";

export function clientStreamLimits(limits: BodyLimits): GrpcInterceptor {
  return (next) => (call) => (call.kind === "client-streaming" ? next({ ...call, requests: limitBody(call.requests, limits, messageSize) }) : next(call));
}
