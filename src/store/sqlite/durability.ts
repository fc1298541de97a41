/**
 * SQLite's `synchronous` setting, as `--sqlite-synchronous` offers it. Logbook runs SQLite in WAL mode, where:
 * - `full` (the default): every commit is fsynced before it is acknowledged; an acknowledged write survives an OS
 *   crash or power loss. Group commit (group-commit.ts) keeps ingest fast by sharing one fsync among the writers
 *   that arrive together.
 * - `normal`: commits are not fsynced (the WAL is synced at checkpoints); a process crash loses nothing, but an OS
 *   crash or power loss may lose the last acknowledged commits (the database stays consistent).
 * - `off`: nothing is ever fsynced; an OS crash or power loss may lose commits and can corrupt the database.
 */
export const SQLITE_SYNCHRONOUS_MODES = ["full", "normal", "off"] as const;
export type SqliteSynchronous = (typeof SQLITE_SYNCHRONOUS_MODES)[number];
export const DEFAULT_SQLITE_SYNCHRONOUS: SqliteSynchronous = "full";
