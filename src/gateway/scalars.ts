/**
 * Scalar and enum values between MLflow-style JSON (or query/path text) and ts-proto's
 * representation (int64 family as bigint, other numbers as number, bytes as Buffer, enums as
 * numbers), with MLflow's "Invalid value … for parameter …" messages on bad input.
 */
import { ScalarType } from "@bufbuild/protobuf";
import { AppError, ErrorCode } from "../domain/errors.js";
import type { EnumNames } from "./enum-names.js";
import type { JsonValue } from "./json-text.js";
import { type PythonJsonValue, pythonJson, pythonType } from "../domain/python-format.js";

const API_DOCS = "See the API docs for more information about request parameters.";

/**
 * An "Invalid value …" error. It keeps how it was made, so the gateway can say it again with the value exactly as
 * the request wrote it (a float's point, which JSON.parse forgets): {@link InvalidValueError.restate}.
 */
export class InvalidValueError extends AppError {
  constructor(
    readonly param: string,
    value: PythonJsonValue,
    private readonly compose: (shown: string, type: string) => string,
  ) {
    super(ErrorCode.INVALID_PARAMETER_VALUE, compose(pythonJson(value), pythonType(value)));
  }

  /** The same error about `value` (the offending value as written). */
  restate(value: PythonJsonValue): InvalidValueError {
    return new InvalidValueError(this.param, value, this.compose);
  }
}

/**
 * MLflow's wording for a value of the wrong JSON type:
 * `Invalid value 5 for parameter 'name' supplied: Hint: Value was of type 'int'. …`
 */
export function wrongType(param: string, value: JsonValue): InvalidValueError {
  return new InvalidValueError(
    param,
    value,
    // MLflow's exact text (validation.py invalid_value + handlers.py's " Hint: …", hence the two spaces).
    (shown, type) => `Invalid value ${shown} for parameter '${param}' supplied:  Hint: Value was of type '${type}'. ${API_DOCS}`,
  );
}

/** A value of the right JSON type that is still unacceptable (out of range, unknown enum name…). */
export function badValue(param: string, value: JsonValue, reason: string): InvalidValueError {
  return new InvalidValueError(param, value, (shown) => `Invalid value ${shown} for parameter '${param}' supplied: ${reason}. ${API_DOCS}`);
}

const INT_TEXT = /^[+-]?\d+$/;
const FLOAT_TEXT = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const SPECIAL_FLOAT = /^([+-]?)(nan|inf|infinity)$/i;
const BOOL_TEXT = /^(true|false)$/i;
const BASE64_TEXT = /^[A-Za-z0-9+/_-]*={0,2}$/;
const FLOAT32_MAX = 3.4028234663852886e38;

interface IntRange {
  readonly min: bigint;
  readonly max: bigint;
  readonly wide: boolean; // 64-bit: bigint in ts-proto
}

const INT32: IntRange = { min: -(2n ** 31n), max: 2n ** 31n - 1n, wide: false };
const UINT32: IntRange = { min: 0n, max: 2n ** 32n - 1n, wide: false };
const INT64: IntRange = { min: -(2n ** 63n), max: 2n ** 63n - 1n, wide: true };
const UINT64: IntRange = { min: 0n, max: 2n ** 64n - 1n, wide: true };

function intRange(t: ScalarType): IntRange | undefined {
  switch (t) {
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
      return INT32;
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return UINT32;
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return INT64;
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return UINT64;
    default:
      return undefined;
  }
}

/** Whether ts-proto (forceLong=bigint) represents this scalar type as bigint. */
export function isWideInt(t: ScalarType): boolean {
  return intRange(t)?.wide === true;
}

/** An integral JSON number, bigint, or decimal integer text as a bigint; undefined otherwise. */
function integerOf(v: JsonValue): bigint | undefined {
  if (typeof v === "bigint") return v;
  if (typeof v === "number") return Number.isInteger(v) ? BigInt(v) : undefined;
  if (typeof v === "string") {
    const t = v.trim();
    if (INT_TEXT.test(t)) return BigInt(t);
    if (FLOAT_TEXT.test(t)) {
      const n = Number(t); // "1e3", "5.0": integral values written as floats
      return Number.isInteger(n) ? BigInt(n) : undefined;
    }
  }
  return undefined;
}

/** The zero value ts-proto uses for an implicit-presence scalar. */
export function scalarZero(t: ScalarType): unknown {
  switch (t) {
    case ScalarType.STRING:
      return "";
    case ScalarType.BOOL:
      return false;
    case ScalarType.BYTES:
      return Buffer.alloc(0);
    default:
      return isWideInt(t) ? 0n : 0;
  }
}

/**
 * A JSON value (or query/path text, which arrives as a string) as the scalar ts-proto expects.
 * `numericString`: the field is a string that MLflow also accepts as a JSON integer (experiment ids).
 */
export function readScalar(t: ScalarType, v: JsonValue, param: string, numericString = false): unknown {
  switch (t) {
    case ScalarType.STRING:
      if (typeof v === "string") return v;
      if (numericString && (typeof v === "bigint" || (typeof v === "number" && Number.isInteger(v)))) return String(v);
      throw wrongType(param, v);
    case ScalarType.BOOL:
      if (typeof v === "boolean") return v;
      if (typeof v === "string" && BOOL_TEXT.test(v.trim())) return v.trim().toLowerCase() === "true";
      throw wrongType(param, v);
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return readFloat(t, v, param);
    case ScalarType.BYTES:
      if (typeof v !== "string") throw wrongType(param, v);
      if (!BASE64_TEXT.test(v)) throw badValue(param, v, "not valid base64");
      return Buffer.from(v, "base64");
    default: {
      const range = intRange(t)!;
      if (typeof v !== "number" && typeof v !== "bigint" && typeof v !== "string") throw wrongType(param, v);
      const n = integerOf(v);
      if (n === undefined) {
        throw typeof v === "string" ? badValue(param, v, "not an integer") : wrongType(param, v);
      }
      if (n < range.min || n > range.max) throw badValue(param, v, `out of range [${range.min}, ${range.max}]`);
      return range.wide ? n : Number(n);
    }
  }
}

function readFloat(t: ScalarType, v: JsonValue, param: string): number {
  let n: number;
  if (typeof v === "number") n = v;
  else if (typeof v === "bigint") n = Number(v);
  else if (typeof v === "string") {
    const s = v.trim();
    const special = SPECIAL_FLOAT.exec(s);
    if (special) {
      n = special[2]!.toLowerCase() === "nan" ? Number.NaN : special[1] === "-" ? -Infinity : Infinity;
    } else if (FLOAT_TEXT.test(s)) n = Number(s);
    else throw badValue(param, v, "not a number");
  } else throw wrongType(param, v);
  if (t === ScalarType.FLOAT && Number.isFinite(n) && Math.abs(n) > FLOAT32_MAX) {
    throw badValue(param, v, "out of range for a 32-bit float");
  }
  return n;
}

/** An enum given by wire name, full name, number or numeric text, as its number. */
export function readEnum(names: EnumNames, v: JsonValue, param: string): number {
  if (typeof v === "string") {
    const byName = names.read(v);
    if (byName !== undefined) return byName;
  }
  if (typeof v === "number" || typeof v === "bigint" || (typeof v === "string" && INT_TEXT.test(v.trim()))) {
    const n = integerOf(v);
    if (n !== undefined && n >= INT32.min && n <= INT32.max) return Number(n);
  }
  const allowed = `one of ${names.wireNames.join(", ")}`;
  if (typeof v === "string") throw badValue(param, v, `expected ${allowed}`);
  throw wrongType(param, v);
}

/** A ts-proto scalar as MLflow JSON: int64 family as numbers (bigint), NaN/±Infinity as strings. */
export function writeScalar(t: ScalarType, v: unknown): JsonValue {
  switch (t) {
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT: {
      const n = v as number;
      if (Number.isNaN(n)) return "NaN";
      if (n === Infinity) return "Infinity";
      if (n === -Infinity) return "-Infinity";
      return n;
    }
    case ScalarType.BYTES:
      return Buffer.from(v as Uint8Array).toString("base64");
    case ScalarType.STRING:
    case ScalarType.BOOL:
      return v as JsonValue;
    default: {
      const n = typeof v === "string" && INT_TEXT.test(v) ? BigInt(v) : (v as number | bigint);
      // A safe integer goes out as a plain number: the same JSON text, and JSON.stringify can write it.
      return typeof n === "bigint" && n >= MIN_SAFE && n <= MAX_SAFE ? Number(n) : n;
    }
  }
}

const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Whether a ts-proto scalar is its type's zero value (implicit presence: not written). */
export function isScalarZero(t: ScalarType, v: unknown): boolean {
  switch (t) {
    case ScalarType.STRING:
      return v === "";
    case ScalarType.BOOL:
      return v === false;
    case ScalarType.BYTES:
      return (v as Uint8Array).length === 0;
    default:
      // -0.0 is not the default in proto3's binary rules (bitwise compare), so it is written.
      return v === 0n || (v === 0 && !Object.is(v, -0)) || v === "0";
  }
}
