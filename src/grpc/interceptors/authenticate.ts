/**
 * Authentication on gRPC (`--auth basic`): a call of a family that requires it (src/edge/route-families.ts) is
 * refused UNAUTHENTICATED (or RESOURCE_EXHAUSTED while its sign-in is throttled) unless its `authorization` metadata
 * — the same `Basic …` / `Bearer …` value as HTTP's header — names a user; the caller goes into the call's values
 * (PRINCIPAL), where the permission table and the services read it. Nothing of the credentials is logged.
 */
import type { Authenticate } from "../../services/auth/authenticator.js";
import { PRINCIPAL } from "../../services/auth/principal.js";
import type { GrpcInterceptor } from "./interceptor.js";

/** The client's IP address from grpc-js's peer string ("ipv4:127.0.0.1:5000", "ipv6:[::1]:5000"). */
export function peerAddress(peer: string): string {
  const body = peer.replace(/^ipv[46]:/, "");
  const v6 = /^\[([^\]]*)\]/.exec(body);
  if (v6) return v6[1]!;
  const colon = body.lastIndexOf(":");
  return colon > 0 ? body.slice(0, colon) : body;
}

export function authenticateCalls(authenticate: Authenticate): GrpcInterceptor {
  return (next) => async (call) => {
    if (call.family.auth !== "required") return next(call);
    const header = call.metadata.get("authorization")[0];
    call.values.set(PRINCIPAL, await authenticate(typeof header === "string" ? header : undefined, peerAddress(call.peer)));
    return next(call);
  };
}
