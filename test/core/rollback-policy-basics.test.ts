import { describe, expect, it } from 'vitest';
import { goodOnes, rollbackCandidates, runningRecord, type Outcome } from '../../src/core/rollback-policy.js';

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

describe('what runs now, and where a bare rollback goes from there', () => {
  const versions = (records: Outcome[]) => records.map((x) => x.version);

  it('a deploy that changed nothing (a failed pre-deploy check, a refused approval) leaves the version before it running', () => {
    for (const untouched of [r('1.0.0', 'failed', { bad: false }), r('2.0.0', 'failed')]) {
      const newestFirst = [untouched, r('1.0.1', 'succeeded'), r('1.0.0', 'succeeded')];
      expect(runningRecord(newestFirst)?.version).toBe('1.0.1');
      expect(versions(rollbackCandidates(newestFirst))).toEqual(['1.0.0']);
    }
  });

  it('after a failure that changed something and was not rolled back, the newest good version is the way back', () => {
    const newestFirst = [r('1.3.0', 'failed', { bad: true }), r('1.2.0', 'failed', { bad: true }), r('1.1.0', 'succeeded'), r('1.0.0', 'succeeded')];
    // status shows the newest that succeeded, with the failure as the last deployment
    expect(runningRecord(newestFirst)?.version).toBe('1.1.0');
    expect(versions(rollbackCandidates(newestFirst))).toEqual(['1.1.0', '1.0.0']);
    // the same after a deploy interrupted halfway: what runs is in between
    expect(versions(rollbackCandidates([r('2.0.0', 'interrupted'), r('1.0.0', 'succeeded'), r('0.9.0', 'succeeded')]))).toEqual(['1.0.0', '0.9.0']);
  });

  it('after an automatic rollback, the version it went back to runs', () => {
    const newestFirst = [r('1.0.0', 'succeeded'), r('2.0.0', 'rolled_back', { bad: true }), r('1.0.0', 'succeeded'), r('0.9.0', 'succeeded')];
    expect(runningRecord(newestFirst)?.version).toBe('1.0.0');
    expect(versions(rollbackCandidates(newestFirst))).toEqual(['0.9.0']);
    expect(runningRecord([r('1.0.0', 'failed', { bad: true })])).toBeUndefined();
  });
});
