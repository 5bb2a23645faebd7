import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../src/config/duration.js';

describe('durations', () => {
  it.each([
    ['250ms', 250],
    ['5s', 5000],
    ['1m30s', 90_000],
    ['2h', 7_200_000],
    [90, 90_000],
    ['soon', undefined],
  ])('parses %j', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each([
    [251, '251ms'],
    [1500, '1.5s'],
    [59_600, '1m'],
    [90_000, '1m30s'],
    [3_599_750, '1h'],
    [5_400_000, '1h30m'],
  ])('formats %i ms as %s, never as 59m60s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
