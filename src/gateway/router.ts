/**
 * (method, path) → route, distinguishing an unknown path (404) from a known path asked with the
 * wrong method (405 with the allowed methods), as grpc-gateway's runtime/mux.go does.
 */
import { templateShape, type PathTemplate } from "./http-rule.js";
import { compareSpecificity, matchTemplate, parseRequestPath, type PathParams } from "./pattern.js";

/** `*` (a `custom` rule of kind "*") accepts every method. */
export const ANY_METHOD = "*";

export type RouteLookup<T> =
  | { readonly kind: "found"; readonly target: T; readonly params: PathParams }
  | { readonly kind: "method-not-allowed"; readonly allowed: readonly string[] }
  | { readonly kind: "not-found" };

interface Entry<T> {
  readonly method: string;
  readonly template: PathTemplate;
  readonly target: T;
}

export class Router<T> {
  private readonly entries: Entry<T>[] = [];
  private readonly shapes = new Map<string, string>();

  /**
   * Adds a binding. Throws when another binding already answers the same method and path shape
   * (`describe` names both in the message), so conflicts surface at start-up.
   */
  add(method: string, template: PathTemplate, target: T, describe?: string): void {
    const m = method.toUpperCase();
    describe ??= `${m} ${template.source}`;
    const key = `${m} ${templateShape(template)}`;
    const previous = this.shapes.get(key);
    if (previous !== undefined) {
      throw new Error(`conflicting HTTP bindings: ${describe} and ${previous} both answer ${key}`);
    }
    this.shapes.set(key, describe);
    this.entries.push({ method: m, template, target });
  }

  /** Whether a binding for exactly this method and path shape exists. */
  has(method: string, template: PathTemplate): boolean {
    return this.shapes.has(`${method.toUpperCase()} ${templateShape(template)}`);
  }

  /**
   * Finds the most specific binding for `method` matching `rawPath` (percent-encoded, no query).
   * HEAD falls back to GET. Throws INVALID_PARAMETER_VALUE for malformed percent-encoding.
   */
  lookup(method: string, rawPath: string): RouteLookup<T> {
    const path = parseRequestPath(rawPath);
    const m = method.toUpperCase();
    let best: { entry: Entry<T>; params: PathParams } | undefined;
    let bestGet: { entry: Entry<T>; params: PathParams } | undefined;
    const allowed = new Set<string>();
    for (const entry of this.entries) {
      const params = matchTemplate(entry.template, path);
      if (params === undefined) continue;
      allowed.add(entry.method);
      if (entry.method === m || entry.method === ANY_METHOD) {
        if (!best || compareSpecificity(entry.template, best.entry.template) < 0) best = { entry, params };
      } else if (m === "HEAD" && entry.method === "GET") {
        if (!bestGet || compareSpecificity(entry.template, bestGet.entry.template) < 0) bestGet = { entry, params };
      }
    }
    const hit = best ?? bestGet;
    if (hit) return { kind: "found", target: hit.entry.target, params: hit.params };
    if (allowed.size === 0) return { kind: "not-found" };
    if (allowed.has("GET")) allowed.add("HEAD");
    return { kind: "method-not-allowed", allowed: [...allowed].sort() };
  }
}
