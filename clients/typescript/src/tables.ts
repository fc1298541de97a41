/** Tables as CSV (RFC 4180 quoting) for table artifacts. */
export type Cell = string | number | boolean | null | undefined;
export type Table = Record<string, Cell>[] | { columns: string[]; rows: Cell[][] };

function cell(value: Cell): string {
  if (value === null || value === undefined) return "";
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** A header line, then one line per row; object rows use the union of their keys, in first-seen order. */
export function toCsv(table: Table): string {
  let columns: string[];
  let rows: Cell[][];
  if (Array.isArray(table)) {
    const seen = new Set<string>();
    for (const row of table) for (const key of Object.keys(row)) seen.add(key);
    columns = [...seen];
    rows = table.map((row) => columns.map((c) => row[c]));
  } else {
    ({ columns, rows } = table);
  }
  return [columns, ...rows].map((r) => r.map(cell).join(",")).join("\n") + "\n";
}
