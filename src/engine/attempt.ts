// One attempt of a deployment, one record: the strategy's attempt phases run in order over one runner.
// No lock is taken here and no rollback decided here (see deploy.ts).
import type { Command, Executor } from '../executors/types.js';
import type { DeployRecord } from '../state/types.js';
import { inFlight } from '../core/rollback-policy.js';
import { StateWriteError } from '../errors.js';
import type { DeployRequest, EngineDeps } from './deploy.js';
import { forTarget } from './events.js';
import { runAttemptPhases, splitPhases, type AttemptContext, type PhaseFailure, type Strategy } from './lifecycle.js';
import { finish, newRecord, planInput } from './steps.js';
import { standardStrategy } from './strategy.js';

interface Attempt {
  record: DeployRecord;
  failure?: { exitCode: number; message: string };
  /** The deployment stands but a `warn` phase failed (a post_deploy hook). */
  warnings: PhaseFailure[];
  /** Stopped before changing anything (a failed pre-deploy check): no rollback needed. */
  untouched?: boolean;
  /** A failed rollback attempt after which the rollback policy stops the rollbacks: why. */
  stopped?: string;
  /** Every command planned, in order: what a dry run lists. */
  planned: Command[];
  notes: string[];
  /** What the executor shows of its plan (a dry run's rendered manifests). */
  preview?: string;
  /** Why a dry run could not check its plan (a terraform workspace that does not exist yet). */
  unverified?: string;
}

export function strategyFor(request: DeployRequest): Strategy {
  return request.strategy ?? standardStrategy;
}

/** Run one attempt. A dry run takes no record id and stores nothing; its runner runs only what reads. */
export async function runAttempt(request: DeployRequest, executor: Executor, deps: EngineDeps, missingTools: string[] = []): Promise<Attempt> {
  const { target, dryRun } = request;
  const id = dryRun ? 'dry-run' : deps.newRecordId(target.app, target.env, deps.now());
  const scoped: EngineDeps = { ...deps, emit: forTarget(deps.emit, { app: target.app, env: target.env, recordId: id }) };
  const runner = deps.createRunner({ dryRun });
  const onAbort = () => void runner.stopAll('SIGTERM');
  deps.signal?.addEventListener('abort', onAbort, { once: true });
  const context: AttemptContext = {
    request,
    target,
    deps: scoped,
    executor,
    runner,
    dryRun,
    record: newRecord(request, id, deps),
    missingTools,
    input: planInput(request, id, dryRun),
    commands: {},
    planned: [],
    notes: [],
    kept: {},
    results: [],
    warnings: [],
    opened: false,
    saved: 'pending',
    nextIndex: 0,
  };
  try {
    await runAttemptPhases(splitPhases(strategyFor(request).phases).attempt, context);
    const { record, failure, warnings, planned, notes } = context;
    const plan = context.plan;
    return {
      record,
      failure: failure && { exitCode: failure.exitCode, message: record.error?.message ?? failure.message },
      untouched: failure?.untouched,
      ...(context.stopped ? { stopped: context.stopped } : {}),
      warnings,
      planned,
      notes,
      ...(plan?.preview !== undefined ? { preview: plan.preview } : {}),
      ...(plan?.unverified && !failure ? { unverified: plan.unverified } : {}),
    };
  } catch (error) {
    const { record } = context;
    if (context.opened && !dryRun && inFlight(record.status)) {
      // Stopped by the disk before anything ran, it ends as readers would settle it: interrupted, which
      // says nothing against the version.
      const refused = error instanceof StateWriteError;
      record.status = refused ? 'interrupted' : 'failed';
      record.error = { code: refused ? error.code : 'internal', message: error instanceof Error ? error.message : String(error) };
      finish(record, deps);
      await deps.history.write(record).catch(() => undefined);
    }
    throw error;
  } finally {
    deps.signal?.removeEventListener('abort', onAbort);
    await executor.cleanup?.(planInput(request, id, dryRun)).catch(() => undefined);
  }
}
