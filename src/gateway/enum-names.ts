/**
 * Enum value names on MLflow's wire. buf STANDARD wants prefixed values (`RUN_STATUS_RUNNING`);
 * MLflow writes `RUNNING`. The prefix is the enum's own name in UPPER_SNAKE_CASE plus "_"
 * (DESIGN.md §4): values are written without it and read with or without it, or as numbers.
 */
import type { DescEnum } from "@bufbuild/protobuf";

/** `RunStatus` → `RUN_STATUS_`, `HTTPMethod` → `HTTP_METHOD_` (the rule buf's ENUM_VALUE_PREFIX uses). */
export function enumPrefix(enumName: string): string {
  const snake = enumName
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/([A-Z])([A-Z][a-z])/g, "$1_$2")
    .toUpperCase();
  return `${snake}_`;
}

/** Both directions for one enum, built once. */
export class EnumNames {
  /** Wire names (prefix stripped) in declaration order, for messages listing what is accepted. */
  readonly wireNames: readonly string[];
  private readonly toName = new Map<number, string>();
  private readonly toNumber = new Map<string, number>();

  constructor(readonly desc: DescEnum) {
    const prefix = enumPrefix(desc.name);
    const names: string[] = [];
    for (const v of desc.values) {
      const stripped = v.name.startsWith(prefix) && v.name.length > prefix.length ? v.name.slice(prefix.length) : v.name;
      if (!this.toName.has(v.number)) this.toName.set(v.number, stripped); // first of aliases wins
      this.toNumber.set(v.name, v.number);
      if (!this.toNumber.has(stripped)) this.toNumber.set(stripped, v.number);
      names.push(stripped);
    }
    this.wireNames = names;
  }

  /** The wire name of a number, or the number itself when the enum has no such value (open enums). */
  write(value: number): string | number {
    return this.toName.get(value) ?? value;
  }

  /** The number for a stripped or full value name; undefined when there is none. */
  read(name: string): number | undefined {
    return this.toNumber.get(name);
  }
}
