/**
 * The comparison of a filter clause evaluated in memory — the run search's reference semantics (run-order.ts), which
 * the MongoDB run search checks its candidates with: `value <comparator> operand` for = != > >= < <= on numbers or
 * strings, LIKE (case-sensitive) and ILIKE (folding ASCII case) on strings. IEEE semantics for numbers: NaN fails every comparison
 * but `!=`. Lists (IN, NOT IN) and IS [NOT] NULL are the callers' to handle; the parsers let no other comparator through.
 */
import { ilike, like } from "./like.js";

export function holds(value: string | number, comparator: string, operand: string | number): boolean {
  switch (comparator) {
    case "=":
      return value === operand;
    case "!=":
      return value !== operand;
    case ">":
      return value > operand;
    case ">=":
      return value >= operand;
    case "<":
      return value < operand;
    case "<=":
      return value <= operand;
    case "LIKE":
      return like(String(value), String(operand));
    case "ILIKE":
      return ilike(String(value), String(operand));
    default:
      throw new Error(`holds: no comparator ${comparator}`);
  }
}
