import { render } from 'ink-testing-library';
import { describe, expect, it, vi } from 'vitest';
import { Board, type BoardData, type BoardDeps } from '../../src/ui/board.js';
import type { DeployEvent } from '../../src/engine/events.js';
import type { DeployRecord } from '../../src/state/types.js';

const NOW = Date.parse('2026-11-24T12:00:00Z');
const data: BoardData = {
  apps: ['web', 'api', 'shop'],
  envs: [
    { name: 'dev', protected: false },
    { name: 'prod', protected: true },
  ],
  cells: {
    web: {
      dev: { version: '1.4.2', status: 'succeeded', lastVersion: '1.4.2', at: '2026-11-24T11:55:00Z', by: 'ana' },
      prod: { version: '1.4.1', status: 'failed', lastVersion: '1.4.2', at: '2026-11-24T10:00:00Z', by: 'ci' },
    },
    api: { dev: { version: '2.0.0', status: 'rolled_back', lastVersion: '2.1.0', at: '2026-11-24T11:00:00Z', by: 'bo' }, prod: { version: null, status: null, lastVersion: null, at: null, by: null } },
    shop: { dev: { version: null, status: null, lastVersion: null, at: null, by: null }, prod: { version: null, status: null, lastVersion: null, at: null, by: null } },
  },
};

const records: DeployRecord[] = [
  {
    schemaVersion: 1, id: 'web_dev_2', app: 'web', env: 'dev', version: '1.4.2', action: 'deploy', status: 'succeeded', startedAt: '2026-11-24T11:55:00Z', user: 'ana', host: 'h', pid: 1, command: '', config: {}, artifacts: {},
    steps: [{ label: 'command 1/1: npm run migrate', phase: 'deploy', command: ['npm', 'run', 'migrate'], cwd: '/', exitCode: 0, durationMs: 5 }],
    health: { ok: true, message: 'healthy after 2 attempts', durationMs: 5, attempts: [{ attempt: 1, ok: false, message: 'status 503 (expected 2xx)', latencyMs: 1, at: '' }, { attempt: 2, ok: true, message: 'status 200', latencyMs: 1, at: '' }] },
  },
  { schemaVersion: 1, id: 'web_dev_1', app: 'web', env: 'dev', version: '1.4.1', action: 'deploy', status: 'failed', startedAt: '2026-11-24T11:00:00Z', user: 'bo', host: 'h', pid: 1, command: '', config: {}, artifacts: {}, steps: [], error: { code: 'deploy_failed', message: 'command 1/1: exit code 1' } },
];

function fakeDeps(extra: Partial<BoardDeps> = {}): BoardDeps & { rollback: ReturnType<typeof vi.fn>; promote: ReturnType<typeof vi.fn> } {
  return {
    loadBoard: async () => data,
    loadHistory: async () => records,
    previewRollback: async () => ({ version: '1.4.1' }),
    previewPromotion: async () => ({ version: '1.4.2' }),
    rollback: vi.fn(async (_a: string, _e: string, onEvent: (e: DeployEvent) => void) => {
      onEvent({ type: 'started', app: 'web', env: 'dev', version: '1.4.1', action: 'rollback', recordId: 'r', dryRun: false });
      onEvent({ type: 'health-attempt', attempt: { attempt: 1, ok: true, message: 'status 200', latencyMs: 3, at: '' } });
      return { exitCode: 0 };
    }),
    promote: vi.fn(async () => ({ exitCode: 0 })),
    watch: () => () => {},
    now: () => NOW,
    ...extra,
  } as never;
}

/** Wait until the screen shows `what` (the views render asynchronously; a fixed pause is flaky under load). */
async function shows(frame: () => string | undefined, what: string | RegExp): Promise<string> {
  for (let i = 0; i < 500; i++) {
    const f = frame() ?? '';
    if (typeof what === 'string' ? f.includes(what) : what.test(f)) return f;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`the screen never showed ${String(what)}; it shows:\n${frame()}`);
}
const BOARD = 'enter history · r rollback';
const KEY = { down: '\u001B[B', right: '\u001B[C', enter: '\r', escape: '\u001B' };

describe('the board', () => {
  it('shows apps × environments with a symbol, version, age and who, fitting 80 columns', async () => {
    const { lastFrame } = render(<Board deps={fakeDeps()} width={80} height={24} />);
    const frame = await shows(lastFrame, BOARD);
    expect(frame).toContain('deployctl · 3 apps × 2 environments');
    expect(frame).toMatch(/APP\s+DEV\s+PROD \*/);
    expect(frame).toMatch(/web\s+▸✓ 1\.4\.2 5m ana\s+✗ 1\.4\.1 \(1\.4\.2\) 2h ci/);
    expect(frame).toMatch(/api\s+↺ 2\.0\.0 \(2\.1\.0\) 1h bo\s+·/);
    // Nothing wraps: the key line is whole on one line.
    expect(frame.split('\n').at(-1)).toBe('←↑↓→ move · enter history · r rollback · p promote · / filter · ? help · q quit');
    expect(frame.split('\n').every((line) => line.length <= 80)).toBe(true);
  });

  it('uses a wider terminal for the full key line', async () => {
    const { lastFrame } = render(<Board deps={fakeDeps()} width={120} height={30} />);
    await shows(lastFrame, BOARD);
    expect(lastFrame()!.split('\n').at(-1)).toBe('←↑↓→/hjkl move · enter history · r rollback · p promote · / filter · ? help · q quit');
  });

  it('keeps a board of many apps within 80 × 24, scrolling to the selection', async () => {
    const apps = Array.from({ length: 40 }, (_, i) => `app${String(i).padStart(2, '0')}`);
    const many: BoardData = { apps, envs: data.envs, cells: Object.fromEntries(apps.map((a) => [a, data.cells.shop!])) };
    const { lastFrame, stdin } = render(<Board deps={fakeDeps({ loadBoard: async () => many })} width={80} height={24} />);
    await shows(lastFrame, 'app00');
    expect(lastFrame()!.split('\n').length).toBeLessThanOrEqual(24);
    // Keys faster than the screen renders: each one still counts.
    for (let i = 0; i < 30; i++) stdin.write('j');
    const frame = await shows(lastFrame, /app30\s+▸/);
    expect(frame.split('\n').length).toBeLessThanOrEqual(24);
    expect(frame).toMatch(/app30\s+▸·/);
    expect(frame).not.toContain('app00');
  });

  it('moves the selection with keys and opens the history of the selected target', async () => {
    const loadHistory = vi.fn(async () => records);
    const { lastFrame, stdin } = render(<Board deps={fakeDeps({ loadHistory })} />);
    await shows(lastFrame, BOARD);
    stdin.write('j');
    await shows(lastFrame, /api\s+▸↺ 2\.0\.0/);
    stdin.write('k');
    await shows(lastFrame, /web\s+▸✓/);
    stdin.write(KEY.right);
    await shows(lastFrame, /web\s+✓ 1\.4\.2 5m ana\s+▸✗ 1\.4\.1/);
    stdin.write(KEY.enter);
    const frame = await shows(lastFrame, 'history of web in prod (2)');
    expect(loadHistory).toHaveBeenCalledWith('web', 'prod');
    expect(frame).toMatch(/▸✓ deploy\s+1\.4\.2\s+succeeded/);
    expect(frame).toContain('✓ command 1/1: npm run migrate');
    expect(frame).toContain('attempt 2: status 200');
    stdin.write('j');
    await shows(lastFrame, 'error: command 1/1: exit code 1');
    stdin.write(KEY.escape);
    await shows(lastFrame, BOARD);
  });

  it('asks before a rollback, runs it on y, and shows its progress', async () => {
    const deps = fakeDeps();
    const { lastFrame, stdin } = render(<Board deps={deps} />);
    await shows(lastFrame, BOARD);
    stdin.write('r');
    await shows(lastFrame, 'Roll back web in dev from 1.4.2 to 1.4.1? (y/n)');
    stdin.write('n');
    await shows(lastFrame, BOARD);
    expect(deps.rollback).not.toHaveBeenCalled();
    stdin.write('r');
    await shows(lastFrame, '(y/n)');
    stdin.write('y');
    await shows(lastFrame, '✓ done · any key to go back');
    expect(deps.rollback).toHaveBeenCalledWith('web', 'dev', expect.any(Function));
    expect(lastFrame()).toContain('✓ health attempt 1: status 200');
  });

  it('offers a promotion to the next environment, naming a protected one', async () => {
    const deps = fakeDeps();
    const { lastFrame, stdin } = render(<Board deps={deps} />);
    await shows(lastFrame, BOARD);
    stdin.write('p');
    await shows(lastFrame, 'Promote web 1.4.2 from dev to prod? (prod is protected) (y/n)');
    stdin.write('y');
    await shows(lastFrame, 'any key to go back');
    expect(deps.promote).toHaveBeenCalledWith('web', 'dev', 'prod', expect.any(Function));
  });

  it('says why a promotion would be refused instead of offering it', async () => {
    const deps = fakeDeps({ previewPromotion: async () => ({ reason: 'prod requires web 1.4.2 to have succeeded in qa first, and it has not' }) });
    const { lastFrame, stdin } = render(<Board deps={deps} />);
    await shows(lastFrame, BOARD);
    stdin.write('p');
    await shows(lastFrame, 'prod requires web 1.4.2 to have succeeded in qa first, and it has not (any key)');
    stdin.write('y');
    await shows(lastFrame, BOARD);
    expect(deps.promote).not.toHaveBeenCalled();
  });

  it('filters apps, and shows help', async () => {
    const { lastFrame, stdin } = render(<Board deps={fakeDeps()} />);
    await shows(lastFrame, BOARD);
    stdin.write('/');
    stdin.write('s');
    stdin.write('h');
    stdin.write(KEY.enter);
    await shows(lastFrame, 'filter "sh"');
    expect(lastFrame()).toMatch(/shop\s+▸·/);
    expect(lastFrame()).not.toMatch(/^web /m);
    stdin.write('?');
    await shows(lastFrame, 'r                 roll the selected target back (asks first)');
  });
});

describe('the board within 80 × 24', () => {
  const long = (n: number, text: string) => Array.from({ length: n }, (_, i) => `${text} ${i + 1}`);
  const busy: DeployRecord = {
    ...records[1]!,
    id: 'web_dev_busy',
    steps: long(15, 'step').map((label) => ({ label, phase: 'deploy', command: ['x'], cwd: '/', exitCode: 0, durationMs: 1 })),
    health: { ok: false, message: 'unhealthy after 9 attempts', durationMs: 5, attempts: long(9, 'x').map((_, i) => ({ attempt: i + 1, ok: false, message: 'status 503 (expected 2xx)', latencyMs: 1, at: '' })) },
    error: { code: 'health_failed', message: `health check failed: ${'a very long reason '.repeat(10)}` },
  };

  it('shows a long history on the whole screen without wrapping or overflowing', async () => {
    const many = Array.from({ length: 30 }, (_, i) => ({ ...busy, id: `web_dev_${i}`, version: `1.0.${i}` }));
    const { lastFrame, stdin } = render(<Board deps={fakeDeps({ loadHistory: async () => many })} width={80} height={24} />);
    await shows(lastFrame, BOARD);
    stdin.write(KEY.enter);
    const frame = await shows(lastFrame, /more: deployctl history show/);
    const lines = frame.split('\n');
    expect(lines.length).toBeLessThanOrEqual(24);
    expect(lines.every((l) => l.length <= 80)).toBe(true);
    expect(lines[0]).toBe('history of web in dev (30) · ↑↓ select · esc back');
    expect(frame).toContain('▸✗ deploy   1.0.0');
    expect(frame).toMatch(/… \d+ more: deployctl history show web_dev_0/);
    expect(frame).toContain('attempt 9: status 503 (expected 2xx)');
  });

  it('keeps a running rollback with many lines of output within the screen', async () => {
    const apps = Array.from({ length: 12 }, (_, i) => `app${i}`);
    const wide: BoardData = { apps, envs: data.envs, cells: Object.fromEntries(apps.map((a) => [a, data.cells.web!])) };
    let finish: (r: { exitCode: number }) => void = () => {};
    const rollback = vi.fn((_a: string, _e: string, onEvent: (e: DeployEvent) => void) => {
      onEvent({ type: 'started', app: 'app0', env: 'dev', version: '1.4.1', action: 'rollback', recordId: 'r', dryRun: false });
      for (let i = 0; i < 20; i++) {
        onEvent({ type: 'step-start', index: i, label: `command ${i}`, command: ['migrate', String(i)], dryRun: false });
        onEvent({ type: 'output', index: i, line: `output of ${i}`, stream: 'stdout' });
        onEvent({ type: 'step-end', index: i, step: { label: `command ${i}`, phase: 'deploy', command: ['migrate'], cwd: '/', exitCode: 0, durationMs: 1 } });
      }
      onEvent({ type: 'step-start', index: 20, label: 'last', command: ['migrate', 'last'], dryRun: false });
      for (let i = 0; i < 9; i++) onEvent({ type: 'output', index: 20, line: `tail ${i}`, stream: 'stdout' });
      return new Promise<{ exitCode: number }>((resolve) => (finish = resolve));
    });
    const { lastFrame, stdin } = render(<Board deps={fakeDeps({ loadBoard: async () => wide, rollback })} width={80} height={24} />);
    await shows(lastFrame, BOARD);
    stdin.write('r');
    await shows(lastFrame, '(y/n)');
    stdin.write('y');
    await shows(lastFrame, '│ tail 8');
    let lines = lastFrame()!.split('\n');
    expect(lines.length).toBeLessThanOrEqual(24);
    expect(lastFrame()).toContain('migrate last');
    expect(lastFrame()).toContain('│ tail 8');
    expect(lastFrame()).toContain('✓ command 19');
    finish({ exitCode: 0 });
    await shows(lastFrame, '✓ done · any key to go back');
    lines = lastFrame()!.split('\n');
    expect(lines.length).toBeLessThanOrEqual(24);
    expect(lines.at(-1)).toBe('✓ done · any key to go back');
  });
});
