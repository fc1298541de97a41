/**
 * Driver errors → AppError, in one place. Driver text never reaches a message: it stays as `cause` for the logs.
 * Duplicate keys are translated where they happen (the message depends on what was being written).
 */
import {
  MongoBulkWriteError,
  MongoClientClosedError,
  MongoNetworkError,
  MongoNotConnectedError,
  MongoServerClosedError,
  MongoServerError,
  MongoServerSelectionError,
  MongoTopologyClosedError,
} from "mongodb";
import { AppError, unavailable } from "../../domain/errors.js";

export const UNAVAILABLE_MESSAGE = "The database is unavailable; try again later.";

/** Server codes that mean "not reachable right now" (shutdown, failover, network), not "your request is wrong". */
const UNAVAILABLE_CODES = new Set([
  6, // HostUnreachable
  7, // HostNotFound
  89, // NetworkTimeout
  91, // ShutdownInProgress
  189, // PrimarySteppedDown
  9001, // SocketException
  10107, // NotWritablePrimary
  11600, // InterruptedAtShutdown
  11602, // InterruptedDueToReplStateChange
  13435, // NotPrimaryNoSecondaryOk
  13436, // NotPrimaryOrSecondary
]);

/** Driver-side errors (not server answers) that mean the connection or pool went away under us. */
const UNAVAILABLE_DRIVER_ERRORS = new Set(["MongoWaitQueueTimeoutError", "MongoOperationTimeoutError", "MongoPoolClosedError"]);

/** FerretDB answers in-flight commands with InternalError (code 1) while it shuts down or loses its backend. */
const FERRETDB_GOING_AWAY = /context canceled|database is closed|shutting down|connection (?:reset|refused|closed)|broken pipe/i;

export function isUnavailableError(err: unknown): boolean {
  if (err instanceof Error && UNAVAILABLE_DRIVER_ERRORS.has(err.name)) return true;
  if (err instanceof MongoServerError && err.code === 1 && FERRETDB_GOING_AWAY.test(err.message)) return true;
  return (
    err instanceof MongoNetworkError || // includes timeouts and a pool cleared by a failed connection
    err instanceof MongoServerSelectionError ||
    err instanceof MongoTopologyClosedError ||
    err instanceof MongoNotConnectedError ||
    err instanceof MongoClientClosedError ||
    err instanceof MongoServerClosedError ||
    (err instanceof MongoServerError && typeof err.code === "number" && UNAVAILABLE_CODES.has(err.code))
  );
}

const DUPLICATE_KEY = new Set([11000, 11001]);

/** A duplicate-key error, or a bulk write whose every failure is one. */
export function isDuplicateKeyError(err: unknown): boolean {
  if (err instanceof MongoBulkWriteError) {
    const errors = err.writeErrors;
    const list = Array.isArray(errors) ? errors : [errors];
    return list.length > 0 && list.every((e) => DUPLICATE_KEY.has(e.code));
  }
  return err instanceof MongoServerError && typeof err.code === "number" && DUPLICATE_KEY.has(err.code);
}

/**
 * FerretDB v1.24 reports a unique-index violation by an update as InternalError (code 1, "UNIQUE constraint
 * failed") rather than E11000. Callers that update a uniquely indexed field treat either as a duplicate.
 */
export function mayBeDuplicateKeyOnUpdate(err: unknown): boolean {
  return isDuplicateKeyError(err) || (err instanceof MongoServerError && /UNIQUE constraint failed/.test(err.message));
}

/**
 * MongoDB refused a write because the document would pass its 16 MB limit (BSONObjectTooLarge, or the update's
 * "Resulting document after update is larger than …"). FerretDB v1.24 enforces no limit on updates.
 */
export function isDocumentTooLarge(err: unknown): boolean {
  return err instanceof MongoServerError && (err.code === 10334 || err.code === 17419 || /document after update is larger than/i.test(err.message));
}

export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (isUnavailableError(err)) return unavailable(UNAVAILABLE_MESSAGE, err);
  return AppError.from(err);
}

/** Runs `op`, letting only AppErrors out. */
export async function guard<T>(op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    throw toAppError(err);
  }
}

/** Every method of `methods` behind `guard`. */
export function guarded<T extends object>(methods: T): T {
  const out: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(methods)) {
    out[name] = typeof fn === "function" ? (...args: unknown[]) => guard(() => fn.apply(methods, args)) : fn;
  }
  return out as T;
}

/**
 * Compare-and-set loops (tags, params) give up after this many lost races; each lost race means another writer
 * succeeded, so this only trips under a storm of writes to one document.
 */
export const MAX_CAS_ATTEMPTS = 50;

/** Too many concurrent writers of one document: the client may retry (HTTP 503). */
export const contended = (what: string, cause?: unknown) =>
  unavailable(`Too many concurrent updates of ${what}; try again.`, cause);
