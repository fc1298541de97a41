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
