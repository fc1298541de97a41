import { randomBytes } from "node:crypto";
import { inject } from "vitest";

/** A connection string to a database of its own on the run's MongoDB-wire server. */
export function mongoTestUri(label: string): string {
  const base = new URL(inject("mongoUri"));
  base.pathname = `/lb_${label.replace(/\W/g, "_").slice(0, 30)}_${randomBytes(4).toString("hex")}`;
  return base.toString();
}
