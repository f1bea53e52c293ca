/** A plain-text table with aligned columns: numbers to the right, text to the left. */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const numeric = headers.map((_, c) => rows.length > 0 && rows.every((r) => /^[-+\d.,]+( ?[a-zA-Z/×%]+)?$|^—$/.test(r[c] ?? '')));
  const line = (cells: readonly string[]): string =>
    cells.map((cell, c) => (numeric[c] ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join(' | ').trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('-+-');
  return [line(headers), rule, ...rows.map(line)].join('\n');
}

/** `measured / baseline`, e.g. `0.62×`. */
export const ratio = (measured: number, baseline: number): string =>
  baseline > 0 && Number.isFinite(measured) ? `${(measured / baseline).toFixed(2)}×` : '—';

export const perSecond = (n: number): string => `${Math.round(n).toLocaleString('en-US')}/s`;
export const ms = (n: number): string => `${n.toFixed(1)} ms`;
