import { describe, expect, it } from 'vitest';
import { planHooks, planShellDeploy } from '../../src/executors/shell.js';
import type { AppConfig } from '../../src/config/types.js';
import { planInputOf } from '../support/fakes.js';
import { failedTheSameWay } from '../../src/core/rollback-policy.js';
import { stepFailure } from '../../src/engine/steps.js';

const input = (config: Partial<AppConfig>) =>
  planInputOf({ path: '/srv/my app', timeout: 30_000, ...config }, { env: 'dev', recordId: 'web_dev_1', childEnv: { DEPLOY_VERSION: '1.4.2', PORT: '8080' } });

describe('shell executor argv', () => {
  it.each([
    ['an argv array runs directly', [['npm', 'run', 'migrate']], [{ file: 'npm', args: ['run', 'migrate'], shell: undefined }]],
    ['arguments with spaces and quotes stay one argument', [['echo', 'a b', "it's"]], [{ file: 'echo', args: ['a b', "it's"], shell: undefined }]],
    ['a string runs through the shell as written', ['echo $DEPLOY_VERSION | tee log'], [{ file: 'echo $DEPLOY_VERSION | tee log', args: [], shell: true }]],
  ])('%s', (_name, commands, expected) => {
    const planned = planShellDeploy(input({ commands }));
    expect(planned.map((c) => ({ file: c.file, args: c.args, shell: c.shell }))).toEqual(expected);
    for (const c of planned) {
      expect(c).toMatchObject({ cwd: '/srv/my app', timeoutMs: 30_000, mutates: true, phase: 'deploy', env: { DEPLOY_VERSION: '1.4.2', PORT: '8080' } });
    }
  });

  it('labels each command with its position', () => {
    const planned = planShellDeploy(input({ commands: [['make', 'build'], 'echo done'] }));
    expect(planned.map((c) => c.label)).toEqual(['command 1/2: make build', 'command 2/2: echo done']);
  });

  it('plans hooks with the same rules, in their phase', () => {
    const hooks = planHooks(input({ hooks: { pre_deploy: [['./check.sh', '--fast']], post_deploy: ['curl -fsS "$HOOK_URL"'] } }), 'post_deploy');
    expect(hooks).toEqual([
      expect.objectContaining({ file: 'curl -fsS "$HOOK_URL"', args: [], shell: true, phase: 'post_deploy', label: 'post_deploy hook 1/1: curl -fsS "$HOOK_URL"' }),
    ]);
    expect(planHooks(input({}), 'pre_deploy')).toEqual([]);
  });
});

describe('shell command labels: whole in errors and records', () => {
  const long = (version: string) => ['./deploy.sh', '--region', 'eu-west-1', '--cluster', 'web-prod-blue', '--image', `registry.example.com/web:${version}`];

  it('names each command whole, so two commands alike in their first 60 characters never read the same', () => {
    const [a] = planShellDeploy(input({ commands: [long('2.0.0')] }));
    const [b] = planShellDeploy(input({ commands: [long('1.0.0')] }));
    expect(a!.label).toBe('command 1/1: ./deploy.sh --region eu-west-1 --cluster web-prod-blue --image registry.example.com/web:2.0.0');
    expect(b!.label).toBe('command 1/1: ./deploy.sh --region eu-west-1 --cluster web-prod-blue --image registry.example.com/web:1.0.0');
    // A script: every line, not only the first.
    const script = (last: string) => `set -e\n  ./migrate --all\n${last}\n`;
    const [s1, s2] = planShellDeploy(input({ commands: [script('./restart web'), script('./restart api')] }));
    expect(s1!.label).toBe('command 1/2: set -e ↵ ./migrate --all ↵ ./restart web');
    expect(s2!.label).toBe('command 2/2: set -e ↵ ./migrate --all ↵ ./restart api');
    const [hook] = planHooks(input({ hooks: { pre_deploy: [long('2.0.0')] } }), 'pre_deploy');
    expect(hook!.label).toBe(`pre_deploy hook 1/1: ${b!.label.slice('command 1/1: '.length).replace('1.0.0', '2.0.0')}`);
  });

  it('a rollback whose own (different) command fails is not taken for the same failure: the policy sees the whole commands', () => {
    // The failure of 2.0.0, then of the rollback to 1.0.0, each named by its step as the record stores it.
    const failure = (version: string, argv = long(version)) => {
      const [command] = planShellDeploy(input({ commands: [argv] }));
      const step = { label: command!.label, phase: 'deploy', command: argv, cwd: '/srv', exitCode: 1, durationMs: 5 };
      return { version, status: 'failed' as const, error: { code: 'deploy_failed', message: stepFailure(step) }, steps: [step] };
    };
    const before = failure('2.0.0');
    const attempt = failure('1.0.0');
    expect(before.error.message).not.toBe(attempt.error.message);
    // Cut at 60 characters, both would have read "command 1/1: ./deploy.sh --region eu-west-1 --cluster web-prod-blue --ima...".
    expect(failedTheSameWay(before, attempt)).toBe(false);
    // The same command failing again (a tool, the environment) is still seen for what it is.
    expect(failedTheSameWay(failure('2.0.0', long('latest')), failure('1.0.0', long('latest')))).toBe(true);
  });
});
