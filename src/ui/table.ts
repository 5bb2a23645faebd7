// Plain aligned text tables for status, list and history (ink-table does not work with ink 6).

export function renderTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

export const STATUS_SYMBOL: Record<string, string> = {
  succeeded: '✓',
  failed: '✗',
  rolled_back: '↺',
  running: '…',
  pending: '…',
  interrupted: '!',
};

export function statusLabel(status: string): string {
  return `${STATUS_SYMBOL[status] ?? '?'} ${status}`;
}
