// Durations as users write them: `5s`, `1m30s`, `250ms`, `2h`, or a plain number of seconds.

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/;

/** Milliseconds, or undefined when the text is not a duration. */
export function parseDuration(value: string | number): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.round(value * 1000) : undefined;
  const text = value.trim();
  if (/^\d+(?:\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  if (!DURATION.test(text)) return undefined;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h|d)/g)) total += Number(amount) * UNIT_MS[unit!]!;
  return Math.round(total);
}

/** The longest time limit Node's timers hold (2^31 - 1 ms, about 24.8 days): a longer one would fire at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;
export const MAX_TIMER_TEXT = '596h (about 24.8 days)';

/**
 * A time limit in milliseconds, or why it is not one: not a duration, or longer than a timer can hold.
 * `example` shows how to write one ("90s, 5m or 1m30s").
 */
export function parseTimeLimit(value: string | number, example = '90s, 5m or 1m30s'): { ms: number } | { error: string } {
  const ms = parseDuration(value);
  if (ms === undefined) return { error: `${JSON.stringify(String(value))} is not a duration: write it like ${example}` };
  if (ms > MAX_TIMER_MS) return { error: `${String(value)} is longer than the longest time limit deployctl can keep, ${MAX_TIMER_TEXT}: give a shorter one` };
  return { ms };
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 9950) return `${(ms / 1000).toFixed(1).replace(/\.0$/, '')}s`;
  const total = Math.round(ms / 1000);
  if (total < 60) return `${total}s`;
  const m = Math.floor(total / 60);
  if (m < 60) return `${m}m${total % 60 ? `${total % 60}s` : ''}`;
  const h = Math.floor(m / 60);
  return `${h}h${m % 60 ? `${m % 60}m` : ''}`;
}

/** Time since `iso` in its largest whole unit, for narrow columns: "0s", "45s", "12m", "3h", "2d". */
export function elapsed(iso: string, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

/** "just now", "45s ago", "12m ago", "3h ago", "2d ago": in tables and messages alike. */
export function ago(iso: string, now = Date.now()): string {
  const e = elapsed(iso, now);
  return e === '0s' ? 'just now' : `${e} ago`;
}
