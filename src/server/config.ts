/**
 * Server configuration. Every flag has an environment variable LOGBOOK_<FLAG>; precedence is flag,
 * then environment, then default (commander's Option.env). The server never reads MONGODB_URI.
 */
import { readFileSync } from "node:fs";
import { Command, InvalidArgumentError, Option } from "commander";
import { DEFAULT_BODY_IDLE_TIMEOUT_S, DEFAULT_BODY_MIN_BYTES_PER_S } from "../edge/body-limits.js";
import { DEFAULT_MAX_IN_FLIGHT } from "../edge/in-flight.js";
import { DEFAULT_MAX_ALIASES, DEFAULT_MAX_ROOT_FIELDS } from "../graphql/query-limits.js";
import { SQLITE_SYNCHRONOUS_MODES, type SqliteSynchronous } from "../store/sqlite/durability.js";
import { DEFAULT_PERMISSIONS, type PermissionName } from "../domain/permission.js";

export interface ServerConfig {
  host: string;
  grpcPort: number;
  httpPort: number;
  /** Largest JSON body the HTTP gateway accepts (413 above it). */
  maxBodyBytes: number;
  dataDir: string;
  /** "sqlite:" (a file in the data dir), "sqlite:<path>", or a mongodb:// / mongodb+srv:// URI. */
  store: string;
  /** `file:///abs/dir` or `gridfs:[bucket]`; unset: `file://<data-dir>/artifacts` (SQLite) or `gridfs:artifacts` (MongoDB). */
  artifactsDestination?: string;
  /**
   * The root of new experiments' artifact locations (MLflow's `--default-artifact-root`); unset: `mlflow-artifacts:/`
   * when serving artifacts, else the data dir's `artifacts` directory.
   */
  defaultArtifactRoot?: string;
  /** MLflow's `--serve-artifacts` (default) / `--no-serve-artifacts`: whether the artifact proxy routes answer. Default true. */
  serveArtifacts?: boolean;
  logLevel: string;
  /** How often the store is pinged for health, in milliseconds. */
  healthIntervalMs: number;
  /** How long a graceful shutdown waits for in-flight calls before cancelling them, in seconds. */
  shutdownTimeoutS: number;
  /** Serve MLflow's web UI (index.html at `/`, its files under `/static-files/`); default off. */
  ui?: boolean;
  /** The UI bundle's directory (holding index.html); unset: the `mlflow` package of the first python3 on PATH. */
  uiDir?: string;
  /** MLflow's GraphQL limits: root fields of one query, aliases of one selection set (default 10 each). */
  graphqlMaxRootFields?: number;
  graphqlMaxAliases?: number;
  /** Calls and HTTP requests in flight at once, both transports together; beyond it: 503 / UNAVAILABLE. */
  maxInFlight: number;
  /** Concurrent gRPC streams (calls) per HTTP/2 connection. */
  grpcMaxConcurrentStreams: number;
  /** Host header values the HTTP port accepts; empty: the default (localhost, loopback, this machine's addresses). */
  allowedHosts: string[];
  /** Origins allowed to send state-changing requests from browsers, and to get CORS headers; empty: none. */
  corsAllowedOrigins: string[];
  /** How long a client has to send a request's headers, in seconds. */
  headersTimeoutS: number;
  /** A request body (or client stream) that sends nothing for this long is cut, in seconds. */
  bodyIdleTimeoutS: number;
  /** Minimum average rate of a request body, checked once it has waited bodyIdleTimeoutS; 0: off. */
  bodyMinBytesPerS: number;
  /** How long an idle HTTP keep-alive connection is kept, in seconds. */
  keepAliveTimeoutS: number;
  /** SQLite's `synchronous` setting: "full" (default; acknowledged writes survive power loss), "normal" or "off". */
  sqliteSynchronous: SqliteSynchronous;
  /** How often the store's change log is read for other processes' changes (when no change stream serves), in ms. Default 250. */
  watchPollMs: number;
  /** How long the change log keeps changes (resumes within it replay; older ones get a fresh snapshot), in seconds. Default 3600. */
  watchRetentionS: number;
  /** How many changes a watcher may fall behind (coalesced) before it is cut with RESOURCE_EXHAUSTED. Default 100,000. */
  watchMaxLag: number;
  /** `basic`: every call but the probes needs credentials (HTTP Basic, a Bearer token, or gRPC `authorization` metadata). */
  auth?: "none" | "basic";
  /** What a user may do on a resource with no grant of theirs (MLflow's default_permission); default READ. */
  authDefaultPermission?: PermissionName;
  /** Allows `--auth none` on a non-loopback address. */
  insecureNoAuth?: boolean;
  /** TLS on both ports: a PEM certificate chain and its key. */
  tlsCertFile?: string;
  tlsKeyFile?: string;
  /** gRPC server reflection (default on). */
  grpcReflection?: boolean;
  /** The first admin (LOGBOOK_ADMIN_USERNAME / LOGBOOK_ADMIN_PASSWORD or LOGBOOK_ADMIN_PASSWORD_FILE), created at start when absent. */
  admin?: { username: string; password: string };
  /** Prometheus metrics and GET /metrics (`--no-metrics`: neither). */
  metrics: boolean;
  /** Serve /metrics only on this port (on --host), not on the HTTP port. */
  metricsPort?: number;
  /** One info log line per request (`--no-log-requests`: none). */
  logRequests: boolean;
  /** Unary requests slower than this are logged at warn, in milliseconds. */
  slowRequestMs: number;
}

export const WATCH_DEFAULTS = { pollMs: 250, retentionS: 3600, maxLag: 100_000 } as const;

function integer(min: number, max: number) {
  return (raw: string): number => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
    return n;
  };
}

const port = integer(0, 65535);

/** A switch that also reads its environment variable: `--ui` alone, `--ui false`, LOGBOOK_UI=true|false|1|0. */
function boolean(raw: string | boolean): boolean {
  if (typeof raw === "boolean") return raw;
  const value = raw.trim().toLowerCase();
  if (["true", "1", "yes", "on"].includes(value)) return true;
  if (["false", "0", "no", "off", ""].includes(value)) return false;
  throw new InvalidArgumentError("expected true or false");
}
const list = (raw: string): string[] =>
  raw
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

/** Adds the server options to a command; `resolveConfig` reads them back. */
export function addServerOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option("--host <address>", "address to listen on").env("LOGBOOK_HOST").default("127.0.0.1"))
    .addOption(new Option("--grpc-port <port>", "gRPC port (0 picks a free one)").env("LOGBOOK_GRPC_PORT").default(50051).argParser(port))
    .addOption(
      new Option("--http-port <port>", "HTTP/JSON port: MLflow REST API and /mlflow/* (0 picks a free one)")
        .env("LOGBOOK_HTTP_PORT")
        .default(5000)
        .argParser(port),
    )
    .addOption(
      new Option("--max-body-bytes <bytes>", "largest JSON request body accepted over HTTP")
        .env("LOGBOOK_MAX_BODY_BYTES")
        .default(32 * 1024 * 1024)
        .argParser(integer(1024, 2 ** 31)),
    )
    .addOption(new Option("--data-dir <dir>", "directory for the embedded store").env("LOGBOOK_DATA_DIR").default("./logbook-data"))
    .addOption(
      new Option("--store <uri>", 'where data lives: "sqlite:" (in the data dir), "sqlite:<file>", or a mongodb:// URI')
        .env("LOGBOOK_STORE")
        .default("sqlite:"),
    )
    .addOption(
      new Option("--store-file <file>", "read the --store value from this file (keeps a MongoDB password out of the process list)").env(
        "LOGBOOK_STORE_FILE",
      ),
    )
    .addOption(
      new Option("--sqlite-synchronous <mode>", "SQLite durability: full (survives power loss), normal or off")
        .env("LOGBOOK_SQLITE_SYNCHRONOUS")
        .choices(SQLITE_SYNCHRONOUS_MODES)
        .default("full"),
    )
    .addOption(
      new Option(
        "--artifacts-destination <uri>",
        'where artifact files live: "file:///abs/dir" or "gridfs:[bucket]" (default: file://<data-dir>/artifacts for SQLite, gridfs:artifacts for MongoDB)',
      ).env("LOGBOOK_ARTIFACTS_DESTINATION"),
    )
    .addOption(
      new Option(
        "--default-artifact-root <uri>",
        'root of new experiments\' artifact locations: a directory (path or file:///abs/dir), or any URI clients write to themselves (s3://…); default mlflow-artifacts:/ (proxied), or <data-dir>/artifacts with --no-serve-artifacts',
      ).env("LOGBOOK_DEFAULT_ARTIFACT_ROOT"),
    )
    // Both spellings, as MLflow has them; LOGBOOK_SERVE_ARTIFACTS=true|false is read by resolveConfig (commander would
    // treat any value of a boolean option's variable as "on").
    .addOption(new Option("--serve-artifacts", "serve artifacts through the proxy routes (mlflow-artifacts:/ URIs; the default) [env: LOGBOOK_SERVE_ARTIFACTS]"))
    .addOption(new Option("--no-serve-artifacts", "do not serve the artifact proxy routes (503), as MLflow's --no-serve-artifacts"))
    .addOption(
      new Option("--log-level <level>", "log level")
        .env("LOGBOOK_LOG_LEVEL")
        .choices(["fatal", "error", "warn", "info", "debug", "trace", "silent"])
        .default("info"),
    )
    .addOption(
      new Option("--health-interval-ms <ms>", "how often the store is pinged for health")
        .env("LOGBOOK_HEALTH_INTERVAL_MS")
        .default(2000)
        .argParser(integer(100, 600_000)),
    )
    .addOption(
      new Option("--shutdown-timeout-s <s>", "how long shutdown waits for in-flight calls")
        .env("LOGBOOK_SHUTDOWN_TIMEOUT_S")
        .default(30)
        .argParser(integer(0, 3600)),
    )
    .addOption(
      new Option("--ui [enabled]", "serve the MLflow web UI (needs its bundle: pip install mlflow==3.17.2, or --ui-dir)")
        .env("LOGBOOK_UI")
        .default(false)
        .preset(true)
        .argParser(boolean),
    )
    .addOption(
      new Option("--ui-dir <dir>", "the MLflow UI bundle (default: mlflow/server/js/build of the first python3 on PATH with mlflow)").env(
        "LOGBOOK_UI_DIR",
      ),
    )
    .addOption(
      new Option("--graphql-max-root-fields <n>", "most root fields of one GraphQL query (MLflow's limit)")
        .env("LOGBOOK_GRAPHQL_MAX_ROOT_FIELDS")
        .default(DEFAULT_MAX_ROOT_FIELDS)
        .argParser(integer(1, 1000)),
    )
    .addOption(
      new Option("--graphql-max-aliases <n>", "most aliases in one selection set of a GraphQL query (MLflow's limit)")
        .env("LOGBOOK_GRAPHQL_MAX_ALIASES")
        .default(DEFAULT_MAX_ALIASES)
        .argParser(integer(0, 1000)),
    )
    .addOption(
      new Option("--max-in-flight <n>", "calls and HTTP requests in flight at once (both transports); beyond it 503 / UNAVAILABLE")
        .env("LOGBOOK_MAX_IN_FLIGHT")
        .default(DEFAULT_MAX_IN_FLIGHT)
        .argParser(integer(1, 1_000_000)),
    )
    .addOption(
      new Option("--grpc-max-concurrent-streams <n>", "concurrent gRPC calls per HTTP/2 connection")
        .env("LOGBOOK_GRPC_MAX_CONCURRENT_STREAMS")
        .default(100)
        .argParser(integer(1, 100_000)),
    )
    .addOption(
      new Option(
        "--allowed-hosts <hosts>",
        "comma-separated Host header values the HTTP port accepts (* for any; default: localhost, loopback and this machine's addresses)",
      )
        .env("LOGBOOK_ALLOWED_HOSTS")
        .argParser(list),
    )
    .addOption(
      new Option("--cors-allowed-origins <origins>", "comma-separated browser origins allowed to change state and get CORS headers (* for any)")
        .env("LOGBOOK_CORS_ALLOWED_ORIGINS")
        .argParser(list),
    )
    .addOption(
      new Option("--headers-timeout-s <s>", "time a client has to send a request's headers")
        .env("LOGBOOK_HEADERS_TIMEOUT_S")
        .default(30)
        .argParser(integer(1, 3600)),
    )
    .addOption(
      new Option("--body-idle-timeout-s <s>", "a request body or upload stream that sends nothing for this long is cut")
        .env("LOGBOOK_BODY_IDLE_TIMEOUT_S")
        .default(DEFAULT_BODY_IDLE_TIMEOUT_S)
        .argParser(integer(1, 3600)),
    )
    .addOption(
      new Option("--body-min-bytes-per-s <n>", "minimum average rate of a request body once it has waited --body-idle-timeout-s (0: off)")
        .env("LOGBOOK_BODY_MIN_BYTES_PER_S")
        .default(DEFAULT_BODY_MIN_BYTES_PER_S)
        .argParser(integer(0, 2 ** 31)),
    )
    .addOption(
      new Option("--keep-alive-timeout-s <s>", "how long an idle HTTP keep-alive connection is kept open")
        .env("LOGBOOK_KEEP_ALIVE_TIMEOUT_S")
        .default(5)
        .argParser(integer(1, 3600)),
    )
    .addOption(
      new Option("--watch-poll-ms <ms>", "how often live watches read other processes' changes from the store (without a MongoDB change stream)")
        .env("LOGBOOK_WATCH_POLL_MS")
        .default(WATCH_DEFAULTS.pollMs)
        .argParser(integer(10, 60_000)),
    )
    .addOption(
      new Option("--watch-retention-s <s>", "how long the store keeps changes for watchers that resume")
        .env("LOGBOOK_WATCH_RETENTION_S")
        .default(WATCH_DEFAULTS.retentionS)
        .argParser(integer(1, 30 * 86_400)),
    )
    .addOption(
      new Option("--watch-max-lag <changes>", "how many changes a slow watcher may fall behind before it is cut (RESOURCE_EXHAUSTED)")
        .env("LOGBOOK_WATCH_MAX_LAG")
        .default(WATCH_DEFAULTS.maxLag)
        .argParser(integer(1, 100_000_000)),
    )
    .addOption(
      new Option("--auth <mode>", "authentication: none, or basic (users and permissions, MLflow's basic-auth API)")
        .env("LOGBOOK_AUTH")
        .choices(["none", "basic"])
        .default("none"),
    )
    .addOption(
      new Option("--auth-default-permission <permission>", "what a user may do on a resource without a grant of theirs")
        .env("LOGBOOK_AUTH_DEFAULT_PERMISSION")
        .choices(DEFAULT_PERMISSIONS as string[])
        .default("READ"),
    )
    .addOption(
      new Option("--insecure-no-auth [enabled]", "allow --auth none on an address other than loopback")
        .env("LOGBOOK_INSECURE_NO_AUTH")
        .default(false)
        .preset(true)
        .argParser(boolean),
    )
    .addOption(new Option("--tls-cert-file <file>", "serve both ports over TLS with this PEM certificate chain").env("LOGBOOK_TLS_CERT_FILE"))
    .addOption(new Option("--tls-key-file <file>", "the PEM private key of --tls-cert-file").env("LOGBOOK_TLS_KEY_FILE"))
    .addOption(
      new Option("--grpc-reflection [enabled]", "gRPC server reflection (open to anyone, like health)")
        .env("LOGBOOK_GRPC_REFLECTION")
        .default(true)
        .preset(true)
        .argParser(boolean),
    )
    // Negated flags read their variable by presence (commander): LOGBOOK_NO_METRICS=1 is --no-metrics.
    .addOption(new Option("--no-metrics", "no Prometheus metrics and no /metrics route").env("LOGBOOK_NO_METRICS"))
    .addOption(
      new Option("--metrics-port <port>", "serve /metrics only on this port, without credentials (0 picks a free one)")
        .env("LOGBOOK_METRICS_PORT")
        .argParser(port),
    )
    .addOption(new Option("--no-log-requests", "no info log line per request").env("LOGBOOK_NO_LOG_REQUESTS"))
    .addOption(
      new Option("--slow-request-ms <ms>", "log requests slower than this at warn (streams excepted)")
        .env("LOGBOOK_SLOW_REQUEST_MS")
        .default(1000)
        .argParser(integer(1, 3_600_000)),
    );
}

/** The first admin's credentials from the environment; a password file's trailing newline is not part of it. */
function adminOf(env: NodeJS.ProcessEnv): { username: string; password: string } | undefined {
  const username = env.LOGBOOK_ADMIN_USERNAME;
  const file = env.LOGBOOK_ADMIN_PASSWORD_FILE;
  if (env.LOGBOOK_ADMIN_PASSWORD && file) throw new InvalidArgumentError("set LOGBOOK_ADMIN_PASSWORD or LOGBOOK_ADMIN_PASSWORD_FILE, not both");
  let password = env.LOGBOOK_ADMIN_PASSWORD;
  if (file) {
    try {
      password = readFileSync(file, "utf8").replace(/\r?\n$/, "");
    } catch (err) {
      throw new InvalidArgumentError(`LOGBOOK_ADMIN_PASSWORD_FILE ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  }
  if (!username && !password) return undefined;
  if (!username) throw new InvalidArgumentError("LOGBOOK_ADMIN_PASSWORD is set but LOGBOOK_ADMIN_USERNAME is not");
  if (!password) throw new InvalidArgumentError("LOGBOOK_ADMIN_USERNAME is set but neither LOGBOOK_ADMIN_PASSWORD nor LOGBOOK_ADMIN_PASSWORD_FILE is");
  return { username, password };
}

function serveArtifactsOf(flag: unknown, env: string | undefined): boolean {
  if (typeof flag === "boolean") return flag;
  if (env === undefined || env === "") return true;
  if (/^(true|1|yes)$/i.test(env)) return true;
  if (/^(false|0|no)$/i.test(env)) return false;
  throw new InvalidArgumentError(`LOGBOOK_SERVE_ARTIFACTS: expected true or false, got "${env}"`);
}

/** Reads the store URI from `--store-file`: its content, trimmed (a trailing newline is common). */
function storeFromFile(file: string): string {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    throw new InvalidArgumentError(`--store-file: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  const uri = text.trim();
  if (!uri) throw new InvalidArgumentError(`--store-file: ${file} is empty`);
  return uri;
}

/**
 * The configuration from parsed options. `sourceOf` (commander's `getOptionValueSource`) tells an explicit
 * `--store` from its default, so that giving both `--store` and `--store-file` is an error, not a silent choice.
 */
export function resolveConfig(
  opts: Record<string, unknown>,
  env: NodeJS.ProcessEnv = process.env,
  sourceOf: (key: string) => string | undefined = () => undefined,
): ServerConfig {
  let store = String(opts.store);
  if (typeof opts.storeFile === "string" && opts.storeFile) {
    const source = sourceOf("store");
    if (source === "cli" || source === "env") throw new InvalidArgumentError("give --store or --store-file, not both");
    store = storeFromFile(opts.storeFile);
  }
  return {
    host: String(opts.host),
    grpcPort: Number(opts.grpcPort),
    httpPort: Number(opts.httpPort),
    maxBodyBytes: Number(opts.maxBodyBytes),
    dataDir: String(opts.dataDir),
    store,
    ...(typeof opts.artifactsDestination === "string" && opts.artifactsDestination ? { artifactsDestination: opts.artifactsDestination } : {}),
    ...(typeof opts.defaultArtifactRoot === "string" && opts.defaultArtifactRoot ? { defaultArtifactRoot: opts.defaultArtifactRoot } : {}),
    serveArtifacts: serveArtifactsOf(opts.serveArtifacts, env.LOGBOOK_SERVE_ARTIFACTS),
    logLevel: String(opts.logLevel),
    healthIntervalMs: Number(opts.healthIntervalMs),
    shutdownTimeoutS: Number(opts.shutdownTimeoutS),
    ui: opts.ui === true,
    ...(typeof opts.uiDir === "string" && opts.uiDir ? { uiDir: opts.uiDir } : {}),
    graphqlMaxRootFields: Number(opts.graphqlMaxRootFields),
    graphqlMaxAliases: Number(opts.graphqlMaxAliases),
    maxInFlight: Number(opts.maxInFlight),
    grpcMaxConcurrentStreams: Number(opts.grpcMaxConcurrentStreams),
    allowedHosts: Array.isArray(opts.allowedHosts) ? (opts.allowedHosts as string[]) : [],
    corsAllowedOrigins: Array.isArray(opts.corsAllowedOrigins) ? (opts.corsAllowedOrigins as string[]) : [],
    headersTimeoutS: Number(opts.headersTimeoutS),
    bodyIdleTimeoutS: Number(opts.bodyIdleTimeoutS),
    bodyMinBytesPerS: Number(opts.bodyMinBytesPerS),
    keepAliveTimeoutS: Number(opts.keepAliveTimeoutS),
    sqliteSynchronous: opts.sqliteSynchronous as SqliteSynchronous,
    watchPollMs: Number(opts.watchPollMs),
    watchRetentionS: Number(opts.watchRetentionS),
    watchMaxLag: Number(opts.watchMaxLag),
    auth: opts.auth === "basic" ? "basic" : "none",
    authDefaultPermission: (opts.authDefaultPermission ?? "READ") as PermissionName,
    insecureNoAuth: opts.insecureNoAuth === true,
    ...(typeof opts.tlsCertFile === "string" && opts.tlsCertFile ? { tlsCertFile: opts.tlsCertFile } : {}),
    ...(typeof opts.tlsKeyFile === "string" && opts.tlsKeyFile ? { tlsKeyFile: opts.tlsKeyFile } : {}),
    grpcReflection: opts.grpcReflection !== false,
    ...withAdmin(env),
    metrics: opts.metrics !== false,
    ...(opts.metricsPort !== undefined ? { metricsPort: Number(opts.metricsPort) } : {}),
    logRequests: opts.logRequests !== false,
    slowRequestMs: Number(opts.slowRequestMs),
  };
}

function withAdmin(env: NodeJS.ProcessEnv): { admin?: { username: string; password: string } } {
  const admin = adminOf(env);
  return admin ? { admin } : {};
}

/** Every option at its default (no flags, no environment), as tests and embedders start from. */
export function defaultServerConfig(): ServerConfig {
  const cmd = addServerOptions(new Command());
  const defaults: Record<string, unknown> = {};
  for (const option of cmd.options) if (option.defaultValue !== undefined) defaults[option.attributeName()] = option.defaultValue;
  return resolveConfig(defaults, {});
}
