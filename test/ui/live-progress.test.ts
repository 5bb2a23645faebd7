// The live view of a deploy in a terminal (no Ink): what the SCREEN shows after each step, through a
// small ANSI screen (test/support/ansi-screen.ts) that applies cursor-up, erase, CR, LF and the cursor's
// visibility, and fails on any other control sequence.
import { spawnSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { DeployEvent } from '../../src/engine/events.js';
import type { DeployRecord, StepRecord } from '../../src/state/types.js';
import { createLiveProgress } from '../../src/ui/live-progress.js';
import { cutToWidth, displayWidth, safeLine } from '../../src/ui/terminal-text.js';
import { AnsiScreen, FakeTerminal } from '../support/ansi-screen.js';
import { repoRoot } from '../support/cli.js';

const SPINNER = /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/;

const started: DeployEvent = { type: 'started', app: 'web', env: 'prod', version: '1.4.2', action: 'deploy', recordId: 'r1', dryRun: false };
const lock: DeployEvent[] = [
  { type: 'phase', phase: 'lock', status: 'start' },
  { type: 'phase', phase: 'lock', status: 'done', message: 'web in prod' },
];
const stepStart = (command: string[]): DeployEvent => ({ type: 'step-start', index: 0, label: 'command 1/1', command, dryRun: false });
const output = (line: string): DeployEvent => ({ type: 'output', index: 0, line, stream: 'stdout' });
const step = (exitCode: number): StepRecord => ({ label: 'command 1/1', phase: 'deploy', command: ['npm', 'run', 'migrate'], cwd: '/', exitCode, durationMs: 9 });
const record = { schemaVersion: 1, id: 'r1', app: 'web', env: 'prod', version: '1.4.2', action: 'deploy', status: 'succeeded', startedAt: '', user: 'u', host: 'h', pid: 1, command: '', config: {}, artifacts: {}, steps: [] } as unknown as DeployRecord;

/** Lets the view draw what it coalesced (fake timers: no real waiting). */
const settle = () => vi.advanceTimersByTime(100);

function live(columns = 60, rows = 24, color = false) {
  const terminal = new FakeTerminal(columns, rows);
  const view = createLiveProgress({ stream: terminal, color });
  const emit = (...events: DeployEvent[]) => events.forEach((event) => view.emit(event));
  return { terminal, view, emit, screen: () => terminal.screen.lines() };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('the live view in a terminal', () => {
  it('writes each finished line once and redraws the running step and its output in place', async () => {
    const { terminal, view, emit, screen } = live();
    emit(started, ...lock, { type: 'phase', phase: 'deploy', status: 'start' }, stepStart(['npm', 'run', 'migrate']), output('migrating 1'));
    settle();
    expect(screen()).toEqual(['• deploy web 1.4.2 to prod', '✓ lock: web in prod', expect.stringMatching(/^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] npm run migrate$/), '  │ migrating 1']);
    expect(terminal.screen.cursorVisible).toBe(false);

    for (let i = 2; i <= 8; i++) emit(output(`migrating ${i}`));
    settle();
    // The region was replaced, not written again below: one spinner line, the last five output lines.
    expect(screen()).toEqual([
      '• deploy web 1.4.2 to prod',
      '✓ lock: web in prod',
      expect.stringMatching(/^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] npm run migrate$/),
      '  │ migrating 4',
      '  │ migrating 5',
      '  │ migrating 6',
      '  │ migrating 7',
      '  │ migrating 8',
    ]);

    emit({ type: 'step-end', index: 0, step: step(0) }, { type: 'phase', phase: 'deploy', status: 'done' }, { type: 'phase', phase: 'record', status: 'done', message: 'saved r1 (succeeded)' });
    settle();
    expect(screen()).toEqual(['• deploy web 1.4.2 to prod', '✓ lock: web in prod', '✓ command 1/1', '✓ deploy', '✓ record: saved r1 (succeeded)']);

    emit({ type: 'finished', record });
    await view.finish();
    expect(screen()).toEqual(['• deploy web 1.4.2 to prod', '✓ lock: web in prod', '✓ command 1/1', '✓ deploy', '✓ record: saved r1 (succeeded)']);
    expect(terminal.screen.cursorVisible).toBe(true);
  });

  it('redraws once for a burst of output, and the spinner turns on its own', () => {
    const { terminal, emit, screen } = live();
    emit(started, stepStart(['./build.sh']));
    settle();
    const before = terminal.writes;
    for (let i = 0; i < 500; i++) emit(output(`line ${i}`));
    expect(terminal.writes).toBe(before);
    vi.advanceTimersByTime(40);
    expect(terminal.writes).toBe(before + 1);
    expect(screen().slice(-1)).toEqual(['  │ line 499']);

    const frames = new Set<string>();
    for (let i = 0; i < 10; i++) {
      vi.advanceTimersByTime(80);
      frames.add(screen()[1]![0]!);
    }
    expect(frames.size).toBe(10);
    expect(screen()).toHaveLength(1 + 1 + 5);
  });

  it('cuts the running step and its output to the width with …, counting wide characters as two columns and dropping escape sequences', () => {
    const { emit, screen, terminal } = live(30);
    emit(
      stepStart(['npm', 'run', 'migrate', '--with-a-very-long-flag-name']),
      output('漢字'.repeat(20)),
      // What a command may print: colours, a cursor move, a screen clear, a title, a progress bar's \r.
      output('\u001B[2J\u001B[H\u001B]0;title\u0007\u001B[31mred\u001B[0m and \u001B[1Aup'),
      output('downloading 10%\rdownloading 100%'),
      output('short'),
    );
    settle();
    const shown = screen();
    // The last column stays free (see live-progress.ts): 29 columns of a 30-column terminal.
    expect(shown[0]).toMatch(/^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] npm run migrate --with-a-v…$/);
    expect(shown[1]).toBe(`  │ ${'漢字'.repeat(6)}…`);
    expect(AnsiScreen.widthOf(shown[1]!)).toBe(29);
    expect(shown.slice(2)).toEqual(['  │ red and up', '  │ downloading 100%', '  │ short']);
    for (const line of shown) expect(AnsiScreen.widthOf(line)).toBeLessThanOrEqual(29);

    // A resize is followed at the next draw.
    terminal.resize(50);
    expect(screen()[0]).toMatch(/^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] npm run migrate --with-a-very-long-flag-name$/);
  });

  it('keeps the region no taller than the screen', () => {
    const { emit, screen } = live(60, 4);
    emit(stepStart(['make']), ...[1, 2, 3, 4, 5].map((i) => output(`out ${i}`)));
    settle();
    expect(screen()).toEqual([expect.stringMatching(/^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] make$/), '  │ out 4', '  │ out 5']);
  });

  it('steps aside for a question (pause) and comes back under the answer (resume)', () => {
    const { terminal, view, emit, screen } = live();
    emit(started, stepStart(['./deploy.sh']), output('ready'));
    settle();
    view.pause();
    expect(screen()).toEqual(['• deploy web 1.4.2 to prod']);
    expect(terminal.screen.cursorVisible).toBe(true);
    // What other code writes meanwhile (the approval question and the echoed answer) is left alone.
    terminal.write('prod is protected. Deploy web 1.4.2 to prod? [y/N] ');
    emit({ type: 'log', level: 'info', message: 'approved' });
    settle();
    expect(screen()).toEqual(['• deploy web 1.4.2 to prod', 'prod is protected. Deploy web 1.4.2 to prod? [y/N]']);
    terminal.write('y\r\n');
    view.resume();
    expect(screen()).toEqual([
      '• deploy web 1.4.2 to prod',
      'prod is protected. Deploy web 1.4.2 to prod? [y/N] y',
      '• approved',
      expect.stringMatching(/^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] \.\/deploy\.sh$/),
      '  │ ready',
    ]);
    expect(terminal.screen.cursorVisible).toBe(false);
  });

  it('puts a line written by other code while it runs (the warning after Ctrl-C) above the region, not under it', () => {
    const { terminal, emit, screen } = live();
    emit(started, stepStart(['./deploy.sh']), output('working'));
    settle();
    terminal.write('warning: SIGINT: stopping the running commands (press Ctrl-C again to quit at once)\n');
    settle();
    expect(screen()).toEqual([
      '• deploy web 1.4.2 to prod',
      // Wrapped by the terminal (60 columns): the region below it still is replaced, not repeated.
      'warning: SIGINT: stopping the running commands (press Ctrl-C',
      ' again to quit at once)',
      expect.stringMatching(/^[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] \.\/deploy\.sh$/),
      '  │ working',
    ]);
  });

  it('keeps a failed command with its last output lines; at finish no spinner, the cursor back, no timer left, write restored', async () => {
    const { terminal, view, emit, screen } = live();
    emit(started, stepStart(['npm', 'run', 'migrate']), output('relation users does not exist \u001B[31m(42P01)\u001B[0m'));
    settle();
    emit({ type: 'step-end', index: 0, step: step(1) }, { type: 'log', level: 'error', message: 'deploy failed:\ncommand 1/1 exited 1' });
    await view.finish();
    expect(screen()).toEqual([
      '• deploy web 1.4.2 to prod',
      '✗ command 1/1 (exit 1)',
      '  │ relation users does not exist (42P01)',
      '✗ deploy failed:',
      'command 1/1 exited 1',
    ]);
    expect(screen().join('\n')).not.toMatch(SPINNER);
    expect(terminal.screen.cursorVisible).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
    expect(terminal.write).toBe(Writable.prototype.write);
    // Nothing more is drawn after finish.
    const writes = terminal.writes;
    emit(stepStart(['late']));
    settle();
    expect(terminal.writes).toBe(writes);
  });

  it.each([
    [true, 'with colours', (raw: string) => expect(raw).toMatch(/\u001B\[32m✓\u001B\[39m lock: web in prod/)],
    [false, 'without colours', (raw: string) => expect(raw).not.toMatch(/\u001B\[[\d;]*m/)],
  ])('colour %s: %s', async (color, _what, check) => {
    const { terminal, view, emit, screen } = live(60, 24, color);
    emit(started, ...lock, stepStart(['make']), output('building'));
    settle();
    expect(screen().slice(0, 2)).toEqual(['• deploy web 1.4.2 to prod', '✓ lock: web in prod']);
    await view.finish();
    check(terminal.raw);
    expect(terminal.screen.coloursSeen > 0).toBe(color);
  });
});

describe('terminal text', () => {
  it('counts wide characters as two columns and marks as none', () => {
    expect(displayWidth('abc')).toBe(3);
    expect(displayWidth('漢字')).toBe(4);
    expect(displayWidth('e\u0301')).toBe(1);
    expect(displayWidth('🚀 go')).toBe(5);
    expect(displayWidth('❤\uFE0F')).toBe(2);
    expect(cutToWidth('漢字漢字', 5)).toBe('漢字…');
    expect(cutToWidth('abcdef', 6)).toBe('abcdef');
    expect(cutToWidth('abcdefg', 6)).toBe('abcde…');
  });

  it('leaves no control character in a line', () => {
    expect(safeLine('\u001B[1;31mred\u001B[0m\ttab\u0007\u0008')).toBe('red tab');
    expect(safeLine('\u001B]8;;http://x\u001B\\link\u001B]8;;\u001B\\')).toBe('link');
    expect(safeLine('50%\r100%\r')).toBe('100%');
    expect(safeLine('\u009B2Jx')).toBe('x');
  });
});

describe('the live view and the process', () => {
  it('never keeps the process alive, and shows the cursor again when it ends without finish (a second Ctrl-C)', () => {
    const module = join(repoRoot, 'dist/ui/live-progress.js');
    const script = `
      import { createLiveProgress } from ${JSON.stringify(module)};
      const stream = { isTTY: true, columns: 40, write(text) { process.stdout.write(JSON.stringify(text) + '\\n'); return true; } };
      const view = createLiveProgress({ stream, color: false });
      view.emit({ type: 'step-start', index: 0, label: 'x', command: ['sleep', '1000'], dryRun: false });
      view.pause();
      view.resume();
    `;
    const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(run.error).toBeUndefined();
    expect(run.status).toBe(0);
    const writes = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as string);
    expect(writes.join('')).toContain('\u001B[?25l');
    expect(writes.at(-1)).toBe('\u001B[?25h');
  });
});
