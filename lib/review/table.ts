/**
 * Tables for the review tools: aligned plain text for a terminal, GitHub Markdown for a README or
 * a pull request comment. Cells are single-line; Markdown cells escape the pipe.
 */

/** A table: a header row and data rows of the same width. */
export interface Table {
  readonly header: readonly string[];
  readonly rows: readonly (readonly string[])[];
}

/** Columns padded to their widest cell, separated by two spaces, with a rule under the header. */
export function textTable({ header, rows }: Table): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n') + '\n';
}

/** A GitHub-flavoured Markdown table. */
export function markdownTable({ header, rows }: Table): string {
  const cell = (c: string) => c.replace(/\|/g, '\\|').replace(/\n/g, '<br>');
  const line = (cells: readonly string[]) => `| ${cells.map(cell).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n') + '\n';
}
