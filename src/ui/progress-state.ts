// The deploy progress as a pure reduction of engine events: what the live views show (live-progress.ts in a terminal, the board's ProgressView).
import type { DeployEvent } from '../engine/events.js';
import { formatCommand } from '../format.js';
import type { DeployRecord, HealthAttempt } from '../state/types.js';
import { addAttempt, describeTally, hasRepeats, type HealthTally } from './health-tally.js';

export interface ProgressLine {
  key: string;
  status: 'done' | 'failed' | 'skipped' | 'info' | 'warn' | 'output';
  text: string;
}

export interface ProgressState {
  title?: string;
  /** Finished lines, shown once. */
  done: ProgressLine[];
  /** What runs now, with a spinner. */
  running?: string;
  /** The last lines of the running command's output. */
  tail: string[];
  attempts: HealthAttempt[];
  /** The running health check's attempts by result: each new result gets a line, repeats only a count. */
  tally?: HealthTally;
  checking?: string;
  finished: DeployRecord[];
  counter: number;
}

export const initialProgress: ProgressState = { done: [], tail: [], attempts: [], finished: [], counter: 0 };
const TAIL = 5;

export function reduceProgress(previous: ProgressState, event: DeployEvent): ProgressState {
  // Any event after a health check's attempts ends it: one line with the count of each result.
  const state = event.type === 'health-attempt' ? previous : endTally(previous);
  const line = (status: ProgressLine['status'], text: string): ProgressState => ({
    ...state,
    done: [...state.done, { key: `${state.counter}`, status, text }],
    counter: state.counter + 1,
  });
  switch (event.type) {
    case 'started': {
      const title = `${event.dryRun ? 'dry run: ' : ''}${event.action} ${event.app} ${event.version}${event.from ? ` from ${event.from}` : ''} ${event.action === 'destroy' ? 'in' : 'to'} ${event.env}`;
      return { ...line('info', title), title, running: undefined, tail: [], attempts: [] };
    }
    case 'phase':
      if (event.status === 'start') return { ...state, checking: event.phase, running: `${event.phase}${event.message ? `: ${event.message}` : ''}` };
      return { ...line(event.status === 'done' ? 'done' : event.status === 'skipped' ? 'skipped' : 'failed', `${event.phase}${event.message ? `: ${event.message}` : ''}`), running: undefined };
    case 'step-start':
      return { ...state, running: `${event.dryRun ? 'would run ' : ''}${formatCommand(event.command, { shell: event.shell })}`, tail: [] };
    case 'output':
      return { ...state, tail: [...state.tail, event.line].slice(-TAIL) };
    case 'step-end': {
      if (event.step.skipped) return line('skipped', `would run ${formatCommand(event.step.command, { shell: event.step.shell })}`);
      const ok = event.step.exitCode === 0;
      const why = event.step.timedOut ? 'timed out' : event.step.interrupted ? 'interrupted' : event.step.spawnError ?? `exit ${event.step.exitCode}`;
      const next = line(ok ? 'done' : 'failed', `${event.step.label}${ok ? '' : ` (${why})`}`);
      if (ok) return { ...next, running: undefined, tail: [] };
      // A failed command's last lines say why: they stay on screen with it.
      const output = state.tail.map((text, i): ProgressLine => ({ key: `${next.counter + i}`, status: 'output', text }));
      return { ...next, done: [...next.done, ...output], counter: next.counter + output.length, running: undefined, tail: [] };
    }
    case 'health-attempt': {
      const { tally, first } = addAttempt(state.tally, event.attempt);
      const shown = first ? line(event.attempt.ok ? 'done' : 'failed', `health attempt ${event.attempt.attempt}: ${event.attempt.message}`) : state;
      return { ...shown, tally, running: `${state.checking ?? 'health'}: ${describeTally(tally)}`, attempts: [...state.attempts, event.attempt] };
    }
    case 'log':
      if (event.level === 'debug') return state;
      return line(event.level === 'error' ? 'failed' : event.level === 'warn' ? 'warn' : 'info', event.message);
    case 'finished':
      return { ...state, finished: [...state.finished, event.record], running: undefined };
  }
}

function endTally(state: ProgressState): ProgressState {
  if (!state.tally) return state;
  const { tally, ...rest } = state;
  if (!hasRepeats(tally)) return rest;
  const text = `${state.checking ?? 'health'}: ${describeTally(tally)}`;
  return { ...rest, done: [...rest.done, { key: `${rest.counter}`, status: tally.lastOk ? 'done' : 'failed', text }], counter: rest.counter + 1 };
}
