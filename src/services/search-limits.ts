/** The `max_results` rule every search shares, with MLflow's handler message. */
import { invalidParameter } from "../domain/errors.js";

/** `max_results` within 1..max, `fallback` when absent. */
export function maxResultsOf(value: number | bigint | undefined, fallback: number, max: number, field = "max_results"): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw invalidParameter(`Invalid value ${value} for parameter '${field}' supplied. It must be at most ${max} and at least 1.`);
  }
  return n;
}
