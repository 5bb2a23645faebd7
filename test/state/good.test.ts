import { describe, expect, it } from 'vitest';
import { goodOnes, type Outcome } from '../../src/state/good.js';

let n = 0;
const r = (version: string, status: Outcome['status'], extra: Partial<Outcome> = {}): Outcome => ({ id: `r${++n}`, version, status, ...extra });

describe('the versions a rollback may go back to', () => {
  it('newest first, one record per version, skipping failures, bad versions and the versions asked', () => {
    const newestFirst = [
      r('5', 'running'),
      r('4', 'failed', { bad: true }),
      r('3', 'succeeded'),
      r('2', 'rolled_back', { bad: true }),
      r('3', 'succeeded'),
      r('2', 'succeeded'),
      r('1', 'succeeded'),
      r('0', 'succeeded', { healthy: false }),
    ];
    expect(goodOnes(newestFirst).map((x) => x.version)).toEqual(['3', '1']);
    expect(goodOnes(newestFirst).map((x) => x.id)).toEqual([newestFirst[2]!.id, newestFirst[6]!.id]);
    expect(goodOnes(newestFirst, new Set(['3'])).map((x) => x.version)).toEqual(['1']);
  });

  it('a version that succeeded after it had failed is good again; one still in flight does not count', () => {
    expect(goodOnes([r('2', 'succeeded'), r('2', 'failed', { bad: true }), r('1', 'succeeded')]).map((x) => x.version)).toEqual(['2', '1']);
    expect(goodOnes([r('1', 'pending'), r('1', 'succeeded')]).map((x) => x.version)).toEqual(['1']);
  });
});
