/**
 * "Invalid value …" errors about a JSON body, restated with the value as the request wrote it. The fast path parses
 * bodies with JSON.parse, which reads `9.0` as 9; MLflow (Python) echoes it as `9.0`. Only when binding fails is the
 * body read again, keeping floats as written, and the offending value found at the error's parameter path.
 */
import { parseJsonAsWritten } from "./json-text.js";
import { type PythonJsonValue, WrittenFloat } from "../domain/python-format.js";
import { InvalidValueError } from "./scalars.js";

const utf8 = new TextDecoder("utf-8");

const camel = (name: string) => name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** The value at a codec parameter path (`tags[0].key`, `params[k]`); field names in proto or JSON spelling. */
export function valueAtParam(doc: PythonJsonValue, param: string): PythonJsonValue | undefined {
  let at: PythonJsonValue | undefined = doc;
  for (const [, name, bracket] of param.matchAll(/([^.[\]]+)|\[([^\]]*)\]/g)) {
    if (at === undefined || at === null || typeof at !== "object" || at instanceof WrittenFloat) return undefined;
    if (Array.isArray(at)) {
      at = bracket !== undefined && /^\d+$/.test(bracket) ? at[Number(bracket)] : undefined;
    } else {
      const obj: { [key: string]: PythonJsonValue } = at;
      const key = bracket ?? name ?? "";
      at = Object.hasOwn(obj, key) ? obj[key] : bracket === undefined && Object.hasOwn(obj, camel(key)) ? obj[camel(key)] : undefined;
    }
  }
  return at;
}

/** `err` restated with its value as written in `body`, when it is an "Invalid value" error about the body. */
export function restateAsWritten(err: unknown, body: Uint8Array): unknown {
  if (!(err instanceof InvalidValueError) || body.length === 0) return err;
  let doc: PythonJsonValue;
  try {
    doc = parseJsonAsWritten(utf8.decode(body));
  } catch {
    return err;
  }
  const value = valueAtParam(doc, err.param);
  return value === undefined ? err : err.restate(value);
}
