/**
 * Driver errors → AppError. SQLite's own text never reaches a client: it stays as `cause`.
 */
import Database from "better-sqlite3";
import { AppError, unavailable } from "../../domain/errors.js";

const { SqliteError } = Database;

/** A UNIQUE or PRIMARY KEY violation: the caller knows which entity and says so in MLflow's words. */
export function isUniqueViolation(err: unknown): boolean {
  return err instanceof SqliteError && (err.code === "SQLITE_CONSTRAINT_UNIQUE" || err.code === "SQLITE_CONSTRAINT_PRIMARYKEY");
}

/** Result codes (and their extended forms) that mean "try again later", not "your request is wrong". */
const TRANSIENT = ["SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_CANTOPEN", "SQLITE_IOERR", "SQLITE_FULL", "SQLITE_READONLY"];

export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof SqliteError && TRANSIENT.some((code) => err.code === code || err.code.startsWith(`${code}_`))) {
    return unavailable("The SQLite database is unavailable", err);
  }
  return AppError.from(err);
}
