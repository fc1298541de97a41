/** Telling MongoDB's "document too large" refusals apart (errors.ts); the rest of the mapping is exercised by the store suites. */
import { MongoServerError } from "mongodb";
import { describe, expect, it } from "vitest";
import { isDocumentTooLarge } from "./errors.js";

const serverError = (code: number, message: string) => new MongoServerError({ code, message, errmsg: message });

describe("MongoDB errors", () => {
  it("recognise a write refused for passing the 16 MB document limit", () => {
    expect(isDocumentTooLarge(serverError(10334, "BSONObj size: 16793600 (0x1004000) is invalid. Size must be between 0 and 16793600(16MB)"))).toBe(true);
    expect(isDocumentTooLarge(serverError(17419, "Resulting document after update is larger than 16777216"))).toBe(true);
    expect(isDocumentTooLarge(serverError(2, "Resulting document after update is larger than 16777216"))).toBe(true);
    expect(isDocumentTooLarge(serverError(11000, "E11000 duplicate key error"))).toBe(false);
    expect(isDocumentTooLarge(new Error("BSONObjectTooLarge"))).toBe(false);
  });
});
