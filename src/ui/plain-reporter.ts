// The reporter for pipes, CI and --json: plain timestamped lines on stderr, or JSON lines with
// --log-format json. No control codes. It only displays engine events.
import type { DeployEvent } from '../engine/events.js';
import { formatCommand } from '../format.js';
import { formatDuration } from '../config/duration.js';
import { addAttempt, describeTally, hasRepeats, type HealthTally } from './health-tally.js';

interface PlainReporterOptions {
  write: (text: string) => void;
  format: 'text' | 'json';
  quiet?: boolean;
  verbose?: boolean;
  /** Timestamps on each line (off in tests for stable output). */
  now?: () => Date;
}

const SYMBOL = { done: '✓', failed: '✗', skipped: '-', start: '▸' } as const;

/** -q hides the progress, never a warning or an error (as logLine does for the other commands). */
const shownWhenQuiet = (event: DeployEvent) => event.type === 'log' && (event.level === 'warn' || event.level === 'error');

export function createPlainReporter(options: PlainReporterOptions): (event: DeployEvent) => void {
  const now = options.now ?? (() => new Date());
  const stamp = () => now().toISOString().slice(11, 19);
  const line = (text: string) => options.write(`${stamp()} ${text}\n`);

  if (options.format === 'json') {
    return (event) => {
      if (options.quiet && !shownWhenQuiet(event)) return;
      if (event.type === 'log' && event.level === 'debug' && !options.verbose) return;
      const level = event.type === 'log' ? event.level : 'info';
      const { type, ...fields } = event;
      const payload = type === 'finished' ? { id: event.record.id, status: event.record.status, version: event.record.version } : fields;
      options.write(`${JSON.stringify({ time: now().toISOString(), level, event: type, ...payload })}\n`);
    };
  }

  // A health check's attempts: the first of each result as it happens, then one line with the counts.
  let tally: HealthTally | undefined;
  let checking = 'health';
  const endTally = () => {
    if (hasRepeats(tally)) line(`  ${tally.lastOk ? SYMBOL.done : SYMBOL.failed} ${checking}: ${describeTally(tally)}`);
    tally = undefined;
  };

  return (event) => {
    if (options.quiet && !shownWhenQuiet(event)) return;
    if (event.type !== 'health-attempt') endTally();
    switch (event.type) {
      case 'started':
        line(
          `${event.dryRun ? 'dry run: ' : ''}${event.action} ${event.app} ${event.version}${event.from ? ` from ${event.from}` : ''} ${event.action === 'destroy' ? 'in' : 'to'} ${event.env}${event.dryRun ? '' : ` (record ${event.recordId})`}`,
        );
        break;
      case 'phase':
        if (event.status === 'start') checking = event.phase;
        if (event.status === 'start') line(`${SYMBOL.start} ${event.phase}${event.message ? `: ${event.message}` : ''}`);
        else line(`${SYMBOL[event.status]} ${event.phase} ${event.status}${event.message ? `: ${event.message}` : ''}`);
        break;
      case 'step-start':
        line(`  ${event.dryRun ? 'would run' : '$'} ${formatCommand(event.command, { shell: event.shell })}`);
        break;
      case 'output':
        line(`  │ ${event.line}`);
        break;
      case 'step-end': {
        const step = event.step;
        if (step.skipped) break;
        const result = step.exitCode === 0 ? `${SYMBOL.done} ${step.label}` : `${SYMBOL.failed} ${step.label}`;
        const why = step.timedOut ? 'timed out' : step.interrupted ? 'interrupted' : step.spawnError ?? `exit ${step.exitCode}`;
        line(`  ${result} (${step.exitCode === 0 ? '' : `${why}, `}${formatDuration(step.durationMs)})`);
        break;
      }
      case 'health-attempt': {
        const added = addAttempt(tally, event.attempt);
        tally = added.tally;
        if (added.first) line(`  ${event.attempt.ok ? SYMBOL.done : SYMBOL.failed} attempt ${event.attempt.attempt}: ${event.attempt.message} (${formatDuration(event.attempt.latencyMs)})`);
        break;
      }
      case 'log':
        if (event.level === 'debug' && !options.verbose) break;
        line(`${event.level === 'info' ? '' : `${event.level === 'warn' ? 'warning' : event.level}: `}${event.message}`);
        break;
      case 'finished': {
        const r = event.record;
        const took = r.durationMs !== undefined ? ` in ${formatDuration(r.durationMs)}` : '';
        line(`${r.status === 'succeeded' ? SYMBOL.done : SYMBOL.failed} ${r.action} ${r.app} ${r.version} ${r.action === 'destroy' ? 'in' : 'to'} ${r.env}: ${r.status}${took}`);
        break;
      }
    }
  };
}
