/**
 * Server configuration. Every flag has an environment variable LOGBOOK_<FLAG>; precedence is flag,
 * then environment, then default (commander's Option.env). The server never reads MONGODB_URI.
 */
import { type Command, InvalidArgumentError, Option } from "commander";
import { DEFAULT_MAX_ALIASES, DEFAULT_MAX_ROOT_FIELDS } from "../graphql/query-limits.js";
import { SQLITE_SYNCHRONOUS_MODES, type SqliteSynchronous } from "../store/sqlite/durability.js";

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
  /** SQLite's `synchronous` setting: "full" (default; acknowledged writes survive power loss), "normal" or "off". */
  sqliteSynchronous?: SqliteSynchronous;
}

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
    );
}

function serveArtifactsOf(flag: unknown, env: string | undefined): boolean {
  if (typeof flag === "boolean") return flag;
  if (env === undefined || env === "") return true;
  if (/^(true|1|yes)$/i.test(env)) return true;
  if (/^(false|0|no)$/i.test(env)) return false;
  throw new InvalidArgumentError(`LOGBOOK_SERVE_ARTIFACTS: expected true or false, got "${env}"`);
}

export function resolveConfig(opts: Record<string, unknown>, env: NodeJS.ProcessEnv = process.env): ServerConfig {
  return {
    host: String(opts.host),
    grpcPort: Number(opts.grpcPort),
    httpPort: Number(opts.httpPort),
    maxBodyBytes: Number(opts.maxBodyBytes),
    dataDir: String(opts.dataDir),
    store: String(opts.store),
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
    sqliteSynchronous: opts.sqliteSynchronous as SqliteSynchronous,
  };
}
