/**
 * The Logbook process: opens the store, serves every service over gRPC with health and reflection,
 * and shuts down gracefully (stop accepting, finish in-flight calls, close the store).
 */
import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { Server } from "@grpc/grpc-js";
import { HealthImplementation } from "grpc-health-check";
import { ReflectionService } from "@grpc/reflection";
import { pino, type Logger } from "pino";
import { adaptService } from "../grpc/adapt-service.js";
import { grpcInterceptors } from "../grpc/interceptors/index.js";
import { responseEncoders } from "../grpc/message-codec.js";
import type { BodyLimits } from "../edge/body-limits.js";
import { createInFlightLimiter, type InFlightLimiter } from "../edge/in-flight.js";
import { defaultAllowedHosts } from "../edge/host-policy.js";
import { unmappedRoutes } from "../edge/route-families.js";
import { type Store, canStreamChanges } from "../store/types.js";
import type { ServerConfig } from "./config.js";
import { openStore } from "./open-store.js";
import { createHttpServer } from "./http-server.js";
import { descriptorSetPath } from "./paths.js";
import { reflectionPackageDefinition } from "./reflection.js";
import { createServices, GENERATED_METADATA } from "./services.js";
import { StoreHealth } from "./store-health.js";
import { LOGBOOK_VERSION } from "./version.js";
import type { ServerRuntime } from "../services/server-runtime.js";
import { openArtifactRoots, type OpenedArtifactStore } from "../artifacts/open.js";
import { instrumentArtifactRoots } from "../observability/instrument-artifacts.js";
import { instrumentStore } from "../observability/instrument-store.js";
import type { Metrics } from "../observability/metrics.js";
import { metricsOnHttpPort, startObservability } from "./observability.js";
import { DEFAULT_MAX_ALIASES, DEFAULT_MAX_ROOT_FIELDS } from "../graphql/query-limits.js";
import { createAccessControl } from "../services/auth/access-control.js";
import { ensureAdmin } from "../services/auth/auth-service.js";
import { createAuthenticator } from "../services/auth/authenticator.js";
import { checkExposure } from "./exposure.js";
import { grpcCredentials, loadTls } from "./tls.js";
import { SUPPORTED_MLFLOW_VERSION, locateUiBundle } from "./ui-bundle.js";
import { createChangeFeed } from "../services/watch/change-feed.js";
import { createWatchHub, type WatchHub } from "../services/watch/watch-hub.js";

export interface Logbook {
  grpcPort: number;
  httpPort: number;
  store: Store;
  /** The artifact store (its read counters are observable by tests). */
  artifacts: OpenedArtifactStore;
  health: StoreHealth;
  /** The in-flight cap shared by both transports. */
  inFlight: InFlightLimiter;
  /** Every registered route: HTTP route patterns and gRPC method paths (each maps to a route family). */
  routes: { http: string[]; grpc: string[] };
  /** The live watches (counts for tests and status). */
  watch: WatchHub;
  /** The HTTP routes registered, with their methods (method and fastify URL). */
  httpRoutes(): ReadonlyArray<{ method: string; url: string }>;
  /** With `--metrics-port`: the port serving /metrics. */
  metricsPort?: number;
  /** The Prometheus registry and metrics (undefined with `--no-metrics`). */
  metrics: Metrics | undefined;
  /** Graceful shutdown; resolves when in-flight calls have finished and the store is closed. */
  close(): Promise<void>;
}

export async function startLogbook(config: ServerConfig, logger: Logger = pino({ level: config.logLevel })): Promise<Logbook> {
  const authMode = config.auth ?? "none";
  if ((config.tlsCertFile === undefined) !== (config.tlsKeyFile === undefined)) throw new Error("--tls-cert-file and --tls-key-file go together");
  const tls = config.tlsCertFile && config.tlsKeyFile ? loadTls({ certFile: config.tlsCertFile, keyFile: config.tlsKeyFile }) : undefined;
  const exposureWarning = checkExposure({ host: config.host, auth: authMode, insecureNoAuth: config.insecureNoAuth ?? false, tls: tls !== undefined });
  if (exposureWarning) logger.warn(exposureWarning);
  // Before anything is opened: asking for the UI without a bundle fails the start with what to install.
  const ui = config.ui ? await locateUiBundle(config.uiDir === undefined ? {} : { uiDir: config.uiDir }) : undefined;
  if (ui) {
    logger.info({ ui: ui.dir, source: ui.source, mlflowVersion: ui.mlflowVersion }, "MLflow UI bundle found");
    if (ui.mlflowVersion !== undefined && ui.mlflowVersion !== SUPPORTED_MLFLOW_VERSION) {
      logger.warn({ mlflowVersion: ui.mlflowVersion, supported: SUPPORTED_MLFLOW_VERSION }, "the MLflow UI bundle is from another MLflow release; some pages may call endpoints Logbook does not serve");
    }
  }
  const serveArtifacts = config.serveArtifacts ?? true;
  // The gauges read the in-flight cap, the health check and the artifact stores, made below, when scraped.
  const observability = await startObservability(config, logger, {
    inFlight: () => inFlight.count,
    storeUp: () => health.reachable,
    artifactBytesRead: () => opened.stores.reduce((n, s) => n + s.counters.bytesRead, 0),
  });
  const { metrics } = observability;
  // The roots first: the store needs the default artifact root for the experiments it creates.
  let opened: Awaited<ReturnType<typeof openArtifactRoots>>;
  try {
    opened = await openArtifactRoots({
      artifactsDestination: config.artifactsDestination,
      defaultArtifactRoot: config.defaultArtifactRoot,
      serveArtifacts,
      storeSpec: config.store,
      dataDir: config.dataDir,
    });
  } catch (err) {
    await observability.close();
    throw err;
  }
  const { roots, destination: artifacts } = opened;
  let store: Store;
  try {
    // Every store call from here on, health pings included, is timed (and traced inside a traced call).
    store = instrumentStore(
      openStore(config.store, config.dataDir, {
        defaultArtifactRoot: roots.defaultArtifactRoot,
        ...(config.sqliteSynchronous ? { sqliteSynchronous: config.sqliteSynchronous } : {}),
      }),
      observability,
    );
    await store.init();
  } catch (err) {
    await opened.close();
    await observability.close();
    throw err;
  }
  logger.info({ store: store.status }, "store ready");
  logger.info(
    { artifacts: { kind: artifacts.kind, location: artifacts.location, serveArtifacts, defaultArtifactRoot: roots.defaultArtifactRoot } },
    "artifact store ready",
  );

  const ports: { grpc?: number; http?: number } = {};
  const health = new StoreHealth(store, config.healthIntervalMs, logger);
  const runtime: ServerRuntime = {
    version: LOGBOOK_VERSION,
    startedAt: Date.now(),
    storeReachable: () => health.reachable,
    ports: () => ports,
    artifacts: { kind: artifacts.kind, location: artifacts.location },
  };
  let auth: Parameters<typeof createServices>[0]["auth"];
  if (authMode === "basic") {
    try {
      await bootstrapAdmin(store, config, logger);
    } catch (err) {
      await opened.close();
      await store.close();
      throw err;
    }
    auth = {
      authenticator: createAuthenticator({ store }),
      access: createAccessControl({ store, defaultPermission: config.authDefaultPermission ?? "READ" }),
    };
  }
  const authenticate = auth?.authenticator.authenticate;
  const watch = createWatchHub({
    store,
    logger,
    feed: createChangeFeed({
      store,
      logger,
      // MongoDB replica sets push other processes' changes; everything else polls the change log.
      remote: canStreamChanges(store) ? store.changeStream() : undefined,
      pollMs: config.watchPollMs,
      retentionMs: config.watchRetentionS * 1000,
    }),
    limits: { maxLag: config.watchMaxLag },
  });
  const services = createServices({ store, roots: instrumentArtifactRoots(roots, metrics), runtime, watch, logger, ...(auth ? { auth } : {}) });
  const inFlight = createInFlightLimiter(config.maxInFlight);
  const bodyLimits: BodyLimits = { idleTimeoutMs: config.bodyIdleTimeoutS * 1000, minBytesPerSecond: config.bodyMinBytesPerS };
  const server = new Server({ "grpc.max_concurrent_streams": config.grpcMaxConcurrentStreams });
  // Every method registered, whoever registers it (our services, health, reflection), for the route-family check.
  const grpcMethods: string[] = [];
  const addService = server.addService.bind(server);
  server.addService = (definition, implementation) => {
    grpcMethods.push(...Object.values(definition).map((m) => m.path));
    addService(definition, implementation);
  };
  const interceptors = grpcInterceptors({ inFlight, bodyLimits, ...(authenticate ? { authenticate } : {}), calls: observability.calls });
  const descriptorSet = readFileSync(descriptorSetPath());
  const encoders = responseEncoders(descriptorSet, GENERATED_METADATA);
  const grpcStreams = observability.streams("grpc");
  for (const s of services) {
    const adapted = adaptService(s, { logger, interceptors, encoders, ...(grpcStreams ? { streamObservers: grpcStreams } : {}) });
    server.addService(adapted.definition as never, adapted.implementation);
  }

  // Health lists exactly the services registered above, plus "" for the whole server.
  const serviceNames = ["", ...services.map((s) => s.name)];
  const grpcHealth = new HealthImplementation(Object.fromEntries(serviceNames.map((n) => [n, "NOT_SERVING" as const])));
  grpcHealth.addToServer(server);
  const setAll = (status: "SERVING" | "NOT_SERVING") => serviceNames.forEach((n) => grpcHealth.setStatus(n, status));
  health.on("change", (reachable) => setAll(reachable ? "SERVING" : "NOT_SERVING"));

  if (config.grpcReflection !== false) new ReflectionService(reflectionPackageDefinition(descriptorSet)).addToServer(server);
  const httpStreams = observability.streams("http");
  const { app: http, routes: httpRoutes } = await createHttpServer({
    services,
    descriptorSet,
    storeKind: store.status.kind,
    serveArtifacts,
    maxBodyBytes: config.maxBodyBytes,
    health,
    ...(ui ? { uiDir: ui.dir } : {}),
    graphqlLimits: {
      maxRootFields: config.graphqlMaxRootFields ?? DEFAULT_MAX_ROOT_FIELDS,
      maxAliases: config.graphqlMaxAliases ?? DEFAULT_MAX_ALIASES,
    },
    ...(authenticate ? { authenticate } : {}),
    ...(tls ? { tls } : {}),
    logger,
    inFlight,
    bodyLimits,
    allowedHosts: config.allowedHosts.length > 0 ? config.allowedHosts : defaultAllowedHosts(config.host),
    corsAllowedOrigins: config.corsAllowedOrigins,
    headersTimeoutMs: config.headersTimeoutS * 1000,
    keepAliveTimeoutMs: config.keepAliveTimeoutS * 1000,
    ...(metrics && metricsOnHttpPort(config) ? { metrics } : {}),
    calls: observability.calls,
    ...(httpStreams ? { streamObservers: httpStreams } : {}),
  });
  const routes = { http: httpRoutes(), grpc: grpcMethods };
  const unmapped = unmappedRoutes(routes);
  if (unmapped.length > 0) {
    await http.close();
    await opened.close();
    await store.close();
    await observability.close();
    throw new Error(`routes without a route family (add them to src/edge/route-families.ts): ${unmapped.join(", ")}`);
  }

  const grpcPort = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${config.host}:${config.grpcPort}`, grpcCredentials(tls), (err, port) =>
      err ? reject(err) : resolve(port),
    ),
  );
  ports.grpc = grpcPort;
  await http.listen({ host: config.host, port: config.httpPort });
  const httpPort = (http.server.address() as AddressInfo).port;
  ports.http = httpPort;
  const metricsPort = await observability.listen(config.host);
  await health.start();
  logger.info({ host: config.host, grpcPort }, "gRPC server listening");
  logger.info({ host: config.host, httpPort }, "HTTP server listening");

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      logger.info({ inFlight: inFlight.count }, "shutting down: refusing new calls, finishing in-flight ones");
      health.stop();
      setAll("NOT_SERVING");
      // Live watches never end on their own: end them now (UNAVAILABLE), so that in-flight calls can finish.
      await watch.close();
      const grpcDone = new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), config.shutdownTimeoutS * 1000);
      });
      // Both transports stop accepting at once and let in-flight calls finish.
      const finished = Promise.all([grpcDone, http.close()]);
      if ((await Promise.race([finished, timedOut])) === "timeout") {
        logger.warn({ inFlight: inFlight.count }, "shutdown timeout: cancelling in-flight calls");
        server.forceShutdown();
        http.server.closeAllConnections();
      }
      clearTimeout(timer);
      await opened.close();
      await store.close();
      await observability.close();
      logger.info("stopped");
    })());

  return {
    grpcPort,
    httpPort,
    ...(metricsPort !== undefined ? { metricsPort } : {}),
    store,
    artifacts,
    health,
    inFlight,
    routes,
    watch,
    metrics,
    httpRoutes: () => http.registeredRoutes,
    close,
  };
}

/**
 * With `--auth basic` there must be an admin: the one the environment names is created when absent (never with a
 * default password); without one, a store that has no admin yet cannot be administered, so the start fails.
 */
async function bootstrapAdmin(store: Store, config: ServerConfig, logger: Logger): Promise<void> {
  if (config.admin) {
    if (await ensureAdmin(store, config.admin.username, config.admin.password)) logger.info({ admin: config.admin.username }, "admin user created");
    return;
  }
  if (!(await store.listUsers()).some((u) => u.isAdmin)) {
    throw new Error(
      "--auth basic needs an admin: set LOGBOOK_ADMIN_USERNAME and LOGBOOK_ADMIN_PASSWORD (or LOGBOOK_ADMIN_PASSWORD_FILE) for the first start.",
    );
  }
}
