/**
 * Which server answers the MongoDB wire protocol, found once when the store connects (`buildInfo` and `hello`), and
 * the paths the store takes because of it. FerretDB v1.24 (the tests' stand-in) reports a MongoDB 7.0 version but
 * says `ferretdbVersion` in its buildInfo; it updates a document by reading it and writing all of it back without
 * isolation, and it has no wildcard indexes, pipeline updates, transactions or change streams.
 */
import type { Db, Document } from "mongodb";
import { AppError, ErrorCode } from "../../domain/errors.js";

export interface ServerKind {
  kind: "mongodb" | "ferretdb";
  /** The server's own version: MongoDB's, or FerretDB's. */
  version: string;
  /**
   * A conditional update of one document is atomic (MongoDB): run writes are compare-and-set on the run's `rev`.
   * Without it (FerretDB) every run write holds the run's lease (run-writer.ts).
   */
  atomicUpdates: boolean;
  /** Wildcard indexes (`field.$**`) exist: the metric-order indexes are created. */
  wildcardIndexes: boolean;
  /** A replica set or a sharded cluster: change streams can be opened (live watches: change-stream.ts). */
  changeStreams: boolean;
}

export const MIN_MONGODB_VERSION: readonly [number, number] = [6, 0];

/** The store's view of a server from its `buildInfo` and `hello` answers. @throws when MongoDB is older than 6.0 */
export function serverKindOf(buildInfo: Document, hello: Document): ServerKind {
  if (typeof buildInfo.ferretdbVersion === "string") {
    return { kind: "ferretdb", version: buildInfo.ferretdbVersion, atomicUpdates: false, wildcardIndexes: false, changeStreams: false };
  }
  const version = typeof buildInfo.version === "string" ? buildInfo.version : "";
  const [major = 0, minor = 0] = Array.isArray(buildInfo.versionArray)
    ? (buildInfo.versionArray as number[])
    : version.split(".").map((n) => Number.parseInt(n, 10));
  const [needMajor, needMinor] = MIN_MONGODB_VERSION;
  if (major < needMajor || (major === needMajor && minor < needMinor)) {
    throw new AppError(ErrorCode.INVALID_STATE, `Logbook needs MongoDB ${needMajor}.${needMinor} or later; this server is MongoDB ${version || "of an unknown version"}.`);
  }
  const replicated = typeof hello.setName === "string" || hello.msg === "isdbgrid";
  return { kind: "mongodb", version, atomicUpdates: true, wildcardIndexes: true, changeStreams: replicated };
}

export async function detectServerKind(db: Db): Promise<ServerKind> {
  const admin = db.admin();
  const [buildInfo, hello] = await Promise.all([admin.command({ buildInfo: 1 }), admin.command({ hello: 1 })]);
  return serverKindOf(buildInfo, hello);
}
