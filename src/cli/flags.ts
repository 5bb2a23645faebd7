// Turning flag values into what a request holds.
import { parseDuration } from '../config/duration.js';
import { UsageError } from '../errors.js';

export function parseDurationFlag(flag: string, value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined) throw new UsageError(`${flag} ${JSON.stringify(value)} is not a duration`, 'write it like 90, 90s, 5m or 1m30s');
  return ms;
}
