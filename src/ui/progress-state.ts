// The deploy progress as a pure reduction of engine events: what the Ink view shows.
import type { DeployEvent } from '../engine/events.js';
import type { DeployRecord, HealthAttempt } from '../state/types.js';

export interface ProgressLine {
  key: string;
  status: 'done' | 'failed' | 'skipped' | 'info' | 'warn' | 'output';
  text: string;
}

export interface ProgressState {
  title?: string;
  /** Finished lines, shown once (Ink <Static>). */
  done: ProgressLine[];
  /** What runs now, with a spinner. */
  running?: string;
  /** The last lines of the running command's output. */
  tail: string[];
  attempts: HealthAttempt[];
  finished: DeployRecord[];
  counter: number;
}

export const initialProgress: ProgressState = { done: [], tail: [], attempts: [], finished: [], counter: 0 };
const TAIL = 5;

export function reduceProgress(state: ProgressState, event: DeployEvent): ProgressState {
  const line = (status: ProgressLine['status'], text: string): ProgressState => ({
    ...state,
    done: [...state.done, { key: `${state.counter}`, status, text }],
    counter: state.counter + 1,
  });
  switch (event.type) {
    case 'started': {
      const title = `${event.dryRun ? 'dry run: ' : ''}${event.action} ${event.app} ${event.version}${event.from ? ` from ${event.from}` : ''} to ${event.env}`;
      return { ...line('info', title), title, running: undefined, tail: [], attempts: [] };
    }
    case 'phase':
      if (event.status === 'start') return { ...state, running: `${event.phase}${event.message ? `: ${event.message}` : ''}` };
      return { ...line(event.status === 'done' ? 'done' : event.status === 'skipped' ? 'skipped' : 'failed', `${event.phase}${event.message ? `: ${event.message}` : ''}`), running: undefined };
    case 'step-start':
      return { ...state, running: `${event.dryRun ? 'would run ' : ''}${event.command.join(' ')}`, tail: [] };
    case 'output':
      return { ...state, tail: [...state.tail, event.line].slice(-TAIL) };
    case 'step-end': {
      if (event.step.skipped) return line('skipped', `would run ${event.step.command.join(' ')}`);
      const ok = event.step.exitCode === 0;
      const why = event.step.timedOut ? 'timed out' : event.step.interrupted ? 'interrupted' : event.step.spawnError ?? `exit ${event.step.exitCode}`;
      const next = line(ok ? 'done' : 'failed', `${event.step.label}${ok ? '' : ` (${why})`}`);
      if (ok) return { ...next, running: undefined, tail: [] };
      // A failed command's last lines say why: they stay on screen with it.
      const output = state.tail.map((text, i): ProgressLine => ({ key: `${next.counter + i}`, status: 'output', text }));
      return { ...next, done: [...next.done, ...output], counter: next.counter + output.length, running: undefined, tail: [] };
    }
    case 'health-attempt':
      return {
        ...line(event.attempt.ok ? 'done' : 'failed', `health attempt ${event.attempt.attempt}: ${event.attempt.message}`),
        attempts: [...state.attempts, event.attempt],
      };
    case 'log':
      if (event.level === 'debug') return state;
      return line(event.level === 'error' ? 'failed' : event.level === 'warn' ? 'warn' : 'info', event.message);
    case 'finished':
      return { ...state, finished: [...state.finished, event.record], running: undefined };
  }
}
