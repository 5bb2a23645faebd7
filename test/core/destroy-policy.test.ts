// What a destroy means for what runs and where rollbacks go (rollback-policy.ts), and the destroy
// strategy as a phase list that reuses the standard target phases.
import { describe, expect, it } from 'vitest';
import { destroyedOfHead, destroyedRecord, goodOnes, recordsRollbacksNeed, rollbackCandidates, runningOfHead, runningRecord, sinceDestroy, type Outcome } from '../../src/core/rollback-policy.js';
import { destroyStrategy } from '../../src/engine/destroy.js';
import { phaseNames } from '../../src/engine/lifecycle.js';
import { afterAttempts, beforeAttempts, closeRecord } from '../../src/engine/strategy.js';
import { startPhase } from '../../src/engine/phases/attempt.js';

let n = 0;
const r = (version: string, status: Outcome['status'], extra: Partial<Outcome> = {}): Outcome => ({ id: `r${++n}`, version, status, action: 'deploy', ...extra });
const destroy = (version: string, status: Outcome['status'] = 'succeeded') => r(version, status, { action: 'destroy' });
const versions = (records: readonly Outcome[]) => records.map((x) => x.version);

describe('after a destroy', () => {
  it('nothing runs; the destroy is what took it down; a bare rollback has nowhere to go', () => {
    const gone = destroy('2.0.0');
    const newestFirst = [gone, r('2.0.0', 'succeeded'), r('1.0.0', 'succeeded')];
    expect(runningRecord(newestFirst)).toBeUndefined();
    expect(destroyedRecord(newestFirst)).toBe(gone);
    expect(runningOfHead({ latest: { succeeded: gone } })).toBeUndefined();
    expect(destroyedOfHead({ latest: { succeeded: gone } })).toBe(gone);
    expect(rollbackCandidates(newestFirst)).toEqual([]);
    // rollback --to may still name them: they are good versions.
    expect(versions(goodOnes(newestFirst))).toEqual(['2.0.0', '1.0.0']);
    expect(recordsRollbacksNeed(newestFirst)).toContain(gone);
  });

  it('a destroy that failed (or was interrupted) leaves the version running; a bare rollback re-applies it whole first', () => {
    for (const status of ['failed', 'interrupted'] as const) {
      const newestFirst = [destroy('2.0.0', status), r('2.0.0', 'succeeded'), r('1.0.0', 'succeeded')];
      expect(runningRecord(newestFirst)?.version).toBe('2.0.0');
      expect(destroyedRecord(newestFirst)).toBeUndefined();
      expect(versions(rollbackCandidates(newestFirst))).toEqual(['2.0.0', '1.0.0']);
    }
  });

  it('deployed again: that version runs, and rollbacks never go back across the destroy', () => {
    const newestFirst = [r('3.0.0', 'succeeded'), destroy('2.0.0'), r('2.0.0', 'succeeded'), r('1.0.0', 'succeeded')];
    expect(runningRecord(newestFirst)?.version).toBe('3.0.0');
    expect(destroyedRecord(newestFirst)).toBeUndefined();
    expect(rollbackCandidates(newestFirst)).toEqual([]);
    expect(versions(sinceDestroy(newestFirst))).toEqual(['3.0.0']);
    const twice = [r('4.0.0', 'succeeded'), ...newestFirst];
    expect(versions(rollbackCandidates(twice))).toEqual(['3.0.0']);
  });

  it('a deploy after the destroy that failed having changed something: nothing good since, so nowhere to roll back', () => {
    const newestFirst = [r('3.0.0', 'failed', { bad: true }), destroy('2.0.0'), r('2.0.0', 'succeeded')];
    expect(runningRecord(newestFirst)).toBeUndefined();
    expect(rollbackCandidates(newestFirst)).toEqual([]);
    expect(goodOnes(sinceDestroy(newestFirst))).toEqual([]);
  });
});

describe('the destroy strategy', () => {
  it("is its own attempt phases between the standard target phases and the record's", () => {
    expect(destroyStrategy.phases.slice(0, beforeAttempts.length)).toEqual(beforeAttempts);
    expect(destroyStrategy.phases.slice(-afterAttempts.length)).toEqual(afterAttempts);
    expect(destroyStrategy.phases).toContain(startPhase);
    expect(destroyStrategy.phases).toContain(closeRecord[0]);
    expect(phaseNames(destroyStrategy, false)).toEqual(['tools', 'approve', 'lock', 'prepare', 'start', 'destroy', 'verify', 'record', 'retention', 'unlock', 'notify']);
    // A dry run leaves out approval, the lock, verify and what writes state.
    expect(phaseNames(destroyStrategy, true)).toEqual(['tools', 'prepare', 'start', 'destroy', 'record']);
  });
});

describe('the board after a destroy', () => {
  it('a destroyed cell says so, with when and by whom', async () => {
    const { cellText } = await import('../../src/ui/board.js');
    const now = Date.parse('2026-11-24T12:00:00Z');
    const cell = { version: null, status: 'succeeded' as const, lastVersion: '1.4.2', destroyed: true, at: '2026-11-24T11:55:00Z', by: 'ana' };
    expect(cellText(cell, 30, now).trim()).toBe('✓ destroyed 5m ana');
    expect(cellText({ ...cell, destroyed: undefined }, 30, now).trim()).toBe('✓ - 5m ana');
  });
});
