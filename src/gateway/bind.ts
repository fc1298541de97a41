/**
 * Builds the request message of an HTTP call from its three sources (grpc-gateway's
 * runtime/query.go and the generated request_… functions, done once, generically):
 *
 * 1. the body, per the rule's `body`: `*` → the whole message; `field` → that field; none → nothing,
 *    except that a call with no query string may carry the whole message as a JSON body (MLflow
 *    clients send JSON bodies on GET and DELETE, and MLflow's server reads them);
 * 2. the path variables, which win over the body;
 * 3. query parameters, for every scalar/enum leaf not bound by the path or the body (none with
 *    `body: "*"`): dotted field paths (proto or JSON names), repeated keys for repeated fields.
 *    Unknown keys, and keys naming messages or maps, are ignored.
 */
import type { DescField, DescMessage } from "@bufbuild/protobuf";
import { AppError, ErrorCode } from "../domain/errors.js";
import type { JsonCodec, ProtoObject } from "./json-codec.js";
import type { JsonValue } from "./json-text.js";
import type { PathParams } from "./pattern.js";
import type { HttpRoute } from "./routes.js";

export interface HttpRequestParts {
  /** Bound path variables (from the router). */
  readonly params: PathParams;
  readonly query: URLSearchParams;
  /** The parsed JSON body; undefined when the body was empty. */
  readonly body: JsonValue | undefined;
}

/** The request message for `route`. Throws INVALID_PARAMETER_VALUE naming the offending parameter. */
export function bindRequest(codec: JsonCodec, route: HttpRoute, parts: HttpRequestParts): ProtoObject {
  const hasQuery = !parts.query.keys().next().done;
  let message: ProtoObject;
  switch (route.body.kind) {
    case "all":
      message = codec.decodeMessage(route.input, parts.body);
      break;
    case "field": {
      message = codec.defaults(route.input);
      const field = route.body.field;
      if (parts.body !== undefined && parts.body !== null) {
        message[codec.plan(route.input).byName.get(field.name)!.key] = codec.decodeField(field, parts.body, field.name);
      }
      break;
    }
    case "none":
      message = hasQuery ? codec.defaults(route.input) : codec.decodeMessage(route.input, parts.body);
      break;
  }

  for (const pf of route.pathFields) {
    const text = parts.params[pf.name];
    if (text === undefined) continue;
    setLeaf(codec, message, route.input, pf.fields, (leaf) => codec.decodeText(leaf, text, pf.name));
  }

  if (route.body.kind !== "all" && hasQuery) bindQuery(codec, route, message, parts.query);
  return message;
}

function bindQuery(codec: JsonCodec, route: HttpRoute, message: ProtoObject, query: URLSearchParams): void {
  const bound = route.pathFields.map((pf) => pf.name);
  const bodyField = route.body.kind === "field" ? route.body.field : undefined;
  for (const key of new Set(query.keys())) {
    const fields = resolve(codec, route.input, key);
    if (!fields) continue;
    const protoPath = fields.map((f) => f.name).join(".");
    if (bound.some((b) => b === protoPath || b.startsWith(`${protoPath}.`))) continue;
    if (bodyField && fields[0] === bodyField) continue;
    const values = query.getAll(key);
    const leaf = fields[fields.length - 1]!;
    if (leaf.fieldKind === "list") {
      setLeaf(codec, message, route.input, fields, () => values.map((t) => codec.decodeText(leaf, t, key)), true);
    } else {
      if (values.length > 1) {
        throw new AppError(
          ErrorCode.INVALID_PARAMETER_VALUE,
          `Parameter '${key}' is not repeated but was given ${values.length} values`,
        );
      }
      setLeaf(codec, message, route.input, fields, (f) => codec.decodeText(f, values[0]!, key));
    }
  }
}

/** The fields a dotted query key names (proto or JSON names), if it ends on a scalar/enum leaf. */
function resolve(codec: JsonCodec, input: DescMessage, key: string): DescField[] | undefined {
  const fields: DescField[] = [];
  let desc: DescMessage = input;
  const parts = key.split(".");
  for (const [i, part] of parts.entries()) {
    const f = codec.plan(desc).byName.get(part)?.field;
    if (!f) return undefined;
    fields.push(f);
    if (i < parts.length - 1) {
      if (f.fieldKind !== "message") return undefined;
      desc = f.message;
    } else if (f.fieldKind === "map" || f.message) {
      return undefined;
    }
  }
  return fields;
}

/** Sets the leaf at `fields` (creating intermediate messages); `append` extends a repeated leaf. */
function setLeaf(
  codec: JsonCodec,
  message: ProtoObject,
  input: DescMessage,
  fields: readonly DescField[],
  value: (leaf: DescField) => unknown,
  append = false,
): void {
  let obj = message;
  let desc = input;
  for (const [i, f] of fields.entries()) {
    const key = codec.plan(desc).byName.get(f.name)!.key;
    if (i === fields.length - 1) {
      const v = value(f);
      obj[key] = append ? [...((obj[key] as unknown[] | undefined) ?? []), ...(v as unknown[])] : v;
      return;
    }
    const nested = f.message!;
    if (obj[key] === undefined || obj[key] === null) obj[key] = codec.defaults(nested);
    obj = obj[key] as ProtoObject;
    desc = nested;
  }
}
