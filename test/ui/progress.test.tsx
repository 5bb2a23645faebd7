import { render } from 'ink-testing-library';
import { describe, expect, it } from 'vitest';
import type { DeployEvent } from '../../src/engine/events.js';
import type { DeployRecord } from '../../src/state/types.js';
import { initialProgress, reduceProgress } from '../../src/ui/progress-state.js';
import { ProgressView } from '../../src/ui/progress-view.js';

const events: DeployEvent[] = [
  { type: 'started', app: 'web', env: 'prod', version: '1.4.2', action: 'deploy', recordId: 'r1', dryRun: false },
  { type: 'phase', phase: 'deploy', status: 'start' },
  { type: 'step-start', index: 0, label: 'command 1/1', command: ['npm', 'run', 'migrate'], dryRun: false },
  { type: 'output', index: 0, line: 'migrating 1', stream: 'stdout' },
  { type: 'output', index: 0, line: 'migrating 2', stream: 'stdout' },
];

describe('deploy progress', () => {
  it('shows the running command with its last output lines', () => {
    const state = events.reduce(reduceProgress, initialProgress);
    const { lastFrame } = render(<ProgressView state={state} animate={false} />);
    expect(lastFrame()).toContain('• deploy web 1.4.2 to prod');
    expect(lastFrame()).toMatch(/⠋ npm run migrate\n\s+│ migrating 1\n\s+│ migrating 2/);
  });

  it('cuts a long step label to the width only in the live view, with an ellipsis; the step keeps it whole', () => {
    const label = `command 1/1: ./deploy.sh --region eu-west-1 --cluster web-prod-blue --image registry.example.com/web:1.4.2 ${'--flag '.repeat(20)}--last`;
    let state = events.reduce(reduceProgress, initialProgress);
    state = reduceProgress(state, { type: 'step-end', index: 0, step: { label, phase: 'deploy', command: ['./deploy.sh'], cwd: '/', exitCode: 0, durationMs: 9 } });
    expect(state.done.map((l) => l.text)).toContain(label);
    const { lastFrame } = render(<ProgressView state={state} animate={false} />);
    const shown = lastFrame()!.split('\n').find((l) => l.includes('./deploy.sh'))!;
    expect(shown).toMatch(/^✓ command 1\/1: \.\/deploy\.sh --region eu-west-1 .*…$/);
    expect(shown).not.toContain('--last');
    expect(shown.length).toBeLessThanOrEqual(100);
  });

  it('names the source environment of a promotion', () => {
    const state = reduceProgress(initialProgress, { type: 'started', app: 'web', env: 'prod', version: '1.4.2', action: 'promote', recordId: 'r2', dryRun: false, from: 'staging' });
    const { lastFrame } = render(<ProgressView state={state} animate={false} />);
    expect(lastFrame()).toContain('promote web 1.4.2 from staging to prod');
  });

  it('moves finished steps and health attempts up, and keeps only five output lines', () => {
    const more: DeployEvent[] = [
      ...Array.from({ length: 7 }, (_, i): DeployEvent => ({ type: 'output', index: 0, line: `line ${i}`, stream: 'stdout' })),
    ];
    let state = [...events, ...more].reduce(reduceProgress, initialProgress);
    expect(state.tail).toEqual(['line 2', 'line 3', 'line 4', 'line 5', 'line 6']);
    state = reduceProgress(state, { type: 'step-end', index: 0, step: { label: 'command 1/1', phase: 'deploy', command: ['npm'], cwd: '/', exitCode: 0, durationMs: 9 } });
    state = reduceProgress(state, { type: 'health-attempt', attempt: { attempt: 1, ok: false, message: 'status 503 (expected 2xx)', latencyMs: 4, at: '' } });
    state = reduceProgress(state, { type: 'log', level: 'error', message: 'health check failed: unhealthy after 1 attempt' });
    const { lastFrame } = render(<ProgressView state={state} animate={false} />);
    expect(lastFrame()).toContain('✓ command 1/1');
    expect(lastFrame()).toContain('✗ health attempt 1: status 503 (expected 2xx)');
    expect(lastFrame()).toContain('✗ health check failed: unhealthy after 1 attempt');
    expect(lastFrame()).not.toContain('line 6');
  });

  it('ends with a summary including the rollback', () => {
    let state = events.reduce(reduceProgress, initialProgress);
    const record = (action: 'deploy' | 'rollback', version: string, status: 'rolled_back' | 'succeeded'): DeployRecord =>
      ({ schemaVersion: 1, id: version, app: 'web', env: 'prod', version, action, status, startedAt: '', user: 'u', host: 'h', pid: 1, command: '', config: {}, artifacts: {}, steps: [] });
    state = reduceProgress(state, { type: 'finished', record: record('deploy', '1.4.2', 'rolled_back') });
    state = reduceProgress(state, { type: 'finished', record: record('rollback', '1.4.1', 'succeeded') });
    const { lastFrame } = render(<ProgressView state={state} animate={false} />);
    expect(lastFrame()).toContain('deploy 1.4.2: rolled_back · rollback 1.4.1: succeeded');
  });

  it('shows a failing health check as one line per distinct result with its count, not one per attempt', () => {
    let state = events.reduce(reduceProgress, initialProgress);
    state = reduceProgress(state, { type: 'phase', phase: 'health', status: 'start' });
    const attempt = (n: number, message: string): DeployEvent => ({ type: 'health-attempt', attempt: { attempt: n, ok: false, message, latencyMs: 1, at: '' } });
    for (let n = 1; n <= 120; n++) state = reduceProgress(state, attempt(n, 'connection refused (127.0.0.1:8080)'));
    // While it runs: the counts so far, live.
    expect(render(<ProgressView state={state} animate={false} maxLines={30} />).lastFrame()).toContain('health: connection refused (127.0.0.1:8080) ×120');
    state = reduceProgress(state, attempt(121, 'status 503 (expected 2xx)'));
    state = reduceProgress(state, { type: 'phase', phase: 'health', status: 'failed', message: 'unhealthy after 121 attempts' });
    const frame = render(<ProgressView state={state} animate={false} maxLines={30} />).lastFrame()!;
    expect(frame).toContain('✗ health attempt 1: connection refused (127.0.0.1:8080)');
    expect(frame).toContain('✗ health attempt 121: status 503 (expected 2xx)');
    expect(frame).toContain('✗ health: connection refused (127.0.0.1:8080) ×120, status 503 (expected 2xx) ×1');
    expect(frame).not.toContain('attempt 2:');
    expect(state.done.filter((l) => l.text.includes('connection refused'))).toHaveLength(2);
    expect(state.attempts).toHaveLength(121);
  });
});
