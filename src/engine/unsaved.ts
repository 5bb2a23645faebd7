// What deployctl says when the state folder refuses a write during a deployment (a full or read-only
// disk): whether anything ran, what ran, what the target runs as far as deployctl knows, what the
// history shows instead, and what to run once the disk is fixed.
import { ExitCode, StateWriteError, type ExitCodeValue } from '../errors.js';
import type { DeployRecord, RecordStatus, StepRecord } from '../state/types.js';
import { afterLockLost } from './lock-lost.js';

/** "deploy of web 1.4.2 to prod", "rollback of web 1.4.1 to prod". */
export function describeAction(r: Pick<DeployRecord, 'action' | 'app' | 'version' | 'env'>): string {
  return `${r.action} of ${r.app} ${r.version} ${r.action === 'destroy' ? 'in' : 'to'} ${r.env}`;
}

/** The exit code of a record that ended without succeeding. */
export function failureExitCode(record: DeployRecord): ExitCodeValue {
  if (record.status === 'interrupted') return ExitCode.interrupted;
  if (record.error?.code === 'approval_needed') return ExitCode.approvalNeeded;
  return record.error?.code === 'health_failed' ? ExitCode.healthFailed : ExitCode.deployFailed;
}

/** Stopped before any command ran (the lock, the first record): exit 2, and running it again is the way on. */
export function notStarted(what: string, error: StateWriteError): StateWriteError {
  return error.restate(`${what} did not start, nothing was run: ${error.message}`, 'run it again');
}

/** For a .catch() before anything ran: a StateWriteError becomes notStarted(what), anything else passes. */
export function notStartedIfRefused(what: string): (error: unknown) => never {
  return (error) => {
    throw error instanceof StateWriteError ? notStarted(what, error) : error;
  };
}

interface UnsavedContext {
  /** How the deployment ended, when it failed. */
  failure?: { exitCode: number; message: string };
  /** Failed before changing anything (a pre-deploy check). */
  untouched?: boolean;
  /** The status the history still holds for this record. */
  saved: RecordStatus;
  /** The failure would have been rolled back automatically, had it been recorded. */
  wouldRollBack: boolean;
}

/**
 * The commands ran and the record of how the deployment ended could not be saved: exit 3 when it
 * succeeded, its own code when it failed (2 when nothing had run after all).
 */
export function notRecorded(record: DeployRecord, context: UnsavedContext, error: StateWriteError): StateWriteError {
  const { failure } = context;
  const what = describeAction(record);
  const ran = record.steps.filter((s) => !s.skipped);
  const lostLock = record.error?.code === 'lock_lost';
  const lines = [
    lostLock
      ? `${record.error!.message}; and its record could not be written either: ${error.message}`
      : failure
      ? `${what} failed (${failure.message}), and its record could not be saved: ${error.message}`
      : `${what} succeeded, but its record could not be saved: ${error.message}`,
  ];
  const health = record.health ? `; health check ${record.health.ok ? 'passed' : 'failed'}` : '';
  lines.push(ran.length ? `ran: ${ran.map((s) => `${s.label} (${stepResult(s)})`).join(', ')}${health}` : 'nothing was run');
  lines.push(`as far as deployctl knows, ${targetState(record, context, ran.length > 0)}`);
  lines.push(
    lostLock
      ? `the history still shows this ${record.action} as ${context.saved}, until the next deployment of ${record.app} in ${record.env} marks it interrupted`
      : `the history still shows this ${record.action} as ${context.saved} (read as interrupted once deployctl has exited)${failure ? '' : ', and status the version before it'}`,
  );
  if (failure && context.wouldRollBack && ran.length && !context.untouched) {
    lines.push('not rolled back automatically: what a rollback did could not be recorded either');
  }
  const exitCode = (failure?.exitCode ?? (ran.length ? ExitCode.deployFailed : ExitCode.usage)) as ExitCodeValue;
  return error.restate(lines.join('\n'), nextStep(record, context, ran.length > 0), { code: 'record_not_saved', exitCode, record });
}

function stepResult(step: StepRecord): string {
  if (step.exitCode === 0) return 'ok';
  if (step.timedOut) return 'timed out';
  if (step.interrupted) return 'interrupted';
  return step.exitCode === null ? (step.spawnError ?? 'did not start') : `exit ${step.exitCode}`;
}

function targetState(record: DeployRecord, context: UnsavedContext, ran: boolean): string {
  const { app, env, version } = record;
  if (!context.failure) return `${app} ${version} now runs in ${env}${record.health?.ok ? ' and passed its health check' : ''}`;
  if (context.untouched || !ran) return `nothing was changed in ${env}`;
  if (context.failure.exitCode === ExitCode.healthFailed) return `${app} ${version} was applied to ${env} and failed its health check`;
  return `${env} may run part of ${app} ${version}: the ${record.action} stopped before it finished`;
}

function nextStep(record: DeployRecord, context: UnsavedContext, ran: boolean): string {
  const { app, env, version } = record;
  if (record.error?.code === 'lock_lost') return afterLockLost(record);
  const rollback = `deployctl rollback ${app} -e ${env}`;
  if (!context.failure) {
    const again = record.action === 'rollback' ? `${rollback} --to ${version}` : record.command;
    return `run \`${again}\` again so that the history says what runs`;
  }
  if (context.untouched || !ran) return 'run it again';
  return record.action === 'rollback' ? `run \`${rollback}\` again` : `roll back with \`${rollback}\`, or deploy again`;
}

/**
 * A rollback stopped by the disk after earlier attempts, or after the deployment it rolls back, failed
 * (and were saved): those come first, and the exit code is theirs.
 */
export function afterFailures(failures: DeployRecord[], error: StateWriteError, exitCode: ExitCodeValue, options: { prefix?: string; next?: string } = {}): StateWriteError {
  const before = failures.map((r) => `${describeAction(r)} failed: ${r.error?.message ?? r.status} (record ${r.id})`);
  return error.restate([...before, `${options.prefix ?? ''}${error.message}`].join('\n'), options.next, { exitCode });
}
