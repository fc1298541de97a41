/** For the parser tests: the message of the INVALID_PARAMETER_VALUE AppError `f` throws (and fails if it throws none). */
import { expect } from "vitest";
import { AppError, ErrorCode } from "../../src/domain/errors.js";

export function parseError(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe(ErrorCode.INVALID_PARAMETER_VALUE);
    return (err as AppError).message;
  }
  throw new Error("expected a parse error");
}
