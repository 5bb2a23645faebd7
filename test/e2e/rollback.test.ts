// Rollback as a user meets it with the built CLI: which version a bare rollback goes back to, a manual
// rollback that needs approval, and an automatic rollback that cannot start.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanEnv, runCli, tempDir } from '../support/cli.js';

interface Rec {
  id: string;
  action: string;
  version: string;
  status: string;
  notes?: string[];
}

function project(deployments: string, environments = 'environments:\n  dev: {}\n', extraEnv: NodeJS.ProcessEnv = {}) {
  const dir = tempDir('deployctl-rollback-');
  writeFileSync(join(dir, 'environments.yaml'), environments);
  writeFileSync(join(dir, 'deployments.yaml'), deployments);
  const home = tempDir('deployctl-home-');
  const out = join(tempDir(), 'running');
  const env = cleanEnv({ DEPLOYCTL_HOME: home, DEPLOYCTL_CONFIG_DIR: dir, OUT: out, ...extraEnv });
  const cli = (args: string[], more: NodeJS.ProcessEnv = {}) => runCli(args, { env: { ...env, ...more }, timeoutMs: 120_000 });
  const history = async (app: string, envName = 'dev') => {
    const run = await cli(['history', app, '-e', envName, '--json']);
    expect(run.code, run.stderr).toBe(0);
    return JSON.parse(run.stdout).records as Rec[];
  };
  const summary = async (app: string, envName = 'dev') => (await history(app, envName)).map((r) => `${r.action} ${r.version} ${r.status}`);
  /** What the app's command last wrote: the version that runs. */
  const running = () => (existsSync(out) ? readFileSync(out, 'utf8') : undefined);
  return { dir, home, env, cli, history, summary, running };
}

/** A shell app whose command writes the version it deploys to $OUT. */
const WRITES_VERSION = `[node, -e, "require('fs').writeFileSync(process.env.OUT, process.env.DEPLOY_VERSION)"]`;

describe('a bare rollback goes back from the version that runs', () => {
  it('past a deploy its pre-deploy check stopped, which changed nothing', async () => {
    const p = project(
      ['deployments:', '  svc:', '    type: shell', `    commands: [${WRITES_VERSION}]`, `    pre_check: { type: command, command: [sh, -c, 'test "$DOWN" != 1'], retries: 0 }`, ''].join('\n'),
    );
    for (const version of ['1.0.0', '1.0.1']) expect((await p.cli(['deploy', 'svc', '-e', 'dev', '--version', version])).code).toBe(0);
    const stopped = await p.cli(['deploy', 'svc', '-e', 'dev', '--version', '1.0.0'], { DOWN: '1' });
    expect(stopped.code).toBe(4);
    expect(stopped.stdout).toContain('pre-deploy check failed, nothing was changed');
    expect(p.running()).toBe('1.0.1');
    expect(JSON.parse((await p.cli(['status', 'svc', '--json'])).stdout).targets[0]).toMatchObject({ version: '1.0.1', last: { version: '1.0.0', status: 'failed' } });

    const back = await p.cli(['rollback', 'svc', '-e', 'dev', '--json']);
    expect(back.code, back.stderr).toBe(0);
    expect(JSON.parse(back.stdout).record).toMatchObject({ action: 'rollback', version: '1.0.0', status: 'succeeded' });
    expect(p.running()).toBe('1.0.0');
    expect(await p.summary('svc')).toEqual(['rollback 1.0.0 succeeded', 'deploy 1.0.0 failed', 'deploy 1.0.1 succeeded', 'deploy 1.0.0 succeeded']);
  });
});
