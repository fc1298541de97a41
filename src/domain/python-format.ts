/**
 * Values written as MLflow's Python writes them: `json.dumps` (its messages echo request values with
 * `json.dumps(value, sort_keys=True, separators=(",", ":"))`, mlflow/utils/validation.py `invalid_value`; its files
 * and tags use the default separators), `repr` of floats and `str()` of parameter values. So a float keeps its point
 * (`9.0`, `1e+16`), non-ASCII is escaped, NaN and ±Infinity are bare words.
 */

/** A number that was written as a float (`9.0`, `1e2`): Python reads it as a float whatever its value. */
export class WrittenFloat {
  constructor(readonly value: number) {}
}

export type PythonJsonValue = null | boolean | number | bigint | string | WrittenFloat | PythonJsonValue[] | { [key: string]: PythonJsonValue };

/** Python's `repr(float)`: the shortest round-trip digits, exponent form below 1e-4 and from 1e16 on. */
export function pythonFloat(n: number): string {
  if (Number.isNaN(n)) return "NaN";
  if (!Number.isFinite(n)) return n > 0 ? "Infinity" : "-Infinity";
  if (n === 0) return Object.is(n, -0) ? "-0.0" : "0.0";
  const [mantissa = "", exp = "0"] = n.toExponential().split("e");
  const e = Number(exp);
  const negative = mantissa.startsWith("-");
  const digits = mantissa.replace("-", "").replace(".", "");
  const sign = negative ? "-" : "";
  if (e < -4 || e >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${m}e${e < 0 ? "-" : "+"}${String(Math.abs(e)).padStart(2, "0")}`;
  }
  if (e < 0) return `${sign}0.${"0".repeat(-e - 1)}${digits}`;
  const whole = digits.slice(0, e + 1).padEnd(e + 1, "0");
  const fraction = digits.slice(e + 1);
  return `${sign}${whole}.${fraction || "0"}`;
}

/** `json.dumps` of a string with ensure_ascii: every character outside printable ASCII escaped. */
function pythonString(s: string): string {
  return JSON.stringify(s).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** `json.dumps(value, sort_keys=True, separators=(",", ":"))`; an integral JS number counts as an int. */
export function pythonJson(v: PythonJsonValue): string {
  return pythonDumps(v, { sortKeys: true, compact: true });
}

/**
 * `json.dumps(value)` with its options: default separators `", "` and `": "` (compact: `","` and `":"`), keys in
 * insertion order unless `sortKeys`, `indent` spaces per level when given.
 */
export function pythonDumps(v: PythonJsonValue, options: { sortKeys?: boolean; compact?: boolean; indent?: number } = {}, depth = 0): string {
  if (v === null) return "null";
  if (v instanceof WrittenFloat) return pythonFloat(v.value);
  switch (typeof v) {
    case "boolean":
      return v ? "true" : "false";
    case "bigint":
      return v.toString();
    case "number":
      return Number.isInteger(v) ? String(v) : pythonFloat(v);
    case "string":
      return pythonString(v);
    default:
      break;
  }
  const { indent } = options;
  const itemSep = indent !== undefined ? "," : options.compact ? "," : ", ";
  const keySep = options.compact ? ":" : ": ";
  const open = indent !== undefined ? `\n${" ".repeat(indent * (depth + 1))}` : "";
  const close = indent !== undefined ? `\n${" ".repeat(indent * depth)}` : "";
  const join = (items: string[], l: string, r: string) => (items.length === 0 ? `${l}${r}` : `${l}${open}${items.join(itemSep + open)}${close}${r}`);
  if (Array.isArray(v)) return join(v.map((item) => pythonDumps(item, options, depth + 1)), "[", "]");
  const obj = v as { [key: string]: PythonJsonValue };
  // sort_keys compares code points; JS sorts strings by UTF-16 units, the same order outside astral keys.
  const keys = options.sortKeys ? Object.keys(obj).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)) : Object.keys(obj);
  return join(keys.map((k) => `${pythonString(k)}${keySep}${pythonDumps(obj[k]!, options, depth + 1)}`), "{", "}");
}

/** Python's `str()` of a JSON scalar (MLflow's prompt-lab parameter values): `True`, `None`, `0.5`, `10`. */
export function pythonStr(v: PythonJsonValue): string {
  if (v === null) return "None";
  if (typeof v === "string") return v;
  if (typeof v === "boolean") return v ? "True" : "False";
  if (v instanceof WrittenFloat) return pythonFloat(v.value);
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : pythonFloat(v);
  if (typeof v === "bigint") return v.toString();
  return pythonDumps(v); // lists and dicts: close to Python's repr, which no caller relies on
}

/** Python's name for the type of a value, as MLflow's hints say it. */
export function pythonType(v: PythonJsonValue): string {
  if (v === null) return "NoneType";
  if (v instanceof WrittenFloat) return "float";
  if (Array.isArray(v)) return "list";
  switch (typeof v) {
    case "boolean":
      return "bool";
    case "bigint":
      return "int";
    case "number":
      return Number.isInteger(v) ? "int" : "float";
    case "string":
      return "str";
    default:
      return "dict";
  }
}
