/** `order_by` entries (`metrics.sharpe_ratio DESC`, `attributes.start_time`, `params."a b" ASC`) → OrderTerm[]. */
import { invalidParameter } from "../errors.js";
import { ORDER_BY_ATTRIBUTES, type OrderByAttribute, type OrderTerm } from "./ast.js";
import { resolveIdentifier } from "./identifier.js";
import { tokenize } from "./lexer.js";

export function parseOrderBy(entries: readonly string[]): OrderTerm[] {
  const terms: OrderTerm[] = [];
  const seen = new Set<string>();
  for (const entry of entries) {
    const unparsable = () => invalidParameter(`Invalid order_by clause '${entry}'. Could not be parsed.`);
    const tokens = tokenize(entry, unparsable);
    const [ident, dir, end] = tokens;
    if (ident?.kind !== "ident") throw unparsable();
    let ascending = true;
    if (dir?.kind === "ident" && dir.parts.length === 1 && dir.parts[0]!.quote === "" && /^(ASC|DESC)$/i.test(dir.parts[0]!.text)) {
      ascending = dir.parts[0]!.text.toUpperCase() === "ASC";
      if (end?.kind !== "end") throw unparsable();
    } else if (dir?.kind !== "end") {
      throw unparsable();
    }
    const { type, key } = resolveIdentifier(ident.parts, ident.raw);
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
