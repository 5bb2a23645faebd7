// The live view of a deploy in a real terminal (tmux), as a person sees it: the running command with a
// spinner and its output while it runs, then the finished lines, the summary and no spinner; and the
// deploy loads no Ink (dist/ui-bundle/, ink, react): the live view is plain code in the handlers bundle.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliPath, repoRoot, tempDir } from '../support/cli.js';
import { toolMissing } from '../support/tools.js';
import { isPidAlive } from '../../src/state/process.js';

const SPINNER = /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/;
const sessions: string[] = [];
const tmux = (...args: string[]) => execFileSync('tmux', args, { encoding: 'utf8' });
/** The screen; `joined`: lines the terminal wrapped joined back (tmux capture-pane -J). */
const screen = (session: string, joined = false) =>
  tmux('capture-pane', '-p', ...(joined ? ['-J'] : []), '-t', session)
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n');

async function waitFor(session: string, text: string | RegExp, ms = 20_000): Promise<string> {
  const end = Date.now() + ms;
  for (;;) {
    const shown = screen(session);
    if (typeof text === 'string' ? shown.includes(text) : text.test(shown)) return shown;
    if (Date.now() > end) throw new Error(`the screen never showed ${String(text)}:\n${shown}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(toolMissing('tmux'))('the live view of a deploy in a terminal', () => {
  afterAll(() => {
    for (const session of sessions) {
      try {
        tmux('kill-session', '-t', session);
      } catch {
        // already gone
      }
    }
  });

  it('shows the running command and its output live, then each finished line once and the summary; loads no Ink', async () => {
    const dir = tempDir();
    const home = tempDir();
    const go = join(tempDir(), 'go');
    const trace = join(tempDir(), 'modules.txt');
    writeFileSync(join(dir, 'environments.yaml'), 'environments:\n  dev: {}\n');
    // The command prints two lines, then waits until the test has seen them on the screen.
    writeFileSync(
      join(dir, 'deployments.yaml'),
      [
        'deployments:',
        '  web:',
        '    type: shell',
        '    commands:',
        `      - [node, -e, "console.log('migrating users'); console.log('migrating orders'); const t = setInterval(() => { if (require('fs').existsSync(process.env.GO)) { clearInterval(t); console.log('migrated') } }, 20); setTimeout(() => process.exit(1), 60000).unref()"]`,
        `      - [node, -e, "console.log('warming caches')"]`,
        '',
      ].join('\n'),
    );
    const session = `deployctl-live-${process.pid}`;
    sessions.push(session);
    const vars = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', TERM: 'xterm-256color', NO_COLOR: '1', DEPLOYCTL_HOME: home, DEPLOYCTL_CONFIG_DIR: dir, GO: go, TRACE_FILE: trace };
    const quoted = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    const node = [process.execPath, '--import', join(repoRoot, 'test/support/trace-loader.mjs'), cliPath];
    const command = `env -i ${Object.entries(vars).map(([k, v]) => quoted(`${k}=${v}`)).join(' ')} ${node.map(quoted).join(' ')} deploy web -e dev --version 1.0.0; echo EXIT=$?; sleep 60`;
    tmux('new-session', '-d', '-s', session, '-x', '80', '-y', '24', command);

    // While the command runs: the finished lines, one spinner line with the command, its output below.
    const running = await waitFor(session, '│ migrating orders');
    const lines = running.split('\n');
    expect(lines.filter((line) => SPINNER.test(line))).toEqual([expect.stringMatching(/^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] node -e 'console\.log\(/)]);
    expect(running).toMatch(/✓ lock: web in dev\n• deploy web 1\.0\.0 to dev\n[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] node -e .*\n {2}│ migrating users\n {2}│ migrating orders\n/);
    // The running command is cut to the terminal's width with …, never wrapped.
    expect(lines.find((line) => SPINNER.test(line))).toMatch(/…$/);
    for (const line of lines) expect(line.length).toBeLessThan(80);

    writeFileSync(go, '');
    await waitFor(session, 'EXIT=');
    // Finished lines are written once and may wrap: read them joined back.
    const shown = screen(session, true);
    expect(shown).toContain('EXIT=0');
    const end = shown.slice(0, shown.indexOf('EXIT=')).trimEnd().split('\n');
    expect(end).toEqual([
      '✓ lock: web in dev',
      '• deploy web 1.0.0 to dev',
      expect.stringMatching(/^✓ command 1\/2: node -e 'console\.log\(.*'$/),
      expect.stringMatching(/^✓ command 2\/2: node -e 'console\.log\(.*'$/),
      '✓ deploy',
      expect.stringMatching(/^✓ record: saved web_dev_\S+ \(succeeded\)$/),
      expect.stringMatching(/^deployed web 1\.0\.0 to dev \(record web_dev_\S+\)$/),
    ]);
    expect(shown).not.toMatch(SPINNER);
    expect(shown).not.toContain('│ migrat');

    const loaded = readFileSync(trace, 'utf8').trim().split('\n');
    expect(loaded.some((url) => url.endsWith('/dist/cli/handlers.bundle.cjs'))).toBe(true);
    expect(loaded.filter((url) => /\/dist\/ui-bundle\/|\/node_modules\/(ink|react|yoga-layout)\//.test(url))).toEqual([]);
  });

  it('a terminal closed under a running deploy (SIGHUP): its commands are stopped and the record says interrupted', async () => {
    const dir = tempDir();
    const home = tempDir();
    const pidFile = join(tempDir(), 'pid');
    writeFileSync(join(dir, 'environments.yaml'), 'environments:\n  dev: {}\n');
    writeFileSync(
      join(dir, 'deployments.yaml'),
      `deployments:\n  web:\n    type: shell\n    commands:\n      - [node, -e, "require('fs').writeFileSync(${JSON.stringify(pidFile).replace(/"/g, '\\"')}, String(process.pid)); setInterval(() => console.log('working'), 50); setTimeout(() => process.exit(1), 60000)"]\n`,
    );
    const session = `deployctl-hup-${process.pid}`;
    sessions.push(session);
    const vars = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', TERM: 'xterm-256color', NO_COLOR: '1', DEPLOYCTL_HOME: home, DEPLOYCTL_CONFIG_DIR: dir };
    const quoted = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    tmux('new-session', '-d', '-s', session, '-x', '80', '-y', '24', `env -i ${Object.entries(vars).map(([k, v]) => quoted(`${k}=${v}`)).join(' ')} ${[process.execPath, cliPath].map(quoted).join(' ')} deploy web -e dev --version 1.0.0`);
    await waitFor(session, '│ working');
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(isPidAlive(pid)).toBe(true);
    tmux('kill-session', '-t', session);
    const records = () => (existsSync(join(home, 'history')) ? readdirSync(join(home, 'history')).filter((f) => f.endsWith('.json')) : []);
    const status = () => records().map((f) => (JSON.parse(readFileSync(join(home, 'history', f), 'utf8')) as { status: string }).status);
    for (const end = Date.now() + 20_000; (isPidAlive(pid) || status()[0] !== 'interrupted') && Date.now() < end; ) await new Promise((r) => setTimeout(r, 50));
    expect(isPidAlive(pid)).toBe(false);
    expect(status()).toEqual(['interrupted']);
    expect(readdirSync(join(home, 'locks')).filter((f) => f.endsWith('.lock'))).toEqual([]);
  });
});
