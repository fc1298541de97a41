/**
 * Matching request paths against parsed templates (grpc-gateway's runtime/pattern.go).
 *
 * Percent-decoding is per segment, after splitting on `/`: a `%2F` inside a segment is part of
 * that segment's value (DESIGN.md §4: an experiment name "a/b" travels as `a%2Fb`), never a
 * separator. Multi-segment variables (`{x=a/*}`, `{x=**}`) keep the `/` between their segments
 * and, as http.proto prescribes ("reserved expansion"), leave `%2F` inside a segment encoded, so
 * that the two stay distinguishable.
 */
import { AppError, ErrorCode } from "../domain/errors.js";
import type { PathTemplate } from "./http-rule.js";

/** One segment of a request path: as sent, and decoded. */
export interface PathSegment {
  readonly raw: string;
  readonly decoded: string;
}

/** A request path split into segments, decoded once per request. */
export interface RequestPath {
  readonly raw: string;
  readonly segments: readonly PathSegment[];
}

/** Bound path variables by dotted field path (`"book.shelf_id"` → value). */
export type PathParams = Record<string, string>;

/**
 * Splits and decodes a request path (no query string). Throws INVALID_PARAMETER_VALUE for
 * malformed percent-encoding. A path that does not start with "/" has no segments and matches nothing.
 */
export function parseRequestPath(raw: string): RequestPath {
  if (!raw.startsWith("/")) return { raw, segments: [] };
  return { raw, segments: raw.slice(1).split("/").map(segment) };
}

function segment(raw: string): PathSegment {
  return { raw, decoded: decodeSegment(raw) };
}

function decodeSegment(raw: string): string {
  if (!raw.includes("%")) return raw;
  try {
    return decodeURIComponent(raw);
  } catch (cause) {
    throw new AppError(ErrorCode.INVALID_PARAMETER_VALUE, `Malformed percent-encoding in URL path segment '${raw}'`, {
      cause,
    });
  }
}

/** Decodes everything except `%2F`/`%2f`, which stays as it was sent. */
function decodeKeepingSlashes(raw: string): string {
  if (!raw.includes("%")) return raw;
  return raw
    .split(/(%2[fF])/)
    .map((part, i) => (i % 2 === 1 ? part : decodeSegment(part)))
    .join("");
}

/**
 * Matches `path` against `template`; returns the bound variables, or undefined when it does not match.
 * A template with a verb matches only paths whose last segment ends with `:verb` (as sent: an
 * encoded `%3A` is not a verb separator); a template without one treats a `:` as part of the segment.
 */
export function matchTemplate(template: PathTemplate, path: RequestPath): PathParams | undefined {
  let segs = path.segments;
  if (segs.length === 0) return undefined;
  if (template.verb !== undefined) {
    const suffix = `:${template.verb}`;
    const last = segs[segs.length - 1]!;
    if (!last.raw.endsWith(suffix)) return undefined;
    segs = [...segs.slice(0, -1), segment(last.raw.slice(0, -suffix.length))];
  }

  const tsegs = template.segments;
  const deep = tsegs.length > 0 && tsegs[tsegs.length - 1]!.kind === "deep-wildcard";
  if (deep ? segs.length < tsegs.length - 1 : segs.length !== tsegs.length) return undefined;
  for (let i = 0; i < tsegs.length; i++) {
    const t = tsegs[i]!;
    if (t.kind === "deep-wildcard") break;
    const s = segs[i]!;
    if (t.kind === "literal" ? s.decoded !== t.value : s.raw === "") return undefined;
  }

  const params: PathParams = {};
  for (const v of template.variables) {
    const end = v.end === tsegs.length && deep ? segs.length : v.end;
    const covered = segs.slice(v.start, end);
    params[v.fieldPath.join(".")] = v.multiSegment
      ? covered.map((s) => decodeKeepingSlashes(s.raw)).join("/")
      : covered[0]!.decoded;
  }
  return params;
}

/**
 * Orders two templates that both match a request: a literal beats `*`, which beats `**`,
 * segment by segment from the left; then a template with a verb beats one without; then the longer
 * wins. Negative when `a` is the more specific.
 */
export function compareSpecificity(a: PathTemplate, b: PathTemplate): number {
  const rank = (t: PathTemplate, i: number) => {
    const s = t.segments[i];
    return s === undefined ? 0 : s.kind === "literal" ? 3 : s.kind === "wildcard" ? 2 : 1;
  };
  const n = Math.max(a.segments.length, b.segments.length);
  for (let i = 0; i < n; i++) {
    const d = rank(b, i) - rank(a, i);
    if (d !== 0) return d;
  }
  return (b.verb !== undefined ? 1 : 0) - (a.verb !== undefined ? 1 : 0);
}
