/** The lab's text table: the title, the columns padded to their widest cell, and the sentences under it. */
import type { LabResult } from './result.js';

export function renderTable(r: LabResult): string {
  const cells = [r.columns, ...r.rows.map((row) => row.map(String))];
  const widths = r.columns.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? '').length)));
  const line = (row: string[]) =>
    row
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [
    r.title,
    '',
    line(cells[0]!),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...cells.slice(1).map(line),
    ...(r.notes?.length ? ['', ...r.notes] : []),
    '',
  ].join('\n');
}
