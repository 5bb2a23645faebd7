import { describe, expect, it } from 'vitest';
import { failedTheSameWay, rollbackCandidates, type FailureCause, type Outcome } from '../../src/core/rollback-policy.js';

let n = 0;
const r = (version: string, status: Outcome['status'], extra: Partial<Outcome> = {}): Outcome => ({ id: `r${++n}`, version, status, action: 'deploy', ...extra });
const versions = (records: Outcome[]) => records.map((x) => x.version);

describe('where a bare rollback goes: back along what was deployed', () => {
  const d10 = r('1.0', 'succeeded');
  const d11 = r('1.1', 'succeeded');
  const d12 = r('1.2', 'succeeded');

  it('from a deploy: the good versions before it', () => {
    expect(versions(rollbackCandidates([d12, d11, d10]))).toEqual(['1.1', '1.0']);
  });

  it('from a rollback: the good versions before where that version was deployed, never forward', () => {
    const back11 = r('1.1', 'succeeded', { action: 'rollback' });
    expect(versions(rollbackCandidates([back11, d12, d11, d10]))).toEqual(['1.0']);
    const back10 = r('1.0', 'succeeded', { action: 'rollback' });
    expect(versions(rollbackCandidates([back10, back11, d12, d11, d10]))).toEqual([]);
  });

  it('from a version put back by hand: on from where it was deployed', () => {
    const to12 = r('1.2', 'succeeded', { action: 'rollback' });
    const back10 = r('1.0', 'succeeded', { action: 'rollback' });
    const back11 = r('1.1', 'succeeded', { action: 'rollback' });
    expect(versions(rollbackCandidates([to12, back10, back11, d12, d11, d10]))).toEqual(['1.1', '1.0']);
  });

  it('a version marked bad since is passed over; a rollback that failed for another cause is not held against its version', () => {
    expect(versions(rollbackCandidates([d12, r('1.1', 'failed', { bad: true, action: 'rollback' }), d11, d10]))).toEqual(['1.0']);
    expect(versions(rollbackCandidates([r('1.1', 'failed', { bad: false, action: 'rollback' }), r('1.2', 'failed', { bad: true }), d11, d10]))).toEqual(['1.1', '1.0']);
  });
});

describe('failed the same way', () => {
  const cause = (version: string, message: string, label = 'command 1/1', extra: Partial<FailureCause> = {}): FailureCause => ({
    version,
    status: 'failed',
    error: { code: 'deploy_failed', message },
    steps: [{ label, exitCode: 1 }],
    ...extra,
  });
  const vault = 'command 1/1: exit code 1 (last output: ERROR! Attempting to decrypt but no vault secrets found)';

  it('the same error at the same step, naming no version', () => {
    expect(failedTheSameWay(cause('1.2', vault), cause('1.1', vault))).toBe(true);
    expect(failedTheSameWay(cause('1.2', vault, 'command 1/1', { status: 'rolled_back' }), cause('1.1', vault))).toBe(true);
  });

  it('not: another message, another step, another kind of failure, an error that names the version, a success', () => {
    expect(failedTheSameWay(cause('1.2', vault), cause('1.1', 'command 1/1: exit code 1 (last output: 1.1 is broken)'))).toBe(false);
    expect(failedTheSameWay(cause('1.2', vault, 'pre_deploy hook 1'), cause('1.1', vault))).toBe(false);
    expect(failedTheSameWay(cause('1.2', vault), { ...cause('1.1', vault), error: { code: 'health_failed', message: vault } })).toBe(false);
    expect(failedTheSameWay(cause('1.2', 'image web:1.1 not found'), cause('1.1', 'image web:1.1 not found'))).toBe(false);
    expect(failedTheSameWay(cause('1.2', vault), { ...cause('1.1', vault), status: 'succeeded' })).toBe(false);
  });
});
