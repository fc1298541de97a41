/**
 * Tags and params of experiments, registered models, model versions and logged models as one field per key —
 * `tags: {<encoded key>: value}` — so a filter on one key is a plain field condition (`{"tags.<key>": …}`) that both
 * MongoDB and FerretDB v1.24 evaluate (FerretDB has no `$elemMatch` on fields, so a `[{k, v}]` array cannot tie a key
 * to its value in a query), and MongoDB serves it from a wildcard index. Keys may hold `.`, `$`, `%` and NUL, which a
 * field name cannot: they are percent-encoded (`%2E`, `%24`, `%25`, `%00`), injectively.
 */
import type { Tag } from "../../domain/entities.js";
import { AppError } from "../../domain/errors.js";

/** Tag (or param) values by encoded key, in first-set order. */
export type KeyFields = Record<string, string>;

const ESCAPES: Record<string, string> = { "%": "%25", ".": "%2E", $: "%24", "\u0000": "%00" };
const UNESCAPES: Record<string, string> = Object.fromEntries(Object.entries(ESCAPES).map(([k, v]) => [v, k]));

/** A key as a field name (never `.`, `$` or NUL in it). */
export const encodeFieldKey = (key: string) => key.replace(/[%.$\u0000]/g, (c) => ESCAPES[c]!);
export const decodeFieldKey = (field: string) => field.replace(/%(25|2E|24|00)/g, (e) => UNESCAPES[e]!);

/** The dotted path of one key's value under `field` (`tags`, `params`). */
export const keyPath = (field: string, key: string) => `${field}.${encodeFieldKey(key)}`;

/**
 * One value per key, the last given winning. Built with Object.fromEntries, never by assignment, so a key such as
 * `__proto__` is an own field like any other.
 */
export function toKeyFields(tags: readonly Tag[]): KeyFields {
  return Object.fromEntries(new Map(tags.map((t) => [encodeFieldKey(t.key), t.value])));
}

export function fromKeyFields(fields: KeyFields | undefined): Tag[] {
  if (fields === undefined || fields === null) return [];
  if (typeof fields !== "object" || Array.isArray(fields)) throw AppError.from(new Error("corrupt stored tags"));
  return Object.entries(fields).map(([field, value]) => ({ key: decodeFieldKey(field), value }));
}

export const hasKey = (fields: KeyFields | undefined, key: string) => fields !== undefined && Object.hasOwn(fields, encodeFieldKey(key));

/** The value of `key`, or undefined. */
export const valueOfKey = (fields: KeyFields | undefined, key: string): string | undefined =>
  hasKey(fields, key) ? fields![encodeFieldKey(key)] : undefined;

/** `fields` with each of `updates` set (replacing the value of its key or added last). */
export const withKeys = (fields: KeyFields | undefined, updates: readonly Tag[]): KeyFields =>
  Object.fromEntries(new Map([...Object.entries(fields ?? {}), ...Object.entries(toKeyFields(updates))]));

export const withoutKey = (fields: KeyFields | undefined, key: string): KeyFields =>
  Object.fromEntries(Object.entries(fields ?? {}).filter(([field]) => field !== encodeFieldKey(key)));
