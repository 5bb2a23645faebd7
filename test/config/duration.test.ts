import { describe, expect, it } from 'vitest';
import { ago, elapsed, formatDuration, parseDuration } from '../../src/config/duration.js';

describe('durations', () => {
  it.each([
    ['5s', 5000],
    ['1m30s', 90_000],
    ['250ms', 250],
    ['2h', 7_200_000],
    ['1.5s', 1500],
    ['90', 90_000],
    [' 30 ', 30_000],
    [2, 2000],
    [0.25, 250],
  ] as Array<[string | number, number]>)('reads %j as %i ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', 'soon', '5 s', '-1', '1m30', 'ms', '5sec'])('refuses %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  it('refuses a negative or infinite number', () => {
    expect(parseDuration(-1)).toBeUndefined();
    expect(parseDuration(Infinity)).toBeUndefined();
  });

  it.each([
    [250, '250ms'],
    [5000, '5s'],
    [1500, '1.5s'],
    [9970, '10s'],
    [59_600, '1m'],
    [90_000, '1m30s'],
    [299_600, '5m'],
    [3_720_000, '1h2m'],
    [3_599_750, '1h'],
    [5_400_000, '1h30m'],
  ])('writes %i ms as %s, never as 59m60s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it.each([
    [400, '0s', 'just now'],
    [45_000, '45s', '45s ago'],
    [90_000, '1m', '1m ago'],
    [3 * 3_600_000 + 59 * 60_000, '3h', '3h ago'],
    [2 * 86_400_000 + 5_000, '2d', '2d ago'],
    [-5_000, '0s', 'just now'],
  ])('%i ms ago reads %s in a column and %s in a sentence', (ms, short, long) => {
    const now = Date.parse('2026-11-24T10:00:00Z');
    const at = new Date(now - ms).toISOString();
    expect(elapsed(at, now)).toBe(short);
    expect(ago(at, now)).toBe(long);
  });
});

describe('parseTimeLimit: what a Node timer can hold', () => {
  it('takes up to 2^31 - 1 ms and refuses longer, naming the maximum', async () => {
    const { parseTimeLimit, MAX_TIMER_MS } = await import('../../src/config/duration.js');
    expect(parseTimeLimit('24d')).toEqual({ ms: 24 * 86_400_000 });
    expect(parseTimeLimit(MAX_TIMER_MS / 1000)).toEqual({ ms: MAX_TIMER_MS });
    expect(parseTimeLimit('30d')).toEqual({ error: '30d is longer than the longest time limit deployctl can keep, 596h (about 24.8 days): give a shorter one' });
    expect(parseTimeLimit('597h')).toHaveProperty('error');
    expect(parseTimeLimit('soon')).toEqual({ error: '"soon" is not a duration: write it like 90s, 5m or 1m30s' });
  });
});
