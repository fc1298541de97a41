import { describe, expect, it } from "vitest";
import { ErrorCode } from "../../domain/errors.js";
import { encodeMetricValue } from "./mapping.js";
import { type HistoryCursor, decodeHistoryCursor, encodeHistoryCursor } from "./page-token.js";

const cursor = (value: number, step = 3, timestamp = 1_700_000_000_000): HistoryCursor => {
  const stored = encodeMetricValue(value);
  return { step, timestamp, ...stored };
};
const b64 = (text: string) => Buffer.from(text).toString("base64url");

describe("history page tokens", () => {
  it.each([0, -0, 1.5, -2, Number.NaN, Infinity, -Infinity, 1.7976931348623157e308, 5e-324])("round-trip the sort key of %s", (value) => {
    const c = cursor(value, -(2 ** 53 - 1), 2 ** 53 - 1);
    const decoded = decodeHistoryCursor(encodeHistoryCursor(c));
    expect(decoded).toEqual(c);
    expect(Object.is(decoded.value, c.value)).toBe(true);
  });

  it.each([
    ["empty", ""],
    ["not base64url", "a+b/"],
    ["padded", `${b64('[1,2,0,"3",0]')}=`],
    ["not JSON", b64("[1,2,0")],
    ["an object", b64('{"step":1}')],
    ["too short", b64('[1,2,0,"3"]')],
    ["too long", b64('[1,2,0,"3",0,0]')],
    ["a fractional timestamp", b64('[1.5,2,0,"3",0]')],
    ["an unsafe step", b64('[1,9007199254740993,0,"3",0]')],
    ["an unsafe timestamp", b64('[9007199254740993,1,0,"3",0]')],
    ["a flag that is not 0 or 1", b64('[1,2,2,"3",0]')],
    ["a number value", b64("[1,2,0,3,0]")],
    ["a NaN value", b64('[1,2,0,"NaN",0]')],
    ["a non-canonical value", b64('[1,2,0,"3.0",0]')],
    ["a NaN flag with a value", b64('[1,2,1,"3",0]')],
    ["a negative-zero flag with a value", b64('[1,2,0,"3",1]')],
    ["whitespace", b64('[1, 2, 0, "3", 0]')],
  ])("rejects %s", (_, token) => {
    expect(() => decodeHistoryCursor(token)).toThrow(expect.objectContaining({ code: ErrorCode.INVALID_PARAMETER_VALUE }));
  });

  it("accepts exactly what it issues", () => {
    expect(decodeHistoryCursor(b64('[1,2,0,"3",0]'))).toEqual({ timestamp: 1, step: 2, is_nan: 0, value: 3, is_negative_zero: 0 });
  });
});
