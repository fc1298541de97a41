/**
 * Tokens of MLflow's filter language. Identifier parts are bare words or quoted with `"…"` or backticks and
 * joined by dots without spaces (`metrics."my key"`, `` `params`.lr ``); strings use single quotes (`''` or
 * `\'` inside); numbers are decimal with an optional sign and exponent.
 */
import { invalidParameter } from "../errors.js";

export interface IdentPart {
  text: string;
  /** The quote the part was written in, or "" when bare. */
  quote: "" | '"' | "`";
}

export type Token =
  | { kind: "ident"; parts: IdentPart[]; raw: string }
  | { kind: "string"; value: string; raw: string }
  | { kind: "number"; value: number; raw: string }
  | { kind: "op"; raw: string }
  | { kind: "("; raw: string }
  | { kind: ")"; raw: string }
  | { kind: ","; raw: string }
  | { kind: "end"; raw: string };

const NUMBER = /[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?/y;
const BARE = /[A-Za-z0-9_]+/y;
const WORD_START = /[A-Za-z_]/;

/** Reads a quoted run starting at `i` (the opening quote); returns its text and the index after it. */
function readQuoted(input: string, i: number, quote: string, escapes: boolean, invalid: () => Error): [string, number] {
  let out = "";
  let j = i + 1;
  for (;;) {
    if (j >= input.length) throw invalid();
    const c = input[j]!;
    if (escapes && c === "\\" && j + 1 < input.length) {
      out += input[j + 1];
      j += 2;
      continue;
    }
    if (c === quote) {
      if (input[j + 1] === quote) {
        out += quote;
        j += 2;
        continue;
      }
      return [out, j + 1];
    }
    out += c;
    j++;
  }
}

export function tokenize(input: string, invalid: (fragment: string) => Error = (f) => invalidParameter(`Invalid clause(s) in filter string: '${f}'`)): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;
    if (c === "'") {
      const [value, next] = readQuoted(input, i, "'", true, () => invalid(input.slice(start)));
      tokens.push({ kind: "string", value, raw: input.slice(start, next) });
      i = next;
      continue;
    }
    if (c === "(" || c === ")" || c === ",") {
      tokens.push({ kind: c, raw: c });
      i++;
      continue;
    }
    if (c === "=" || c === "!" || c === "<" || c === ">") {
      let j = i;
      while (j < input.length && "=!<>".includes(input[j]!)) j++;
      tokens.push({ kind: "op", raw: input.slice(i, j) });
      i = j;
      continue;
    }
    if (/[0-9.+-]/.test(c)) {
      NUMBER.lastIndex = i;
      const m = NUMBER.exec(input);
      if (!m) throw invalid(input.slice(start));
      // A number runs into a word ("1abc"): not a value MLflow accepts either.
      if (/[A-Za-z_]/.test(input[NUMBER.lastIndex] ?? "")) throw invalid(input.slice(start).split(/\s/)[0]!);
      tokens.push({ kind: "number", value: Number(m[0]), raw: m[0] });
      i = NUMBER.lastIndex;
      continue;
    }
    if (WORD_START.test(c) || c === '"' || c === "`") {
      const parts: IdentPart[] = [];
      for (;;) {
        const q = input[i];
        if (q === '"' || q === "`") {
          const [text, next] = readQuoted(input, i, q, q === '"', () => invalid(input.slice(start)));
          parts.push({ text, quote: q });
          i = next;
        } else {
          BARE.lastIndex = i;
          const m = BARE.exec(input);
          if (!m) throw invalid(input.slice(start, i + 1));
          parts.push({ text: m[0], quote: "" });
          i = BARE.lastIndex;
        }
        if (input[i] !== ".") break;
        i++;
      }
      tokens.push({ kind: "ident", parts, raw: input.slice(start, i) });
      continue;
    }
    throw invalid(input.slice(start));
  }
  tokens.push({ kind: "end", raw: "" });
  return tokens;
}
