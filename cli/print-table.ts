/**
 * @module cli/print-table
 * Aligns rows into columns the way kubectl's table printer does: upper-case headers, left-aligned
 * cells, three spaces between columns, no padding after the last one.
 */

const COLUMN_GAP = 3;

/** Returns the table's lines (header first). */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const all = [headers.map((h) => h.toUpperCase()), ...rows];
  const widths = headers.map((_, col) => Math.max(...all.map((row) => (row[col] ?? "").length)));
  return all.map((row) =>
    headers
      .map((_, col) => {
        const cell = row[col] ?? "";
        return col === headers.length - 1 ? cell : cell.padEnd((widths[col] ?? 0) + COLUMN_GAP);
      })
      .join("")
      .trimEnd(),
  );
}
