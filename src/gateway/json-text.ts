/**
 * JSON text ⇄ values, with the two things `JSON.parse`/`JSON.stringify` cannot do for MLflow's wire:
 *
 * - Parsing accepts the bare literals `NaN`, `Infinity` and `-Infinity` outside strings (Python's
 *   `json.dumps` writes them for float("nan") and friends) and keeps integers beyond 2^53 exact
 *   (as `bigint`), so an int64 sent as a JSON number survives. Everything else is strict RFC 8259.
 * - Stringifying writes `bigint` as a bare JSON number (MLflow sends int64 as numbers).
 */

import { type PythonJsonValue, WrittenFloat } from "../domain/python-format.js";

export type JsonValue = null | boolean | number | bigint | string | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

/** Malformed JSON text; the message says what and where. */
export class JsonSyntaxError extends Error {
  override readonly name = "JsonSyntaxError";
  constructor(
    message: string,
    readonly position: number,
  ) {
    super(message);
  }
}

/** Deeper nesting is rejected rather than risking the stack; Logbook's messages nest a few levels. */
const MAX_DEPTH = 256;

/**
 * Whether the text may hold what only our parser reads right: a bare NaN/Infinity literal, or an integer of 16+
 * digits (beyond 2^53 it must stay exact). Inside strings too — those merely take the slower path. A digit run that
 * is the fraction or mantissa of a float (17 significant digits are common) does not count.
 */
function needsOwnParser(text: string): boolean {
  return text.includes("NaN") || text.includes("Infinity") || LONG_INTEGER.test(text);
}

/** 16+ digits not after a "." or another digit and not going on into a "." or an exponent: an integer literal. */
const LONG_INTEGER = /(?<![\d.])\d{16}(?![\d.eE]*[.eE])/;

/**
 * Parses one JSON value (see the module comment for the extensions). Throws {@link JsonSyntaxError}.
 * Text without the extensions goes to the native `JSON.parse` (three times faster on a 1,000-metric LogBatch; it
 * also makes `__proto__` an own property); malformed text is re-read by our parser for a precise message.
 */
export function parseJson(text: string): JsonValue {
  let v: JsonValue | undefined;
  if (!needsOwnParser(text)) {
    try {
      v = JSON.parse(text) as JsonValue;
    } catch {
      // fall through: our parser says what is wrong, and where
    }
  }
  if (v === undefined) v = new Parser(text).document();
  // The native parser takes any depth, but deeper values overflow the stack of whatever walks them later (error
  // messages, serializers): the same limit as our parser's. Lone surrogates come only from \u escapes.
  checkValue(v, 0, MAY_HOLD_SURROGATE.test(text));
  return v;
}

/**
 * Like {@link parseJson}, but every number written with a fraction or an exponent (`9.0`, `1e2`) is a
 * {@link WrittenFloat}: what Python's `json.loads` reads as a float. For error messages only (python-json.ts).
 */
export function parseJsonAsWritten(text: string): PythonJsonValue {
  const v = new Parser(text, true).document();
  checkValue(v, 0, MAY_HOLD_SURROGATE.test(text));
  return v as PythonJsonValue;
}

/** A `\uD800`–`\uDFFF` escape: the text may decode to a string with a lone surrogate. */
const MAY_HOLD_SURROGATE = /\\u[dD][89a-fA-F]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function checkString(s: string): void {
  const lone = LONE_SURROGATE.exec(s);
  if (lone) {
    const hex = lone[0].charCodeAt(0).toString(16);
    throw new JsonSyntaxError(`String contains a lone surrogate \\u${hex}, which is not valid Unicode`, 0);
  }
}

/** Throws on nesting deeper than MAX_DEPTH and, when `strings`, on strings (and keys) that are not valid Unicode. */
function checkValue(v: JsonValue, depth: number, strings: boolean): void {
  if (typeof v === "string") {
    if (strings) checkString(v);
    return;
  }
  if (typeof v !== "object" || v === null) return;
  if (depth >= MAX_DEPTH) throw new JsonSyntaxError(`JSON nested deeper than ${MAX_DEPTH} levels`, 0);
  if (Array.isArray(v)) {
    for (const item of v) if (typeof item === "object" || strings) checkValue(item, depth + 1, strings);
    return;
  }
  for (const key of Object.keys(v)) {
    if (strings) checkString(key);
    const item = v[key]!;
    if (typeof item === "object" || strings) checkValue(item, depth + 1, strings);
  }
}

class Parser {
  pos = 0;
  constructor(
    private readonly s: string,
    private readonly floatsAsWritten = false,
  ) {}

  document(): JsonValue {
    this.skipWs();
    const v = this.value(0);
    this.skipWs();
    if (this.pos < this.s.length) this.unexpected();
    return v;
  }

  skipWs(): void {
    const s = this.s;
    let c = s.charCodeAt(this.pos);
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = s.charCodeAt(++this.pos);
  }

  value(depth: number): JsonValue {
    const c = this.s[this.pos];
    switch (c) {
      case "{":
        return this.object(depth + 1);
      case "[":
        return this.array(depth + 1);
      case '"':
        return this.string();
      case "t":
        return this.word("true", true);
      case "f":
        return this.word("false", false);
      case "n":
        return this.word("null", null);
      case "N":
        return this.word("NaN", Number.NaN);
      case "I":
        return this.word("Infinity", Number.POSITIVE_INFINITY);
      case "-":
        if (this.s[this.pos + 1] === "I") {
          this.pos++;
          return this.word("Infinity", Number.NEGATIVE_INFINITY);
        }
        return this.number();
      default:
        if (c !== undefined && c >= "0" && c <= "9") return this.number();
        return this.unexpected();
    }
  }

  private object(depth: number): JsonObject {
    if (depth > MAX_DEPTH) this.fail(`JSON nested deeper than ${MAX_DEPTH} levels`);
    this.pos++;
    const out: JsonObject = {};
    this.skipWs();
    if (this.s[this.pos] === "}") {
      this.pos++;
      return out;
    }
    for (;;) {
      if (this.s[this.pos] !== '"') this.unexpected("a property name in double quotes");
      const key = this.string();
      this.skipWs();
      if (this.s[this.pos] !== ":") this.unexpected("':'");
      this.pos++;
      this.skipWs();
      const v = this.value(depth);
      // defineProperty: a "__proto__" key becomes an own property, never the prototype.
      if (key === "__proto__") Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
      else out[key] = v;
      this.skipWs();
      const c = this.s[this.pos];
      this.pos++;
      if (c === "}") return out;
      if (c !== ",") {
        this.pos--;
        this.unexpected("',' or '}'");
      }
      this.skipWs();
    }
  }

  private array(depth: number): JsonValue[] {
    if (depth > MAX_DEPTH) this.fail(`JSON nested deeper than ${MAX_DEPTH} levels`);
    this.pos++;
    const out: JsonValue[] = [];
    this.skipWs();
    if (this.s[this.pos] === "]") {
      this.pos++;
      return out;
    }
    for (;;) {
      out.push(this.value(depth));
      this.skipWs();
      const c = this.s[this.pos];
      this.pos++;
      if (c === "]") return out;
      if (c !== ",") {
        this.pos--;
        this.unexpected("',' or ']'");
      }
      this.skipWs();
    }
  }

  private string(): string {
    const s = this.s;
    const start = this.pos;
    let i = start + 1;
    let escaped = false;
    for (;;) {
      const c = s.charCodeAt(i);
      if (Number.isNaN(c)) {
        this.pos = i;
        return this.fail(`Unterminated string starting at position ${start}`);
      }
      if (c === 0x22) break;
      if (c === 0x5c) {
        escaped = true;
        i += 2;
        continue;
      }
      if (c < 0x20) {
        this.pos = i;
        return this.fail(`Unescaped control character in string at position ${i}`);
      }
      i++;
    }
    this.pos = i + 1;
    if (!escaped) return s.slice(start + 1, i);
    try {
      return JSON.parse(s.slice(start, i + 1)) as string; // validates and decodes the escapes
    } catch {
      this.pos = start;
      return this.fail(`Invalid escape sequence in string starting at position ${start}`);
    }
  }

  private number(): number | bigint {
    const s = this.s;
    const start = this.pos;
    let i = start;
    if (s[i] === "-") i++;
    if (s[i] === "0") i++;
    else if (isDigit(s[i])) while (isDigit(s[i])) i++;
    else {
      this.pos = i;
      return this.unexpected("a digit");
    }
    let integer = true;
    if (s[i] === ".") {
      integer = false;
      i++;
      if (!isDigit(s[i])) {
        this.pos = i;
        return this.unexpected("a digit");
      }
      while (isDigit(s[i])) i++;
    }
    if (s[i] === "e" || s[i] === "E") {
      integer = false;
      i++;
      if (s[i] === "+" || s[i] === "-") i++;
      if (!isDigit(s[i])) {
        this.pos = i;
        return this.unexpected("a digit");
      }
      while (isDigit(s[i])) i++;
    }
    this.pos = i;
    const text = s.slice(start, i);
    const n = Number(text);
    if (!integer && this.floatsAsWritten) return new WrittenFloat(n) as unknown as number;
    return integer && !Number.isSafeInteger(n) ? BigInt(text) : n;
  }

  private word<T>(word: string, value: T): T {
    if (!this.s.startsWith(word, this.pos)) this.unexpected();
    this.pos += word.length;
    return value;
  }

  unexpected(expected?: string): never {
    const c = this.s[this.pos];
    if (c === undefined) return this.fail(`Unexpected end of JSON input${expected ? `, expected ${expected}` : ""}`);
    const shown = c.charCodeAt(0) < 0x20 ? `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}` : c;
    return this.fail(`Unexpected character '${shown}' at position ${this.pos}${expected ? `, expected ${expected}` : ""}`);
  }

  private fail(message: string): never {
    throw new JsonSyntaxError(message, this.pos);
  }
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= "0" && c <= "9";
}

/**
 * Writes a value as compact JSON. `bigint` becomes a bare number; non-finite numbers (which the
 * codec never produces: it writes them as strings) become `null` as in `JSON.stringify`;
 * `undefined` members are skipped.
 */
export function stringifyJson(value: JsonValue): string {
  try {
    // The codec writes int64 values as numbers when they are safe integers, so most values have no bigint and the
    // native serializer (about three times faster on a page of runs) writes exactly what the code below would.
    return JSON.stringify(value);
  } catch {
    return writeJson(value);
  }
}

function writeJson(value: JsonValue): string {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "number":
      return Number.isFinite(value) ? String(value) : "null";
    case "bigint":
      return value.toString();
    case "boolean":
      return value ? "true" : "false";
    default:
      break;
  }
  if (value === null) return "null";
  if (Array.isArray(value)) return `[${value.map((v) => writeJson(v)).join(",")}]`;
  const parts: string[] = [];
  for (const key of Object.keys(value)) {
    const v = value[key];
    if (v === undefined) continue;
    parts.push(`${JSON.stringify(key)}:${writeJson(v)}`);
  }
  return `{${parts.join(",")}}`;
}
