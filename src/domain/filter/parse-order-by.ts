/** `order_by` entries (`metrics.sharpe_ratio DESC`, `attributes.start_time`, `params."a b" ASC`) → OrderTerm[]. */
import { invalidParameter } from "../errors.js";
import { ORDER_BY_ATTRIBUTES, type OrderByAttribute, type OrderTerm } from "./ast.js";
import { resolveIdentifier } from "./identifier.js";
import { readOrderByEntry } from "./read-filter.js";

export function parseOrderBy(entries: readonly string[]): OrderTerm[] {
  const terms: OrderTerm[] = [];
  const seen = new Set<string>();
  for (const entry of entries) {
    const { parts, identifier, ascending } = readOrderByEntry(entry);
    const { type, key } = resolveIdentifier(parts, identifier);
    let term: OrderTerm;
    if (type === "attribute") {
      if (!(ORDER_BY_ATTRIBUTES as readonly string[]).includes(key)) {
        throw invalidParameter(`Invalid attribute key '${key}' specified. Valid keys are '${ORDER_BY_ATTRIBUTES.join("', '")}'`);
      }
      term = { type, key: key as OrderByAttribute, ascending };
    } else if (type === "dataset") {
      throw invalidParameter(`Invalid order_by clause '${entry}'. Ordering by datasets is not supported.`);
    } else {
      term = { type, key, ascending };
    }
    const id = `${term.type}\u0000${term.key}`;
    if (seen.has(id)) throw invalidParameter(`\`order_by\` contains duplicate fields: ['${entry}']`);
    seen.add(id);
    terms.push(term);
  }
  return terms;
}
