// Turning flag values into what a request holds.
import { MAX_TIMER_TEXT, parseDuration, parseTimeLimit } from '../config/duration.js';
import { UsageError } from '../errors.js';

/** A duration flag (--timeout, --wait-lock...): a duration Node's timers can hold, or a usage error naming the flag. */
export function parseDurationFlag(flag: string, value: string): number {
  const limit = parseTimeLimit(value);
  if ('error' in limit) {
    const tooLong = parseDuration(value) !== undefined;
    throw new UsageError(`${flag} ${limit.error.replace(/: [^:]*$/, '')}`, tooLong ? `give ${flag} at most ${MAX_TIMER_TEXT}` : 'write it like 90, 90s, 5m or 1m30s');
  }
  return limit.ms;
}
