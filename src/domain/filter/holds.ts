/**
 * The one comparison every filter of MLflow's languages evaluates in memory (runs, experiments, registered models,
 * model versions, logged models): `value <comparator> operand` for = != > >= < <= on numbers or strings, LIKE
 * (case-sensitive) and ILIKE (folding ASCII case) on strings. IEEE semantics for numbers: NaN fails every comparison
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
