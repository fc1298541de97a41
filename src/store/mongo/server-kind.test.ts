/** Telling MongoDB from FerretDB by their answers (server-kind.ts). */
import { describe, expect, it } from "vitest";
import { AppError, ErrorCode } from "../../domain/errors.js";
import { serverKindOf } from "./server-kind.js";

describe("server kind", () => {
  it("recognises FerretDB by its buildInfo, whatever MongoDB version it reports", () => {
    expect(serverKindOf({ version: "7.0.42", versionArray: [7, 0, 42, 0], ferretdbVersion: "v1.24.2" }, { isWritablePrimary: true })).toEqual({
      kind: "ferretdb",
      version: "v1.24.2",
      atomicUpdates: false,
      wildcardIndexes: false,
      changeStreams: false,
    });
  });

  it("takes MongoDB 6.0 and later, with change streams on replica sets and sharded clusters", () => {
    expect(serverKindOf({ version: "6.0.14", versionArray: [6, 0, 14, 0] }, { setName: "rs0" })).toEqual({
      kind: "mongodb",
      version: "6.0.14",
      atomicUpdates: true,
      wildcardIndexes: true,
      changeStreams: true,
    });
    expect(serverKindOf({ version: "8.0.1" }, { msg: "isdbgrid" }).changeStreams).toBe(true);
    expect(serverKindOf({ version: "7.0.2" }, { isWritablePrimary: true }).changeStreams).toBe(false);
  });

  it("refuses MongoDB older than 6.0 with a message naming both versions", () => {
    let caught: unknown;
    try {
      serverKindOf({ version: "5.0.3", versionArray: [5, 0, 3, 0] }, { setName: "rs0" });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(AppError);
    expect((caught as AppError).code).toBe(ErrorCode.INVALID_STATE);
    expect((caught as AppError).message).toBe("Logbook needs MongoDB 6.0 or later; this server is MongoDB 5.0.3.");
  });
});
