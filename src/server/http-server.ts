/**
 * The HTTP side of the process: the edge (route families, Host/Origin checks, in-flight cap), the gateway (every
 * google.api.http binding, in process) and the hand-written probe and artifact routes, on one fastify instance,
 * with the connection limits of the configuration (headers timeout, keep-alive) and MLflow-shaped answers for
 * requests Node's parser refuses.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import type { Logger } from "pino";
import type { BodyLimits } from "../edge/body-limits.js";
import type { InFlightLimiter } from "../edge/in-flight.js";
import { artifactRawRoutes } from "../gateway/artifact-routes.js";
import { type UiRoutesOptions, uiHelperRoutes, uiRawRoutes } from "../gateway/ui-routes.js";
import { type Authenticate, edgePlugin } from "../gateway/edge-plugin.js";
import { gatewayClientErrors, gatewayFrameworkErrors, gatewayPlugin } from "../gateway/gateway.js";
import { graphqlRoutes } from "../gateway/graphql-route.js";
import { LEADERBOARD_PAGE_ROUTE } from "../gateway/leaderboard-page.js";
import { notImplementedRoutes } from "../gateway/not-implemented-routes.js";
import type { TlsMaterial } from "./tls.js";
import { uiFilesPlugin } from "../gateway/ui-files.js";
import { type GraphqlExecutor, createGraphqlExecutor } from "../graphql/graphql-executor.js";
import type { QueryLimits } from "../graphql/query-limits.js";
import type { ArtifactServiceFunctions } from "../services/artifact-service.js";
import { type RegisteredService, implementationOf } from "../services/rpc.js";
import { ArtifactServiceService } from "../../gen/ts/logbook/v1/artifact_service.js";
import { SearchServiceService } from "../../gen/ts/logbook/v1/search_service.js";
import { TrackingServiceService } from "../../gen/ts/logbook/v1/tracking_service.js";
import type { StreamObservers } from "../edge/stream-writer.js";
import type { CallObserver } from "../observability/call-observer.js";
import type { Metrics } from "../observability/metrics.js";
import { AppError, ErrorCode } from "../domain/errors.js";
import { PRINCIPAL } from "../services/auth/principal.js";
import type { StoreHealth } from "./store-health.js";
import { LOGBOOK_VERSION } from "./version.js";

declare module "fastify" {
  interface FastifyInstance {
    /** Every route the server registered: method and fastify URL. */
    registeredRoutes: ReadonlyArray<{ method: string; url: string }>;
  }
}

export interface HttpServerOptions {
  services: readonly RegisteredService[];
  descriptorSet: Uint8Array;
  maxBodyBytes: number;
  /** "sqlite" or "mongodb" (server-info). */
  storeKind: string;
  /** false: the artifact proxy routes answer 503, as MLflow's `--no-serve-artifacts`. Default true. */
  serveArtifacts?: boolean;
  health: StoreHealth;
  /** MLflow's GraphQL limits (`--graphql-max-root-fields`, `--graphql-max-aliases`). */
  graphqlLimits: QueryLimits;
  /** The MLflow UI bundle directory to serve at `/` and `/static-files/` (`--ui`); none: no UI files. */
  uiDir?: string;
  /** With `--auth basic`: who calls, for the edge's authentication step (edge-plugin.ts). */
  authenticate?: Authenticate;
  /** Serve HTTPS with this certificate and key. */
  tls?: TlsMaterial;
  logger: Logger;
  inFlight: InFlightLimiter;
  bodyLimits: BodyLimits;
  allowedHosts: readonly string[];
  corsAllowedOrigins: readonly string[];
  headersTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /** Serve GET /metrics on this port (absent with --no-metrics or --metrics-port). */
  metrics?: Metrics;
  /** Observes every request (metrics, spans, request logs). */
  calls?: CallObserver;
  /** Observes every server stream: NDJSON and downloads (metrics). */
  streamObservers?: StreamObservers;
}

/** GraphQL over the same service functions as gRPC and REST. */
function graphqlExecutor(opts: HttpServerOptions): GraphqlExecutor {
  const tracking = implementationOf(opts.services, TrackingServiceService);
  const search = implementationOf(opts.services, SearchServiceService);
  const artifacts = implementationOf(opts.services, ArtifactServiceService) as ArtifactServiceFunctions | undefined;
  if (!tracking || !search || !artifacts) throw new Error("GraphQL needs the Tracking, Search and Artifact services");
  return createGraphqlExecutor({ services: { tracking, search, artifacts }, limits: opts.graphqlLimits, logger: opts.logger });
}

export interface HttpServer {
  app: FastifyInstance;
  /** Every registered route pattern: fastify's own routes, and the gateway's RPC bindings behind its catch-all. */
  routes(): string[];
}

/** The gateway's catch-all route: it serves the RPC bindings (listed separately) and answers 404 for the rest. */
const CATCH_ALL = "*";

export async function createHttpServer(opts: HttpServerOptions): Promise<HttpServer> {
  const artifactService = opts.services.find((s) => s.name === "logbook.v1.ArtifactService");
  const searchService = opts.services.find((s) => s.name === "logbook.v1.SearchService");
  const trackingService = opts.services.find((s) => s.name === "logbook.v1.TrackingService");
  const { metrics, streamObservers: streams } = opts;
  const app = Fastify({
    frameworkErrors: gatewayFrameworkErrors,
    clientErrorHandler: gatewayClientErrors,
    logger: false,
    forceCloseConnections: "idle",
    // ignoreDuplicateSlashes: MLflow's server (werkzeug) merges them, and its tests call `//model-versions/get-artifact`.
    routerOptions: { ignoreDuplicateSlashes: true },
    keepAliveTimeout: opts.keepAliveTimeoutMs,
    // No limit on a whole request's duration (uploads may be large); slow bodies are cut by the body limits.
    requestTimeout: 0,
    // Node checks the headers timeout every connectionsCheckingInterval: keep that well under the timeout.
    http: { headersTimeout: opts.headersTimeoutMs, connectionsCheckingInterval: Math.min(1000, opts.headersTimeoutMs) },
    ...(opts.tls ? { https: { cert: opts.tls.cert, key: opts.tls.key } } : {}),
  }) as unknown as FastifyInstance;
  const registered: string[] = [];
  // Every route as registered, with its methods, for the tests that check each one is guarded (permission-table.test.ts).
  const routes: Array<{ method: string; url: string }> = [];
  app.addHook("onRoute", (route) => {
    if (route.url !== CATCH_ALL) registered.push(route.url);
    for (const method of [route.method].flat()) routes.push({ method, url: route.url });
  });
  app.decorate("registeredRoutes", routes);
  await app.register(edgePlugin, {
    allowedHosts: opts.allowedHosts,
    corsAllowedOrigins: opts.corsAllowedOrigins,
    inFlight: opts.inFlight,
    ...(opts.authenticate ? { authenticate: opts.authenticate } : {}),
    logger: opts.logger,
    ...(opts.calls ? { calls: opts.calls } : {}),
  });
  await app.register(gatewayPlugin, {
    services: opts.services,
    descriptorSet: opts.descriptorSet,
    maxBodyBytes: opts.maxBodyBytes,
    bodyLimits: opts.bodyLimits,
    logger: opts.logger,
    ...(streams ? { streamObservers: streams } : {}),
    rawRoutes: [
      // Liveness, as MLflow answers it: the process is up.
      { method: "GET", url: "/health", handler: async (_req, reply) => reply.type("text/plain; charset=utf-8").send("OK") },
      // Readiness: the store answers (the same source as gRPC health).
      {
        method: "GET",
        url: "/readyz",
        handler: async (_req, reply) => {
          const ready = await opts.health.check();
          return reply
            .code(ready ? 200 : 503)
            .type("text/plain; charset=utf-8")
            .send(ready ? "ready" : "store unreachable");
        },
      },
      { method: "GET", url: "/version", handler: async (_req, reply) => reply.type("text/plain; charset=utf-8").send(LOGBOOK_VERSION) },
      // Prometheus scrapes: with --auth basic an admin's (the edge signed the caller in); free on --metrics-port instead.
      ...(metrics
        ? [
            {
              method: "GET" as const,
              url: "/metrics",
              handler: async (request: FastifyRequest, reply: FastifyReply) => {
                if (opts.authenticate && !request.callValues.get(PRINCIPAL)?.isAdmin) {
                  throw new AppError(ErrorCode.PERMISSION_DENIED, "Permission denied: only an admin may read /metrics (or scrape --metrics-port).");
                }
                return reply.header("cache-control", "no-store").type(metrics.contentType).send(await metrics.exposition());
              },
            },
          ]
        : []),
      // MLflow's artifact proxy, the raw download routes (runs, model versions) and server-info, calling
      // ArtifactService in process.
      ...(artifactService
        ? artifactRawRoutes({
            service: artifactService.implementation as never,
            storeKind: opts.storeKind,
            serveArtifacts: opts.serveArtifacts ?? true,
            logger: opts.logger,
            bodyLimits: opts.bodyLimits,
            ...(streams ? { streamObservers: streams } : {}),
          })
        : []),
      // The MLflow UI's other non-RPC routes (bulk metric history, prompt-lab runs, the AI gateway proxy).
      ...(searchService && trackingService
        ? uiRawRoutes({
            getMetricHistoryBulk: (searchService.implementation as unknown as Pick<UiRoutesOptions, "getMetricHistoryBulk">).getMetricHistoryBulk,
            createPromptlabRun: (trackingService.implementation as unknown as Pick<UiRoutesOptions, "createPromptlabRun">).createPromptlabRun,
            descriptorSet: opts.descriptorSet,
            maxBodyBytes: opts.maxBodyBytes,
            bodyLimits: opts.bodyLimits,
            logger: opts.logger,
          })
        : []),
      // MLflow's GraphQL endpoint (the web UI's run and experiment pages), and the UI's helpers.
      ...graphqlRoutes({ execute: graphqlExecutor(opts), maxBodyBytes: opts.maxBodyBytes, bodyLimits: opts.bodyLimits, logger: opts.logger }),
      ...uiHelperRoutes(opts.maxBodyBytes, opts.bodyLimits),
      // The tiny live leaderboard page (WatchLeaderboard over Server-Sent Events).
      LEADERBOARD_PAGE_ROUTE,
      // MLflow's role and workspace endpoints: 501, with what to use instead.
      ...notImplementedRoutes(),
    ],
  });
  if (opts.uiDir !== undefined) await app.register(uiFilesPlugin, { dir: opts.uiDir });
  await app.ready();
  return { app, routes: () => [...new Set([...registered, ...app.gatewayBindings])] };
}
