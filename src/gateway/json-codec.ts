/**
 * Descriptor-driven conversion between MLflow-style JSON and ts-proto message objects
 * (DESIGN.md §4). One codec serves requests and responses on every route family.
 *
 * Out: proto (snake_case) field names in field-number order; int64 as JSON numbers; unset fields
 * omitted (implicit-presence scalars at their zero value, empty repeated fields and maps; `optional`
 * fields and messages are written whenever set, even at 0/""/false); enums by value name without
 * the enum's prefix; NaN/±Infinity as "NaN"/"Infinity"/"-Infinity".
 *
 * In: snake_case or lowerCamelCase keys; int64 as number or string; doubles as numbers, those three
 * strings or bare literals (see json-text.ts); bools as true/"true"/"True"; enums by stripped
 * name, full name or number; unknown keys ignored; `null` means unset. The result is a complete
 * ts-proto object: implicit scalars at their zero value, repeated fields `[]`, maps `{}` (or a
 * `Map` where ts-proto uses one: bool and 64-bit keys).
 */
import { ScalarType, type DescEnum, type DescField, type DescMessage } from "@bufbuild/protobuf";
import { FeatureSet_FieldPresence } from "@bufbuild/protobuf/wkt";
import { AppError, ErrorCode } from "../domain/errors.js";
import { EnumNames } from "./enum-names.js";
import type { JsonObject, JsonValue } from "./json-text.js";
import { isScalarZero, isWideInt, readEnum, readScalar, scalarZero, wrongType, writeScalar } from "./scalars.js";

/** A ts-proto message object (lowerCamelCase keys). */
export type ProtoObject = Record<string, unknown>;

/** ts-proto's property name for a field (its `snakeToCamel`, which differs from json_name on odd names). */
export function tsProtoKey(protoName: string): string {
  if (!protoName.includes("_")) return protoName;
  const hasLower = /[a-z]/.test(protoName);
  return protoName
    .split("_")
    .map((w, i) => {
      const word = hasLower ? w : w.toLowerCase();
      return i === 0 ? word : word.charAt(0).toUpperCase() + word.slice(1);
    })
    .join("");
}

export interface FieldPlan {
  readonly field: DescField;
  /** ts-proto property name. */
  readonly key: string;
  /** Singular field whose presence is tracked (proto3 `optional`, oneof member, message). */
  readonly explicit: boolean;
  /** ts-proto represents this map as a `Map` (bool or 64-bit keys), not a plain object. */
  readonly jsMap: boolean;
}

export interface MessagePlan {
  /** In field-number order (the order MLflow's JSON has). */
  readonly fields: readonly FieldPlan[];
  /** By proto name, JSON name and ts-proto key. */
  readonly byName: ReadonlyMap<string, FieldPlan>;
}

export interface JsonCodecOptions {
  /**
   * String fields (by proto name) that also accept a JSON integer: MLflow's `parse_dict` turns
   * `experiment_id`/`experiment_ids` numbers into strings, and clients rely on it.
   */
  readonly numericStringFields?: Iterable<string>;
}

export class JsonCodec {
  private readonly plans = new Map<DescMessage, MessagePlan>();
  private readonly enums = new Map<DescEnum, EnumNames>();
  private readonly numericStrings: ReadonlySet<string>;

  constructor(options: JsonCodecOptions = {}) {
    this.numericStrings = new Set(options.numericStringFields ?? ["experiment_id", "experiment_ids"]);
  }

  /** The plan (names, presence) for a message's fields, built once. */
  plan(desc: DescMessage): MessagePlan {
    let p = this.plans.get(desc);
    if (!p) {
      const fields = [...desc.fields]
        .sort((a, b) => a.number - b.number)
        .map((field): FieldPlan => {
          const mapKey = field.fieldKind === "map" ? field.mapKey : undefined;
          return {
            field,
            key: tsProtoKey(field.name),
            explicit:
              (field.fieldKind === "scalar" || field.fieldKind === "enum" || field.fieldKind === "message") &&
              field.presence !== FeatureSet_FieldPresence.IMPLICIT,
            jsMap: mapKey !== undefined && (mapKey === ScalarType.BOOL || isWideInt(mapKey)),
          };
        });
      const byName = new Map<string, FieldPlan>();
      for (const f of fields) for (const n of [f.field.name, f.field.jsonName, f.key]) if (!byName.has(n)) byName.set(n, f);
      p = { fields, byName };
      this.plans.set(desc, p);
    }
    return p;
  }

  /** Wire names of an enum's values, built once. */
  enumNames(desc: DescEnum): EnumNames {
    let e = this.enums.get(desc);
    if (!e) {
      e = new EnumNames(desc);
      this.enums.set(desc, e);
    }
    return e;
  }

  /** A message with every implicit field at its default, as ts-proto's `create()` gives. */
  defaults(desc: DescMessage): ProtoObject {
    const out: ProtoObject = {};
    for (const f of this.plan(desc).fields) {
      const field = f.field;
      if (field.fieldKind === "list") out[f.key] = [];
      else if (field.fieldKind === "map") out[f.key] = f.jsMap ? new Map() : {};
      else if (f.explicit) continue;
      else if (field.fieldKind === "enum") out[f.key] = 0;
      else if (field.fieldKind === "scalar") out[f.key] = scalarZero(field.scalar);
    }
    return out;
  }

  // ---- JSON → ts-proto -------------------------------------------------------------------------

  /**
   * A JSON object as a complete ts-proto message. `param` is the dotted path used in error
   * messages ("" at the top). `undefined`/`null` give the defaults.
   */
  decodeMessage(desc: DescMessage, json: JsonValue | undefined, param = ""): ProtoObject {
    const out = this.defaults(desc);
    if (json === undefined || json === null) return out;
    if (typeof json !== "object" || Array.isArray(json)) {
      throw param === ""
        ? new AppError(ErrorCode.INVALID_PARAMETER_VALUE, `The request body must be a JSON object, got ${describe(json)}`)
        : wrongType(param, json);
    }
    const plan = this.plan(desc);
    const oneofs = new Map<string, string>();
    for (const name of Object.keys(json)) {
      const f = plan.byName.get(name);
      const v = json[name];
      if (!f || v === null || v === undefined) continue; // unknown fields are ignored; null is unset
      const fieldParam = param === "" ? f.field.name : `${param}.${f.field.name}`;
      const oneof = f.field.fieldKind !== "list" && f.field.fieldKind !== "map" ? f.field.oneof : undefined;
      if (oneof) {
        const other = oneofs.get(oneof.name);
        if (other !== undefined && other !== f.field.name) {
          throw new AppError(
            ErrorCode.INVALID_PARAMETER_VALUE,
            `Parameters '${other}' and '${f.field.name}' are alternatives (oneof '${oneof.name}'): supply only one`,
          );
        }
        oneofs.set(oneof.name, f.field.name);
      }
      out[f.key] = this.decodeField(f.field, v, fieldParam);
    }
    return out;
  }

  /** A JSON value for one field (repeated, map, message, enum or scalar) as ts-proto holds it. */
  decodeField(field: DescField, v: JsonValue, param: string): unknown {
    switch (field.fieldKind) {
      case "list": {
        if (!Array.isArray(v)) throw wrongType(param, v);
        return v.map((item, i) => this.decodeSingular(field, item, `${param}[${i}]`));
      }
      case "map": {
        if (typeof v !== "object" || v === null || Array.isArray(v)) throw wrongType(param, v);
        const jsMap = this.plan(field.parent).byName.get(field.name)!.jsMap;
        const out: Map<unknown, unknown> | ProtoObject = jsMap ? new Map() : {};
        for (const [k, item] of Object.entries(v)) {
          const p = `${param}[${k}]`;
          const key = readScalar(field.mapKey, k, p);
          if (item === null) throw wrongType(p, item);
          const value =
            field.mapKind === "message"
              ? this.decodeMessage(field.message, item, p)
              : field.mapKind === "enum"
                ? readEnum(this.enumNames(field.enum), item, p)
                : readScalar(field.scalar, item, p);
          if (out instanceof Map) out.set(key, value);
          else out[String(key)] = value;
        }
        return out;
      }
      default:
        return this.decodeSingular(field, v, param);
    }
  }

  private decodeSingular(field: DescField, v: JsonValue, param: string): unknown {
    if (v === null) throw wrongType(param, v); // a null list element (a null field is skipped earlier)
    if (field.message) return this.decodeMessage(field.message, v, param);
    if (field.enum) return readEnum(this.enumNames(field.enum), v, param);
    return readScalar(field.scalar!, v, param, this.numericStrings.has(field.name));
  }

  /** Text from a path variable or query parameter for a scalar or enum field (one element if repeated). */
  decodeText(field: DescField, text: string, param: string): unknown {
    if (field.enum) return readEnum(this.enumNames(field.enum), text, param);
    if (field.scalar === undefined || field.fieldKind === "map") throw new Error(`${field} is not a scalar field`);
    return readScalar(field.scalar, text, param);
  }

  // ---- ts-proto → JSON -------------------------------------------------------------------------

  /** A ts-proto message as MLflow JSON (see the module comment for the rules). */
  encodeMessage(desc: DescMessage, obj: ProtoObject): JsonObject {
    const out: JsonObject = {};
    for (const f of this.plan(desc).fields) {
      const v = obj[f.key];
      if (v === undefined || v === null) continue;
      const field = f.field;
      if (field.fieldKind === "list") {
        if ((v as unknown[]).length > 0) out[field.name] = this.encodeField(field, v);
      } else if (field.fieldKind === "map") {
        const size = v instanceof Map ? v.size : Object.keys(v as object).length;
        if (size > 0) out[field.name] = this.encodeField(field, v);
      } else if (f.explicit || field.fieldKind === "message") {
        out[field.name] = this.encodeField(field, v);
      } else if (field.fieldKind === "enum" ? v !== 0 : !isScalarZero(field.scalar, v)) {
        out[field.name] = this.encodeField(field, v);
      }
    }
    return out;
  }

  /** One field's value as JSON, whatever its presence (used for `response_body` too). */
  encodeField(field: DescField, v: unknown): JsonValue {
    switch (field.fieldKind) {
      case "list":
        return ((v ?? []) as unknown[]).map((item) => this.encodeSingular(field, item));
      case "map": {
        const out: JsonObject = {};
        const entries = v instanceof Map ? [...v.entries()] : Object.entries((v ?? {}) as object);
        for (const [k, item] of entries) {
          out[String(k)] =
            field.mapKind === "message"
              ? this.encodeMessage(field.message, (item ?? {}) as ProtoObject)
              : field.mapKind === "enum"
                ? this.enumNames(field.enum).write(item as number)
                : writeScalar(field.scalar, item);
        }
        return out;
      }
      default:
        if (v === undefined || v === null) {
          if (field.message) return {};
          return this.encodeSingular(field, field.enum ? 0 : scalarZero(field.scalar!));
        }
        return this.encodeSingular(field, v);
    }
  }

  private encodeSingular(field: DescField, v: unknown): JsonValue {
    if (field.message) return this.encodeMessage(field.message, (v ?? {}) as ProtoObject);
    if (field.enum) return this.enumNames(field.enum).write(v as number);
    return writeScalar(field.scalar!, v);
  }
}

function describe(v: JsonValue): string {
  if (Array.isArray(v)) return "a list";
  return typeof v === "string" ? "a string" : typeof v === "boolean" ? "a boolean" : "a number";
}
