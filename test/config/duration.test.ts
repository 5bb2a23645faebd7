import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../src/config/duration.js';

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
});
