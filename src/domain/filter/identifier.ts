/** Identifiers of the run search language: `<type>.<key>` with MLflow's type aliases, or a bare attribute. */
import { invalidParameter } from "../errors.js";
import type { IdentPart } from "./lexer.js";

export type EntityType = "metric" | "param" | "tag" | "attribute" | "dataset";

const TYPE_ALIASES: Record<string, EntityType> = {
  metric: "metric",
  metrics: "metric",
  param: "param",
  params: "param",
  parameter: "param",
  parameters: "param",
  tag: "tag",
  tags: "tag",
  attribute: "attribute",
  attributes: "attribute",
  attr: "attribute",
  run: "attribute",
  dataset: "dataset",
  datasets: "dataset",
};

const IDENTIFIERS = "['metric', 'parameter', 'tag', 'attribute', 'dataset']";

/** MLflow's attribute aliases. */
export function translateAttributeAlias(key: string): string {
  if (key === "created" || key === "Created") return "start_time";
  if (key === "run name" || key === "Run name" || key === "Run Name") return "run_name";
  return key;
}

/** Splits identifier parts into type and key; throws MLflow's messages for unknown types. */
export function resolveIdentifier(parts: IdentPart[], raw: string): { type: EntityType; key: string } {
  if (parts.length === 1) return { type: "attribute", key: translateAttributeAlias(parts[0]!.text) };
  const [head, ...rest] = parts as [IdentPart, ...IdentPart[]];
  if (head.quote === '"') {
    throw invalidParameter(`Invalid identifier '${raw}'. Columns should be specified as 'attribute.<key>', 'metric.<key>', 'tag.<key>', 'dataset.<key>', or 'param.'.`);
  }
  const type = TYPE_ALIASES[head.text];
  if (type === undefined) throw invalidParameter(`Invalid entity type '${head.text}'. Valid values are ${IDENTIFIERS}`);
  let key: string;
  if (rest.length === 1) key = rest[0]!.text;
  else if (rest.every((p) => p.quote === "")) key = rest.map((p) => p.text).join(".");
  else throw invalidParameter(`Invalid identifier '${raw}'. A quoted key must be the whole key: ${head.text}."<key>".`);
  if (key === "") throw invalidParameter(`Invalid identifier '${raw}': the key is empty.`);
  return { type, key: type === "attribute" ? translateAttributeAlias(key) : key };
}
