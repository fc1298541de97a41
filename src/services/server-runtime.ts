/** What the process knows about itself, for GetServerStatus; filled in by src/server. */
export interface ServerRuntime {
  version: string;
  /** Milliseconds since the epoch. */
  startedAt: number;
  /** The health monitor's latest answer (the same source as gRPC health and /readyz). */
  storeReachable(): boolean;
  /** Ports actually bound (known only after listening). */
  ports(): { grpc?: number; http?: number };
  artifacts?: { kind: string; location: string };
}
