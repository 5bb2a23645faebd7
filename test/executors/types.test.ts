import { describe, expect, it } from 'vitest';
import { failureReason } from '../../src/executors/types.js';

describe('why a command failed, in the one message people read', () => {
  const ended = { exitCode: 1, output: '', timedOut: false, interrupted: false, durationMs: 1200 };
  it.each([
    ['its exit code and the last line it printed', { ...ended, output: 'step 1\nError: Backend initialization required\n\n' }, 'exit code 1 (last output: Error: Backend initialization required)'],
    ['its exit code alone when it printed nothing', ended, 'exit code 1'],
    ['a last line cut at 200 characters', { ...ended, output: `${'x'.repeat(300)}\n` }, `exit code 1 (last output: ${'x'.repeat(199)}…)`],
    ['why it did not start', { ...ended, exitCode: null, spawnError: 'not found: kubectl' }, 'not found: kubectl'],
    ['its time limit', { ...ended, exitCode: null, timedOut: true, durationMs: 2400 }, 'timed out after 2s'],
    ['Ctrl-C', { ...ended, exitCode: null, interrupted: true }, 'interrupted'],
  ])('%s', (_name, result, reason) => {
    expect(failureReason(result)).toBe(reason);
  });
});
