// `deployctl ui` as a person sees it: the built CLI in a real terminal (tmux), keys sent, screen read.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanEnv, cliPath, runCli, tempDir } from '../support/cli.js';
import { toolMissing } from '../support/tools.js';

const session = `deployctl-ui-${process.pid}`;
const tmux = (...args: string[]) => execFileSync('tmux', args, { encoding: 'utf8' });
const screen = () => tmux('capture-pane', '-p', '-t', session);

async function waitFor(text: string | RegExp, ms = 10_000): Promise<string> {
  const end = Date.now() + ms;
  for (;;) {
    const shown = screen();
    if (typeof text === 'string' ? shown.includes(text) : text.test(shown)) return shown;
    if (Date.now() > end) throw new Error(`the screen never showed ${String(text)}:\n${shown}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(toolMissing('tmux'))('deployctl ui in a terminal', () => {
  afterAll(() => {
    try {
      tmux('kill-session', '-t', session);
    } catch {
      // already gone
    }
  });

  it('shows the board, opens a history, and rolls back from the board', async () => {
    const dir = tempDir();
    const out = tempDir();
    writeFileSync(join(dir, 'environments.yaml'), 'environments:\n  dev: {}\n  prod: { protected: true }\n');
    writeFileSync(
      join(dir, 'deployments.yaml'),
      `deployments:\n  web:\n    type: shell\n    commands:\n      - [node, -e, "require('fs').writeFileSync(process.env.OUT, process.env.DEPLOY_VERSION)"]\n  api:\n    type: shell\n    commands: [[node, -e, "0"]]\n`,
    );
    const home = tempDir();
    const env = cleanEnv({ DEPLOYCTL_HOME: home, DEPLOYCTL_CONFIG_DIR: dir, OUT: join(out, 'version') });
    for (const version of ['1.0.0', '1.1.0']) expect((await runCli(['deploy', 'web', '-e', 'dev', '--version', version], { env })).code).toBe(0);

    // CI=true as well: a CI variable left in someone's shell must not blank the board (Ink draws nothing in CI).
    const vars = Object.entries({ DEPLOYCTL_HOME: home, DEPLOYCTL_CONFIG_DIR: dir, OUT: join(out, 'version'), NO_COLOR: '1', CI: 'true' }).map(([k, v]) => `${k}='${v}'`);
    tmux('new-session', '-d', '-s', session, '-x', '100', '-y', '30', `env ${vars.join(' ')} '${process.execPath}' '${cliPath}' ui`);
    const board = await waitFor('deployctl · 2 apps × 2 environments');
    expect(board).toMatch(/APP\s+DEV\s+PROD \*/);
    expect(board).toMatch(/web\s+✓ 1\.1\.0 \S+ \S+\s+·/);
    expect(board).toMatch(/api\s+·\s+·/);

    // A deploy from another terminal shows up by itself.
    expect((await runCli(['deploy', 'api', '-e', 'prod', '--version', '3.0.0', '--yes'], { env })).code).toBe(0);
    await waitFor(/api\s+·\s+✓ 3\.0\.0/, 3000);

    tmux('send-keys', '-t', session, 'Enter');
    const history = await waitFor('history of web in dev (2)');
    expect(history).toMatch(/✓ deploy\s+1\.1\.0\s+succeeded/);
    tmux('send-keys', '-t', session, 'Escape');
    await waitFor('r rollback');

    tmux('send-keys', '-t', session, 'r');
    await waitFor('Roll back web in dev from 1.1.0 to 1.0.0? (y/n)');
    tmux('send-keys', '-t', session, 'y');
    await waitFor('✓ done · any key to go back', 20_000);
    tmux('send-keys', '-t', session, 'x');
    await waitFor(/web\s+✓ 1\.0\.0/);
    tmux('send-keys', '-t', session, 'q');

    const records = JSON.parse((await runCli(['history', 'web', '-e', 'dev', '--json'], { env })).stdout).records;
    expect(records.map((r: { action: string; version: string; status: string }) => [r.action, r.version, r.status])).toEqual([
      ['rollback', '1.0.0', 'succeeded'],
      ['deploy', '1.1.0', 'succeeded'],
      ['deploy', '1.0.0', 'succeeded'],
    ]);
  });

  it('refuses without a terminal, pointing at status --json', async () => {
    const run = await runCli(['ui']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('deployctl ui needs a terminal');
    expect(run.stderr).toContain('deployctl status --json');
  });
});
