import { describe, expect, it } from 'vitest';
import { failureReason } from '../../src/executors/types.js';

describe('why a command failed, in the one message people read', () => {
  const ended = { exitCode: 1, output: '', timedOut: false, interrupted: false, durationMs: 1200 };
  it.each([
    ['its exit code and the last line it printed', { ...ended, output: 'step 1\nstep 2 went wrong\n\n' }, 'exit code 1 (last output: step 2 went wrong)'],
    ['terraform\'s error line, not the help that follows it', { ...ended, output: 'Error: Invalid value for input variable\n\nThe given value is not suitable.\nUsage: terraform [global options] plan\n  -var \'foo=bar\'   Set a value\n' }, 'exit code 1 (Error: Invalid value for input variable)'],
    ['terraform\'s boxed error, with colour off or on', { ...ended, output: '╷\n│ Error: No configuration files\n│\n│ Apply requires configuration.\n╵\n' }, 'exit code 1 (Error: No configuration files)'],
    ['ansible\'s fatal task line, not the PLAY RECAP', { ...ended, exitCode: 2, output: 'TASK [x] ****\nfatal: [localhost]: FAILED! => {"msg": "boom"}\n\nPLAY RECAP ****\nlocalhost : ok=1 changed=0 unreachable=0 failed=1\n' }, 'exit code 2 (fatal: [localhost]: FAILED! => {"msg": "boom"})'],
    ['ansible\'s ERROR!', { ...ended, output: 'ERROR! the playbook: site.yml could not be found\n' }, 'exit code 1 (ERROR! the playbook: site.yml could not be found)'],
    ['kubectl\'s error:', { ...ended, output: 'deployment.apps/web configured\nerror: timed out waiting for the condition\nsome trailing line\n' }, 'exit code 1 (error: timed out waiting for the condition)'],
    ['its exit code alone when it printed nothing', ended, 'exit code 1'],
    ['a last line cut at 200 characters', { ...ended, output: `${'x'.repeat(300)}\n` }, `exit code 1 (last output: ${'x'.repeat(199)}…)`],
    ['why it did not start', { ...ended, exitCode: null, spawnError: 'not found: kubectl' }, 'not found: kubectl'],
    ['its time limit', { ...ended, exitCode: null, timedOut: true, durationMs: 2400 }, 'timed out after 2s'],
    ['Ctrl-C', { ...ended, exitCode: null, interrupted: true }, 'interrupted'],
  ])('%s', (_name, result, reason) => {
    expect(failureReason(result)).toBe(reason);
  });
});
