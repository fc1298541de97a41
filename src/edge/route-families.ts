/**
 * The one exemption table: every route family Logbook serves (or will serve), and which edge policies apply to it.
 * The HTTP edge (src/gateway/edge-plugin.ts) resolves each request's family once, from its path, before its body is
 * read; the gRPC adapter resolves a call's family from its service. At start-up every registered HTTP route and gRPC
 * method must resolve to a family of the table (see {@link unmappedRoutes}); the README shows the same table, and a
 * test keeps the two equal.
 *
 * - `hostCheck`: the Host header must name this server (`--allowed-hosts`; DNS rebinding). HTTP only.
 * - `originCheck`: a state-changing request (POST/PUT/PATCH/DELETE) from a browser page of another origin is refused
 *   (`--cors-allowed-origins`). HTTP only.
 * - `inFlightCap`: counts against `--max-in-flight` (calls and requests in flight, both transports together).
 * - `auth`: whether the family needs an authenticated caller with `--auth basic` (the HTTP edge's authentication
 *   step and the gRPC interceptor read it; what a signed-in caller may do is the permission table's business,
 *   src/services/auth/permission-rules.ts). gRPC health and reflection are served by grpc-js's own handlers, outside
 *   the interceptors: open by construction (reflection can be turned off, `--grpc-reflection=false`).
 */

export type Transport = "http" | "grpc";

export interface RouteFamily {
  /** Stable identifier (also the README's first column). */
  readonly name: string;
  readonly transport: Transport;
  /** What the family is, for people. */
  readonly description: string;
  /** HTTP: exact paths. */
  readonly paths?: readonly string[];
  /** HTTP: path prefixes (the longest matching prefix wins; exact paths win over prefixes). */
  readonly prefixes?: readonly string[];
  /** gRPC: fully qualified service names. */
  readonly services?: readonly string[];
  readonly hostCheck: boolean;
  readonly originCheck: boolean;
  readonly inFlightCap: boolean;
  readonly auth: "open" | "required";
}

const http = (f: Omit<RouteFamily, "transport">): RouteFamily => ({ transport: "http", ...f });
const grpc = (f: Omit<RouteFamily, "transport" | "hostCheck" | "originCheck">): RouteFamily => ({
  transport: "grpc",
  hostCheck: false,
  originCheck: false,
  ...f,
});

// Probes and scrapers reach pods by IP, so they are exempt from the Host check, and they must answer while the
// server is saturated, so they are not capped.
const PROBE = { hostCheck: false, originCheck: false, inFlightCap: false } as const;
const API = { hostCheck: true, originCheck: true, inFlightCap: true } as const;

export const ROUTE_FAMILIES: readonly RouteFamily[] = [
  http({ name: "health", description: "`GET /health` liveness", paths: ["/health"], ...PROBE, auth: "open" }),
  http({ name: "readyz", description: "`GET /readyz` readiness", paths: ["/readyz"], ...PROBE, auth: "open" }),
  http({ name: "version", description: "`GET /version`", paths: ["/version"], ...PROBE, auth: "open" }),
  http({ name: "metrics", description: "`GET /metrics` (Prometheus; with `--auth basic` an admin's only; with `--metrics-port` served only there, without credentials)", paths: ["/metrics"], ...PROBE, auth: "required" }),
  http({
    name: "server-info",
    description: "`GET /api/3.0/mlflow/server-info` (and `/ajax-api/…`)",
    paths: ["/api/3.0/mlflow/server-info", "/ajax-api/3.0/mlflow/server-info"],
    ...API,
    auth: "open",
  }),
  http({
    name: "ui",
    description: "the MLflow UI with `--ui`: `/` (index.html) and its files under `/static-files/`",
    paths: ["/"],
    prefixes: ["/static-files/"],
    ...API,
    auth: "open",
  }),
  http({ name: "graphql", description: "`/graphql`, GET and POST (the UI's run and experiment pages)", paths: ["/graphql"], ...API, auth: "required" }),
  http({
    name: "mlflow-api",
    description:
      "the MLflow REST API: `/api/2.0/mlflow/…`, `/api/3.0/mlflow/…` (GenAI traces and datasets too) and their `/ajax-api/…` twins, with the UI's own calls (bulk history, prompt-lab runs, gateway proxy, telemetry, assistant, logged-model files)",
    prefixes: ["/api/2.0/mlflow/", "/api/3.0/mlflow/", "/ajax-api/2.0/mlflow/", "/ajax-api/3.0/mlflow/"],
    ...API,
    auth: "required",
  }),
  http({
    name: "service-api",
    description: "Logbook's service endpoints `/mlflow/…`, with the live watches (`…/watch`: Server-Sent Events or NDJSON, each holding an in-flight slot while open) and `/mlflow/runs/compare`",
    prefixes: ["/mlflow/"],
    ...API,
    auth: "required",
  }),
  http({
    name: "leaderboard-page",
    description: "the live leaderboard page `GET /logbook/leaderboard/{symbol}` (its stream is a `service-api` watch)",
    prefixes: ["/logbook/leaderboard/"],
    ...API,
    auth: "required",
  }),
  http({
    name: "logbook-api",
    description: "Logbook's own REST extensions: personal access tokens `/api/2.0/logbook/tokens/…` (and `/ajax-api/…`)",
    prefixes: ["/api/2.0/logbook/", "/ajax-api/2.0/logbook/"],
    ...API,
    auth: "required",
  }),
  http({
    name: "artifacts",
    description: "artifact proxy and downloads: `/api/2.0/mlflow-artifacts/…` (and `/ajax-api/…`), `/get-artifact`, `/model-versions/get-artifact`",
    paths: ["/get-artifact", "/model-versions/get-artifact"],
    prefixes: ["/api/2.0/mlflow-artifacts/", "/ajax-api/2.0/mlflow-artifacts/"],
    ...API,
    auth: "required",
  }),
  grpc({
    name: "grpc",
    description: "gRPC `logbook.v1.*` services (a WatchRun or WatchLeaderboard call holds its in-flight slot while open)",
    services: ["logbook.v1.TrackingService", "logbook.v1.RegistryService", "logbook.v1.SearchService", "logbook.v1.ArtifactService", "logbook.v1.AuthService"],
    inFlightCap: true,
    auth: "required",
  }),
  grpc({ name: "grpc-health", description: "gRPC `grpc.health.v1.Health`", services: ["grpc.health.v1.Health"], inFlightCap: false, auth: "open" }),
  grpc({
    name: "grpc-reflection",
    description: "gRPC server reflection",
    services: ["grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"],
    inFlightCap: false,
    auth: "open",
  }),
];

/** What a path no family claims gets (unknown routes, answered 404): every check applies. */
export const UNROUTED: RouteFamily = http({ name: "unrouted", description: "any other path (404)", ...API, auth: "required" });

const exact = new Map<string, RouteFamily>();
const prefixes: [string, RouteFamily][] = [];
const services = new Map<string, RouteFamily>();
for (const family of ROUTE_FAMILIES) {
  for (const p of family.paths ?? []) {
    if (exact.has(p)) throw new Error(`route families: ${p} is listed twice`);
    exact.set(p, family);
  }
  for (const p of family.prefixes ?? []) {
    if (prefixes.some(([q]) => q === p)) throw new Error(`route families: prefix ${p} is listed twice`);
    prefixes.push([p, family]);
  }
  for (const s of family.services ?? []) {
    if (services.has(s)) throw new Error(`route families: service ${s} is listed twice`);
    services.set(s, family);
  }
}
prefixes.sort((a, b) => b[0].length - a[0].length);

/**
 * The family of an HTTP request path (no query string; as sent, percent-encoding and all). Runs of slashes count as
 * one, as the router merges them (`//health` is `/health`).
 */
export function httpFamilyOf(rawPath: string): RouteFamily {
  const path = rawPath.includes("//") ? rawPath.replace(/\/{2,}/g, "/") : rawPath;
  const hit = exact.get(path);
  if (hit) return hit;
  for (const [prefix, family] of prefixes) if (path.startsWith(prefix)) return family;
  return UNROUTED;
}

/** The family of a gRPC method path (`/logbook.v1.TrackingService/GetRun`); undefined for a service not in the table. */
export function grpcFamilyOf(methodPath: string): RouteFamily | undefined {
  const service = methodPath.slice(1, methodPath.indexOf("/", 1));
  return services.get(service);
}

/**
 * A concrete path for a route pattern, to resolve its family: fastify's `:param` and `*`, and google.api.http's
 * `{var}`, `{var=**}`, `*` and `**` become a sample segment.
 */
export function samplePath(pattern: string): string {
  return pattern
    .replace(/\{[^}]*\}/g, "x")
    .replace(/:[A-Za-z_][A-Za-z0-9_]*/g, "x")
    .replace(/\*\*?/g, "x");
}

/**
 * The registered routes no family claims: HTTP route patterns (fastify URLs or google.api.http templates) that
 * fall to {@link UNROUTED}, and gRPC method paths whose service is not in the table. Empty when the table is whole.
 */
export function unmappedRoutes(routes: { http: readonly string[]; grpc: readonly string[] }): string[] {
  return [
    ...routes.http.filter((p) => httpFamilyOf(samplePath(p)) === UNROUTED).map((p) => `HTTP ${p}`),
    ...routes.grpc.filter((m) => grpcFamilyOf(m) === undefined).map((m) => `gRPC ${m}`),
  ];
}
