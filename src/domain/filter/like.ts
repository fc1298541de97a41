/** SQL LIKE patterns (`%` any run, `_` one character) as anchored regular expressions; ILIKE folds ASCII case only, as SQLite's LIKE does. */

const asciiLower = (s: string) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());

const cache = new Map<string, RegExp>();

function likeRegExp(pattern: string): RegExp {
  let re = cache.get(pattern);
  if (!re) {
    let src = "^";
    for (const ch of pattern) {
      if (ch === "%") src += ".*";
      else if (ch === "_") src += ".";
      else src += /[\^$\\.*+?()[\]{}|/]/.test(ch) ? `\\${ch}` : ch;
    }
    re = new RegExp(`${src}$`, "su");
    if (cache.size > 1000) cache.clear();
    cache.set(pattern, re);
  }
  return re;
}

/** LIKE: case-sensitive. */
export const like = (value: string, pattern: string) => likeRegExp(pattern).test(value);
/** ILIKE: ignores the case of ASCII letters. */
export const ilike = (value: string, pattern: string) => likeRegExp(asciiLower(pattern)).test(asciiLower(value));

/** The pattern for SQLite's case-sensitive GLOB: `%` → `*`, `_` → `?`, GLOB's own specials bracketed. */
export function likeToGlob(pattern: string): string {
  let out = "";
  for (const ch of pattern) {
    if (ch === "%") out += "*";
    else if (ch === "_") out += "?";
    else if (ch === "*" || ch === "?" || ch === "[") out += `[${ch}]`;
    else out += ch;
  }
  return out;
}

/**
 * The pattern as a regular expression for a database's `$regex` (PCRE on MongoDB, Go's RE2 on FerretDB), in the
 * syntax both read the same way: `%` → `[\s\S]*`, `_` → `[\s\S]` (one code point, newlines included), every other
 * ASCII character that is not a letter or digit escaped (`\x00` for NUL, which MongoDB refuses raw), anchored with
 * `^` and `\z` (PCRE's `$` also matches before a final newline). `foldAsciiCase` (ILIKE) makes each ASCII letter a
 * class of its two cases; other letters keep their case, as SQLite's LIKE does.
 */
export function likeToRegexSource(pattern: string, foldAsciiCase: boolean): string {
  let out = "^";
  for (const ch of pattern) {
    if (ch === "%") out += "[\\s\\S]*";
    else if (ch === "_") out += "[\\s\\S]";
    else if (ch === "\0") out += "\\x00";
    else if (foldAsciiCase && /^[A-Za-z]$/.test(ch)) out += `[${ch.toLowerCase()}${ch.toUpperCase()}]`;
    else if (/^[\x01-\x7f]$/.test(ch) && !/^[A-Za-z0-9]$/.test(ch)) out += `\\${ch}`;
    else out += ch;
  }
  return `${out}\\z`;
}
