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

export function age(iso: string | undefined, now = Date.now()): string {
  if (!iso) return '-';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
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
