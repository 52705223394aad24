// Plain-text tables for benchmark output: a header row, rule, rows, and section captions.

export type Row = string[] | { section: string };

export function renderTable(header: string[], rows: Row[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (Array.isArray(r) ? (r[i] ?? '').length : 0))));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  const out = [line(header), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const r of rows) out.push(Array.isArray(r) ? line(r) : r.section);
  return out.join('\n');
}

const group = (n: number, digits: number) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

export const fmtRate = (n: number | undefined): string => (n === undefined || Number.isNaN(n) ? '-' : group(n, 0));
export const fmtMs = (n: number | undefined): string =>
  n === undefined || Number.isNaN(n) ? '-' : n < 10 ? n.toFixed(2) : n < 100 ? n.toFixed(1) : group(n, 0);
export const fmtMB = (bytes: number | undefined): string => (bytes === undefined || Number.isNaN(bytes) ? '-' : `${(bytes / 1e6).toFixed(1)}`);
export const fmtCount = (n: number): string => group(n, 0);
