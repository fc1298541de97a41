/**
 * Path templates of `google.api.http` rules, parsed once at start-up (grpc-gateway's
 * internal/httprule). Grammar (googleapis google/api/http.proto):
 *
 *     Template = "/" Segments [ Verb ] ;
 *     Segments = Segment { "/" Segment } ;
 *     Segment  = "*" | "**" | LITERAL | Variable ;
 *     Variable = "{" FieldPath [ "=" Segments ] "}" ;
 *     FieldPath = IDENT { "." IDENT } ;
 *     Verb     = ":" LITERAL ;
 *
 * `{var}` is `{var=*}`; `**` matches zero or more segments and must be the last segment; variables
 * don't nest. A `:` always starts the verb, so literals cannot contain one.
 */

export type TemplateSegment =
  /** A fixed segment, stored percent-decoded. */
  | { readonly kind: "literal"; readonly value: string }
  /** `*`: exactly one non-empty segment. */
  | { readonly kind: "wildcard" }
  /** `**`: zero or more segments (last only). */
  | { readonly kind: "deep-wildcard" };

export interface TemplateVariable {
  /** Proto field names from the request message down, e.g. `["book", "shelf_id"]`. */
  readonly fieldPath: readonly string[];
  /** Index of the first segment the variable covers. */
  readonly start: number;
  /** Index after the last segment it covers (for a trailing `**`: the segments after it, none). */
  readonly end: number;
  /**
   * True for `{x=a/*}`, `{x=**}` and the like: the value keeps `/` between segments and, as
   * http.proto prescribes for multi-segment variables, an encoded `%2F` stays encoded.
   */
  readonly multiSegment: boolean;
}

/** A parsed, validated path template. */
export interface PathTemplate {
  /** The template as written in the proto. */
  readonly source: string;
  readonly segments: readonly TemplateSegment[];
  readonly variables: readonly TemplateVariable[];
  /** The custom verb without its colon (`archive` for `…:archive`), if any. */
  readonly verb: string | undefined;
}

/** An invalid template; the message names the RPC (when known), the template and the problem. */
export class TemplateError extends Error {
  override readonly name = "TemplateError";
  constructor(
    readonly template: string,
    readonly reason: string,
    readonly rpc?: string,
  ) {
    super(`${rpc ? `${rpc}: ` : ""}invalid HTTP path template "${template}": ${reason}`);
  }
}

// RFC 3986 pchar minus ":" (the verb separator), "*" and "=" (template syntax); "%" starts an escape.
const LITERAL_CHAR = /[A-Za-z0-9\-._~!$&'()+,;@%]/;
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Parses a path template. Throws {@link TemplateError} (naming `rpc` when given) when it is invalid.
 */
export function parseTemplate(source: string, rpc?: string): PathTemplate {
  return new TemplateParser(source, rpc).parse();
}

class TemplateParser {
  private pos = 0;
  private readonly segments: TemplateSegment[] = [];
  private readonly variables: TemplateVariable[] = [];

  constructor(
    private readonly src: string,
    private readonly rpc: string | undefined,
  ) {}

  parse(): PathTemplate {
    if (this.src[0] !== "/") this.fail('a template starts with "/"');
    this.pos = 1;
    this.segmentList(false);
    let verb: string | undefined;
    if (this.peek() === ":") {
      this.pos++;
      verb = this.literal("verb");
    }
    if (this.pos < this.src.length) this.fail(`unexpected "${this.peek()}" at position ${this.pos}`);

    const deep = this.segments.findIndex((s) => s.kind === "deep-wildcard");
    if (deep !== -1 && deep !== this.segments.length - 1) this.fail('"**" must be the last segment');
    const seen = new Set<string>();
    for (const v of this.variables) {
      const key = v.fieldPath.join(".");
      if (seen.has(key)) this.fail(`field "${key}" is bound twice`);
      seen.add(key);
    }
    return { source: this.src, segments: this.segments, variables: this.variables, verb };
  }

  private segmentList(inVariable: boolean): void {
    for (;;) {
      this.segment(inVariable);
      if (this.peek() !== "/") return;
      this.pos++;
    }
  }

  private segment(inVariable: boolean): void {
    const c = this.peek();
    if (c === "{") {
      if (inVariable) this.fail("variables cannot nest");
      this.variable();
    } else if (c === "*") {
      const deep = this.src[this.pos + 1] === "*";
      this.pos += deep ? 2 : 1;
      this.segments.push(deep ? { kind: "deep-wildcard" } : { kind: "wildcard" });
    } else {
      this.segments.push({ kind: "literal", value: this.literal("segment") });
    }
    const next = this.peek();
    const ok = next === undefined || next === "/" || next === ":" || (inVariable && next === "}");
    if (!ok) this.fail(`unexpected "${next}" at position ${this.pos}`);
  }

  private variable(): void {
    const open = this.pos++;
    let end = this.pos;
    while (end < this.src.length && !"=}".includes(this.src[end]!)) end++;
    const path = this.src.slice(this.pos, end);
    const fieldPath = path.split(".");
    if (!fieldPath.every((p) => IDENT.test(p))) this.fail(`"${path}" is not a field path (position ${this.pos})`);
    this.pos = end;
    const start = this.segments.length;
    if (this.peek() === "=") {
      this.pos++;
      this.segmentList(true);
    } else {
      this.segments.push({ kind: "wildcard" });
    }
    if (this.peek() !== "}") this.fail(`unclosed variable opened at position ${open}`);
    this.pos++;
    const covered = this.segments.slice(start);
    this.variables.push({
      fieldPath,
      start,
      end: this.segments.length,
      multiSegment: covered.length > 1 || covered.some((s) => s.kind === "deep-wildcard"),
    });
  }

  private literal(what: string): string {
    const start = this.pos;
    while (this.pos < this.src.length && LITERAL_CHAR.test(this.src[this.pos]!)) this.pos++;
    const raw = this.src.slice(start, this.pos);
    if (raw === "") {
      const c = this.peek();
      this.fail(c === undefined || c === "/" ? `empty ${what} at position ${start}` : `unexpected "${c}" at position ${start}`);
    }
    try {
      return decodeURIComponent(raw);
    } catch {
      return this.fail(`bad percent-encoding in "${raw}"`);
    }
  }

  private peek(): string | undefined {
    return this.src[this.pos];
  }

  private fail(reason: string): never {
    throw new TemplateError(this.src, reason, this.rpc);
  }
}

/**
 * A canonical form of a template's shape (variables reduced to their segments), so that two
 * bindings that would match the same requests compare equal: `/v1/{a}` and `/v1/{b=*}` → `/v1/*`.
 */
export function templateShape(t: PathTemplate): string {
  const parts = t.segments.map((s) => (s.kind === "literal" ? encodeURIComponent(s.value) : s.kind === "wildcard" ? "*" : "**"));
  return `/${parts.join("/")}${t.verb !== undefined ? `:${t.verb}` : ""}`;
}
