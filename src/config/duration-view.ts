// Durations in a resolved config are milliseconds; `config` and `diff` show them as people write them.

/** Where the resolved config holds a duration in milliseconds, as key paths ('*' is any one key). */
const DURATION_PATHS = [
  ['timeout'],
  ['rollout_timeout'],
  ['stop_timeout'],
  ['lock_timeout'],
  ['notifications', 'timeout'],
  ...['health_check', 'pre_check'].flatMap((check) => ['interval', 'max_interval', 'timeout', 'start_period', 'deadline'].map((key) => [check, key])),
];

const UNITS: Array<[string, number]> = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
  ['ms', 1],
];

/** Exact, in the largest units that add up to it: 120000 → "2m", 90000 → "1m30s", 1500 → "1s500ms", 0 → "0s". */
export function durationText(ms: number): string {
  if (ms === 0) return '0s';
  let rest = Math.round(ms);
  let text = '';
  for (const [unit, size] of UNITS) {
    if (rest >= size) {
      text += `${Math.floor(rest / size)}${unit}`;
      rest %= size;
    }
  }
  return text;
}

/** A copy of the config with each duration as text, and the text of each by key path (for JSON beside the ms). */
export function durationsAsWritten<T extends Record<string, unknown>>(config: T): { config: T; durations: Record<string, string> } {
  const copy = structuredClone(config) as Record<string, any>;
  const durations: Record<string, string> = {};
  for (const path of DURATION_PATHS) {
    const parent = path.slice(0, -1).reduce<any>((node, key) => (node && typeof node === 'object' ? node[key] : undefined), copy);
    const key = path[path.length - 1]!;
    if (parent && typeof parent === 'object' && typeof parent[key] === 'number') {
      parent[key] = durationText(parent[key]);
      durations[path.join('.')] = parent[key];
    }
  }
  return { config: copy as T, durations };
}
