import { describe, expect, it } from 'vitest';
import { planHooks, planShellDeploy } from '../../src/executors/shell.js';
import type { PlanInput } from '../../src/executors/types.js';
import type { AppConfig } from '../../src/config/types.js';

function input(config: Partial<AppConfig>): PlanInput {
  return {
    app: 'web',
    env: 'dev',
    version: '1.4.2',
    recordId: 'web_dev_1',
    config: { type: 'shell', path: '/srv/my app', variables: {}, secrets: [], timeout: 30_000, hooks: {}, rollback: { auto: true, max_attempts: 3 }, ...config },
    childEnv: { DEPLOY_VERSION: '1.4.2', PORT: '8080' },
    tools: {},
    dryRun: false,
  };
}

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
