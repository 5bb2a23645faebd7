// deployctl in a real terminal (tmux), as a person sees it: the `ui` board with keys sent and the screen
// read, and the live progress of a deploy.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanEnv, cliPath, runCli, tempDir } from '../support/cli.js';
import { toolMissing } from '../support/tools.js';

const sessions: string[] = [];
const tmux = (...args: string[]) => execFileSync('tmux', args, { encoding: 'utf8' });
const screen = (session: string, escapes = false) => tmux('capture-pane', '-p', ...(escapes ? ['-e'] : []), '-t', session);

/** Runs `deployctl ARGS` in a new tmux window of the given size, with only these variables set. */
function startInTmux(args: string[], vars: Record<string, string>, size = { x: 80, y: 24 }, after = ''): string {
  const session = `deployctl-${process.pid}-${sessions.length}`;
  sessions.push(session);
  // env -i: nothing from the test runner's environment (a CI variable there would switch Ink off).
  const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', TERM: 'xterm-256color', ...vars };
  const quoted = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const command = `env -i ${Object.entries(env).map(([k, v]) => quoted(`${k}=${v}`)).join(' ')} ${quoted(process.execPath)} ${quoted(cliPath)} ${args.map(quoted).join(' ')}${after}`;
  tmux('new-session', '-d', '-s', session, '-x', String(size.x), '-y', String(size.y), command);
  return session;
}

async function waitFor(session: string, text: string | RegExp, ms = 10_000): Promise<string> {
  const end = Date.now() + ms;
  for (;;) {
    const shown = screen(session);
    if (typeof text === 'string' ? shown.includes(text) : text.test(shown)) return shown;
    if (Date.now() > end) throw new Error(`the screen never showed ${String(text)}:\n${shown}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function sessionAlive(session: string): boolean {
  try {
    tmux('has-session', '-t', session);
    return true;
  } catch {
    return false;
  }
}

// Foreground colours (30-37, 90-97, 38;5;n): bold and inverse are not colours.
const COLOUR = /\u001B\[(?:3[0-8]|9[0-7])[;m]/;

function config(deployments: string): { dir: string; home: string; out: string } {
  const dir = tempDir();
  writeFileSync(join(dir, 'environments.yaml'), 'environments:\n  dev: {}\n  prod: { protected: true }\n');
  writeFileSync(join(dir, 'deployments.yaml'), deployments);
  return { dir, home: tempDir(), out: tempDir() };
}

describe.skipIf(toolMissing('tmux'))('deployctl in a terminal', () => {
  afterAll(() => {
    for (const session of sessions) if (sessionAlive(session)) tmux('kill-session', '-t', session);
  });

  it('ui: shows the board, follows other terminals, opens a history, rolls back from the board, quits', async () => {
    const { dir, home, out } = config(
      `deployments:\n  web:\n    type: shell\n    commands:\n      - [node, -e, "require('fs').writeFileSync(process.env.OUT, process.env.DEPLOY_VERSION)"]\n  api:\n    type: shell\n    commands: [[node, -e, "0"]]\n`,
    );
    const env = cleanEnv({ DEPLOYCTL_HOME: home, DEPLOYCTL_CONFIG_DIR: dir, OUT: join(out, 'version') });
    for (const version of ['1.0.0', '1.1.0']) expect((await runCli(['deploy', 'web', '-e', 'dev', '--version', version], { env })).code).toBe(0);

    // CI=true as well: a CI variable left in someone's shell must not blank the board (Ink draws nothing in CI).
    const session = startInTmux(['ui'], { DEPLOYCTL_HOME: home, DEPLOYCTL_CONFIG_DIR: dir, OUT: join(out, 'version'), NO_COLOR: '1', CI: 'true' }, { x: 100, y: 30 });
    const board = await waitFor(session, 'deployctl · 2 apps × 2 environments');
    expect(board).toMatch(/APP\s+DEV\s+PROD \*/);
    expect(board).toMatch(/web\s+▸✓ 1\.1\.0 \S+ \S+\s+·/);
    expect(board).toMatch(/api\s+·\s+·/);
    expect(board).toContain('←↑↓→/hjkl move · enter history · r rollback · p promote · / filter · ? help · q quit');
    // NO_COLOR: symbols and the ▸ mark, no colours.
    expect(screen(session, true)).not.toMatch(COLOUR);

    // A deploy from another terminal shows up by itself.
    expect((await runCli(['deploy', 'api', '-e', 'prod', '--version', '3.0.0', '--yes'], { env })).code).toBe(0);
    await waitFor(session, /api\s+·\s+✓ 3\.0\.0/, 3000);

    tmux('send-keys', '-t', session, 'Enter');
    const history = await waitFor(session, 'history of web in dev (2)');
    expect(history).toMatch(/▸✓ deploy\s+1\.1\.0\s+succeeded/);
    expect(history).toContain('✓ command 1/1: node -e');
    tmux('send-keys', '-t', session, 'Escape');
    await waitFor(session, 'r rollback');

    tmux('send-keys', '-t', session, 'r');
    await waitFor(session, 'Roll back web in dev from 1.1.0 to 1.0.0? (y/n)');
    tmux('send-keys', '-t', session, 'y');
    const done = await waitFor(session, '✓ done · any key to go back', 20_000);
    expect(done).toContain('• rollback web 1.0.0 to dev');
    expect(done).toContain('rollback 1.0.0: succeeded');
    tmux('send-keys', '-t', session, 'x');
    await waitFor(session, /web\s+▸✓ 1\.0\.0/);
    tmux('send-keys', '-t', session, 'q');
    const end = Date.now() + 20_000;
    while (sessionAlive(session) && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    expect(sessionAlive(session)).toBe(false);

    const records = JSON.parse((await runCli(['history', 'web', '-e', 'dev', '--json'], { env })).stdout).records;
    expect(records.map((r: { action: string; version: string; status: string }) => [r.action, r.version, r.status])).toEqual([
      ['rollback', '1.0.0', 'succeeded'],
      ['deploy', '1.1.0', 'succeeded'],
      ['deploy', '1.0.0', 'succeeded'],
    ]);
  });

  it('deploy: live progress in a terminal, with colours unless --no-color, and the failing output kept', async () => {
    const { dir, home } = config(
      [
        'deployments:',
        '  web:',
        '    type: shell',
        '    variables: { MODE: ok }',
        '    commands:',
        `      - [node, -e, "console.log('migrating'); console.log('migrated'); if (process.env.MODE !== 'ok') { console.error('relation users does not exist'); process.exit(1) }"]`,
        '',
      ].join('\n'),
    );
    const vars = { DEPLOYCTL_HOME: home, DEPLOYCTL_CONFIG_DIR: dir };
    const ok = startInTmux(['deploy', 'web', '-e', 'dev', '--version', '1.0.0'], vars, undefined, '; echo EXIT=$?; sleep 60');
    const shown = await waitFor(ok, 'EXIT=', 20_000);
    expect(shown).toContain('EXIT=0');
    expect(shown).toContain('✓ lock: web in dev');
    expect(shown).toContain('• deploy web 1.0.0 to dev');
    expect(shown).toContain("✓ command 1/1: node -e 'console.log('\\''migrating'\\'');");
    expect(shown).toMatch(/✓ record: saved web_dev_\S+ \(succeeded\)/);
    expect(shown).toMatch(/deployed web 1\.0\.0 to dev \(record web_dev_\S+\)/);
    // The live view, not the plain lines: no timestamps.
    expect(shown).not.toMatch(/^\d\d:\d\d:\d\d /m);
    expect(screen(ok, true)).toMatch(COLOUR);

    const failing = startInTmux(['deploy', 'web', '-e', 'dev', '--version', '1.1.0', '--set', 'variables.MODE=broken', '--no-color'], vars, undefined, '; echo EXIT=$?; sleep 60');
    const failed = await waitFor(failing, 'EXIT=', 20_000);
    expect(failed).toContain('EXIT=3');
    expect(failed).toContain('✗ command 1/1');
    expect(failed).toMatch(/│ relation users does not exist/);
    expect(failed).toContain('rolled back automatically to 1.0.0');
    expect(screen(failing, true)).not.toMatch(COLOUR);
  });

  it.each([
    ['CI set', [], { CI: 'true' }, ''],
    ['--json', ['--json'], {}, ` > ${join(tempDir(), 'out.json')}`],
  ])('deploy in a terminal with %s: plain timestamped lines, no control codes', async (_what, flags, extra, redirect) => {
    const { dir, home } = config('deployments:\n  web:\n    type: shell\n    commands: [[node, -e, "0"]]\n');
    const session = startInTmux(['deploy', 'web', '-e', 'dev', '--version', '1.0.0', ...(flags as string[])], { DEPLOYCTL_HOME: home, DEPLOYCTL_CONFIG_DIR: dir, ...extra }, undefined, `${redirect}; echo EXIT=$?; sleep 60`);
    const shown = await waitFor(session, 'EXIT=', 20_000);
    expect(shown).toContain('EXIT=0');
    expect(shown).toMatch(/^\d\d:\d\d:\d\d deploy web 1\.0\.0 to dev \(record web_dev_\S+\)$/m);
    expect(shown).toMatch(/^\d\d:\d\d:\d\d ✓ deploy web 1\.0\.0 to dev: succeeded/m);
    expect(screen(session, true)).not.toMatch(COLOUR);
  });

  it('a protected environment asks in a terminal, naming app, version, from and to; with CI set it never asks', async () => {
    const { dir, home } = config('deployments:\n  web:\n    type: shell\n    commands: [[node, -e, "0"]]\n');
    const vars = { DEPLOYCTL_HOME: home, DEPLOYCTL_CONFIG_DIR: dir };
    expect((await runCli(['deploy', 'web', '-e', 'dev', '--version', '1.0.0'], { env: cleanEnv(vars) })).code).toBe(0);

    const ci = startInTmux(['promote', 'web', '--to', 'prod'], { ...vars, CI: 'true' }, undefined, '; echo EXIT=$?; sleep 60');
    const refused = await waitFor(ci, 'EXIT=', 20_000);
    expect(refused).toContain('EXIT=6');
    expect(refused).toContain('error: prod is protected: promote web 1.0.0 from dev to prod needs approval');
    expect(refused).not.toContain('[y/N]');

    const asked = startInTmux(['promote', 'web', '--to', 'prod'], vars, undefined, '; echo EXIT=$?; sleep 60');
    await waitFor(asked, 'prod is protected. Promote web 1.0.0 from dev to prod? [y/N]');
    tmux('send-keys', '-t', asked, 'y', 'Enter');
    const shown = await waitFor(asked, 'EXIT=', 20_000);
    expect(shown).toContain('EXIT=0');
    expect(shown).toMatch(/promoted web 1\.0\.0 to prod \(record web_prod_\S+\)/);
  });

  it('ui: refuses without a terminal, pointing at status --json', async () => {
    const run = await runCli(['ui']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('deployctl ui needs a terminal');
    expect(run.stderr).toContain('deployctl status --json');
  });
});
