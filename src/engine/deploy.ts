// The deployment of one target: the strategy's phases (lifecycle.ts; the standard list in strategy.ts)
// run in order, the automatic rollback after a failure, and the fall-through to older good versions.
// Everything it touches comes in through EngineDeps, so tests hand in fakes. A state folder that
// refuses a write (a full disk) stops it with a StateWriteError saying whether anything ran (unsaved.ts).
// A dry run goes through the same phases: those that write state or probe the target are left out,
// and the runner runs only the commands that read.
import type { AppConfig, EnvironmentConfig, HealthCheckConfig } from '../config/types.js';
import { ApprovalError, DeployctlError, ExitCode, InterruptedError, StateWriteError, UsageError, type ExitCodeValue } from '../errors.js';
import type { Artifacts, Command, Executor, PlanInput, Runner, ToolProbe } from '../executors/types.js';
import type { CiInfo, DeployRecord, HealthResult, HistoryStore, IndexEntry, LockHandle, LockManager, RecordAction } from '../state/types.js';
import { forTarget, type EventSink } from './events.js';
import type { Identity } from '../identity.js';
import { environmentSecrets, maskDeep, unsealRecord } from './secrets.js';
import { goodOnes, RECENT_RECORDS, sinceDestroy, type FailureCause } from '../core/rollback-policy.js';
import { afterFailures, describeAction, failureExitCode } from './unsaved.js';
import { runAttempt, strategyFor } from './attempt.js';
import { runTargetPhases, type Strategy, type TargetContext } from './lifecycle.js';
import { describe } from './steps.js';
import { afterLockLost, lockLost } from './lock-lost.js';

export type { AttemptPhase, FailurePolicy, LifecyclePhase, PhaseFailure, Strategy, TargetPhase } from './lifecycle.js';
export { standardStrategy, strategyOf } from './strategy.js';

/** What an approval is asked for: an approver that is not a terminal (a Slack request) shows it. */
export interface ApprovalSubject {
  action: RecordAction;
  app: string;
  env: string;
  version: string;
}

export interface EngineDeps {
  history: HistoryStore;
  locks: LockManager;
  /** The one runner of an attempt; in a dry run it alone decides what runs (Runner.shows). Under the lock it reports the process groups it starts. */
  createRunner(options: { dryRun: boolean; onSpawn?: (pid: number, label: string) => void; onExit?: (pid: number) => void }): Runner;
  getExecutor(type: AppConfig['type']): Promise<Executor>;
  /** Hooks are planned the same way for every type. */
  planHooks(input: PlanInput, phase: 'pre_deploy' | 'post_deploy'): Command[];
  runHealthCheck(
    check: HealthCheckConfig,
    options: { onAttempt: (a: import('../state/types.js').HealthAttempt) => void; signal?: AbortSignal; runner: Runner; cwd?: string; env?: Record<string, string> },
  ): Promise<HealthResult>;
  /** Resolve tool names to executables; throws ToolMissingError. */
  resolveTools(names: string[], overrides: Record<string, string>): Record<string, string>;
  /** Whether a read-only command succeeds here (`docker compose version`); none: nothing answers. */
  probeTool?: ToolProbe;
  newRecordId(app: string, env: string, at: Date): string;
  /** Ask a yes/no question; only called when interactive. */
  confirm(question: string, about?: ApprovalSubject): Promise<boolean>;
  emit: EventSink;
  now(): Date;
  identity: Identity;
  ci?: CiInfo;
  commandLine: string;
  /** Called once per finished record: notifications, audit log, CI summary. Must not throw. */
  afterRecord?(record: DeployRecord, context: { previousVersion?: string; secretValues: string[]; notifications?: unknown }): Promise<void>;
  signal?: AbortSignal;
  /** The lock of the target, once the lock phase took it: how a deployment ended is written only while it is held. */
  heldLock?: LockHandle;
  /** The process environment: secrets of stored records are read from it again. */
  processEnv: NodeJS.ProcessEnv;
}

/** One app in one environment, ready to deploy. */
export interface Target {
  app: string;
  env: string;
  version: string;
  config: AppConfig;
  environment: EnvironmentConfig;
  secretValues: string[];
  /** When re-applying a stored record: its artifacts (rendered manifests, image reference...). */
  artifacts?: Artifacts;
}

export interface DeployRequest {
  target: Target;
  action: RecordAction;
  dryRun: boolean;
  /** --yes: approval given for protected environments and terraform apply. */
  approved: boolean;
  interactive: boolean;
  /** False with --no-rollback or rollback.auto: false. */
  autoRollback: boolean;
  waitLockMs: number;
  tools: Record<string, string>;
  rollbackOf?: string;
  /** For an automatic rollback: the failed record that triggered it. */
  triggeredBy?: string;
  from?: { env: string; recordId: string };
  /** How to deploy: the phases to run (default: strategy.ts's standard list). Rollbacks use it too. */
  strategy?: Strategy;
  /** Whether the rollbacks stop after a failed attempt (none: they go on to older candidates). */
  rollbackPolicy?: RollbackPolicy;
  /** For a rollback: the failure it follows (the deployment's, the attempt's before it, or what a manual rollback starts from). */
  after?: FailureCause;
}

/**
 * What the engine asks when a rollback attempt failed, before its record is stored: whether the
 * rollbacks stop there. Stopping leaves the attempt not marked bad (and the attempt before it, when
 * that is the failure it followed) and tries no older candidate.
 */
interface RollbackPolicy {
  /** Why the rollbacks stop after `attempt`, which failed after `before`; nothing to go on. */
  onAttemptFailed(attempt: DeployRecord, before: FailureCause): string | undefined;
}

/** Rollback candidates, best first. An async iterable is read one record at a time, as the fall-through reaches each. */
export type Candidates = Iterable<DeployRecord> | AsyncIterable<DeployRecord>;

export interface PlannedStep {
  phase: string;
  label: string;
  argv: string[];
  /** The argv as deployctl shows it everywhere: quoted for a shell to copy, secrets masked. */
  command: string;
  shell: boolean;
  cwd: string;
  mutates: boolean;
}

export interface DeployOutcome {
  exitCode: number;
  /** The record of the requested action, in its final state (not stored for a dry run). */
  record: DeployRecord;
  /** Rollback records made automatically after a failure (or the fall-through of a manual rollback). */
  rollbacks: DeployRecord[];
  dryRun?: { steps: PlannedStep[]; notes: string[]; preview?: string; unverified?: string };
  /** The version that ran there before (for "old → new" in summaries and notifications). */
  previousVersion?: string;
  /** Why the rollbacks stopped early (the rollback policy said so), if they did. */
  stopped?: string;
}

export async function deployTarget(request: DeployRequest, deps: EngineDeps): Promise<DeployOutcome> {
  const executor = await deps.getExecutor(request.target.config.type);
  // What the executor checks before anything: also for a rollback's stored artifacts.
  executor.preflight?.(request.target.config, request.target.artifacts);
  // ansible's check: true changes nothing: it runs as a dry run, and is not recorded as a deploy.
  if (!request.dryRun && executor.checkOnly?.(request.target.config)) return deployTarget({ ...request, dryRun: true }, deps);
  return onTarget(request, deps, executor, async (context) => {
    const attempt = await runAttempt({ ...request, tools: context.tools }, executor, context.deps, context.missingTools);
    context.finished.push(attempt.record);
    let rollbacks: DeployRecord[] = [];
    let stopped: string | undefined;
    let exitCode: number = ExitCode.ok;
    if (attempt.failure) {
      exitCode = attempt.failure.exitCode;
      const canRollBack =
        request.autoRollback && !attempt.untouched && exitCode !== ExitCode.interrupted && exitCode !== ExitCode.approvalNeeded && !deps.signal?.aborted;
      if (canRollBack) {
        ({ attempts: rollbacks, stopped } = await rollBackAfterFailure(attempt.record, exitCode, request, context.deps, context.finished));
      } else if (request.autoRollback === false && exitCode !== ExitCode.interrupted && !request.dryRun && request.action !== 'destroy') {
        context.deps.emit({ type: 'log', level: 'info', message: 'automatic rollback is off (--no-rollback or rollback.auto: false)' });
      }
    }
    if (attempt.warnings.length) exitCode = ExitCode.deployFailed;
    const outcome: Omit<DeployOutcome, 'previousVersion'> = { exitCode, record: attempt.record, rollbacks, ...(stopped ? { stopped } : {}) };
    if (request.dryRun) {
      const { preview, unverified } = attempt;
      outcome.dryRun = maskDeep({ steps: attempt.planned.map((c) => describe(c, request.target.secretValues)), notes: attempt.notes, ...(preview !== undefined ? { preview } : {}), ...(unverified ? { unverified } : {}) }, request.target.secretValues);
    }
    return outcome;
  });
}

/**
 * What every deployment of a target does around its work, deploy and rollback alike: the strategy's
 * target phases (tools, approval for a protected environment, the lock, records left in flight settled,
 * the version running before; then retention, the release of the lock, and the notifications of each
 * record the work finished, even when it throws).
 */
async function onTarget(
  request: DeployRequest,
  deps: EngineDeps,
  executor: Executor,
  work: (context: TargetContext) => Promise<Omit<DeployOutcome, 'previousVersion'>>,
): Promise<DeployOutcome> {
  const { target } = request;
  const context: TargetContext = {
    request,
    deps: { ...deps, emit: maskingEmit(forTarget(deps.emit, { app: target.app, env: target.env }), target.secretValues) },
    executor,
    dryRun: request.dryRun,
    what: describeAction({ ...target, action: request.action }),
    tools: request.tools,
    missingTools: [],
    finished: [],
  };
  const outcome = await runTargetPhases(strategyFor(request).phases, context, () => work(context));
  return { ...outcome, previousVersion: context.previous?.version };
}

/**
 * The good records of a target to roll back to, newest first (see goodOnes), without `skipVersions`,
 * none older than a destroy: chosen from the index, and each read only when the fall-through reaches it.
 */
export async function goodRecords(history: HistoryStore, app: string, env: string, skipVersions: Set<string>): Promise<AsyncIterable<DeployRecord>> {
  return recordsOf(history, app, env, goodOnes(sinceDestroy(await history.entries({ app, env, limit: RECENT_RECORDS })), skipVersions));
}

/**
 * The records of a target's index entries chosen among its newest RECENT_RECORDS, in the history's
 * order (newest first), read one at a time through the store's walk; one that cannot be read any more
 * is left out (the store warns). Each iteration walks again.
 */
export function recordsOf(history: HistoryStore, app: string, env: string, chosen: readonly IndexEntry[]): AsyncIterable<DeployRecord> {
  const ids = new Set(chosen.map((e) => e.id));
  return {
    async *[Symbol.asyncIterator]() {
      if (ids.size === 0) return;
      let left = ids.size;
      for await (const record of history.walk(app, env, { pick: (e) => ids.has(e.id), limit: RECENT_RECORDS })) {
        yield record;
        if (--left === 0) return;
      }
    },
  };
}

function iteratorOf(candidates: Candidates): AsyncIterator<DeployRecord> {
  if (Symbol.asyncIterator in candidates) return candidates[Symbol.asyncIterator]();
  const sync = candidates[Symbol.iterator]();
  return { next: async () => sync.next() };
}

/**
 * The first of the candidates (read now), and all of them from it: the first not read again, the rest
 * read as the iteration reaches them.
 */
export async function firstCandidate(candidates: Candidates): Promise<{ first?: DeployRecord; all: AsyncIterable<DeployRecord> }> {
  const iterator = iteratorOf(candidates);
  const head = await iterator.next();
  const first = head.done ? undefined : head.value;
  return {
    first,
    all: {
      async *[Symbol.asyncIterator]() {
        if (head.done) return;
        yield head.value;
        for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
      },
    },
  };
}

/** Rebuild a target from a stored record, with the secrets of its config and artifacts taken from the environment again. */
export function targetFromRecord(record: DeployRecord, environment: EnvironmentConfig, env: NodeJS.ProcessEnv): Target {
  const { config, artifacts, values } = unsealRecord<AppConfig>(record, env);
  return { app: record.app, env: record.env, version: record.version, config, environment, secretValues: [...new Set([...values, ...environmentSecrets(env).values()])], artifacts };
}

/**
 * After a failed deploy: re-apply the last good record; when its own health check fails, the next older
 * good one, up to rollback.max_attempts. The failed record ends `rolled_back` with links to the attempts,
 * or says why none could start; either way the exit code stays the deployment's.
 */
async function rollBackAfterFailure(
  failed: DeployRecord,
  exitCode: number,
  request: DeployRequest,
  deps: EngineDeps,
  finished: DeployRecord[],
): Promise<{ attempts: DeployRecord[]; stopped?: string }> {
  const { target } = request;
  const candidates = await goodRecords(deps.history, target.app, target.env, new Set([failed.version]));
  let fallThrough: FallThrough;
  try {
    fallThrough = await rollBackThrough(candidates, { ...request, after: failed }, deps, { triggeredBy: failed.id, onAttempt: (r) => finished.push(r) });
  } catch (error) {
    if (!(error instanceof StateWriteError)) throw error;
    // The deployment failed and is recorded so; the rollback was stopped by the disk: the exit code is the deployment's.
    throw afterFailures([failed], error, exitCode as ExitCodeValue, {
      prefix: 'automatic ',
      next: error.code === 'record_not_saved' ? undefined : `roll back with \`deployctl rollback ${target.app} -e ${target.env}\``,
    });
  }
  const { attempts, passedOver } = fallThrough;
  let { stopped } = fallThrough;
  const lost = attempts.length === 0 ? lockLost(deps.signal) : undefined;
  if (lost) {
    // Lost between the failure and the first rollback attempt: nothing of the rollback ran, and another
    // deployment may hold the target now. Said as such, never as "no earlier good version".
    stopped =
      `automatic rollback of ${target.app} in ${target.env} did not start: ${lost.message}; nothing was rolled back. ` +
      `${afterLockLost(failed)}; or roll back by hand with \`deployctl rollback ${target.app} -e ${target.env}\` once nobody else deploys there`;
    deps.emit({ type: 'log', level: 'error', message: stopped });
  } else if (attempts.length === 0 && passedOver.length === 0) {
    deps.emit({ type: 'log', level: 'warn', message: `no earlier good version of ${target.app} in ${target.env} to roll back to` });
    return { attempts };
  }
  const landed = attempts.find((r) => r.status === 'succeeded');
  if (landed) failed.status = 'rolled_back';
  if (attempts.length) failed.rolledBackBy = attempts.map((r) => r.id);
  failed.notes = [
    ...(failed.notes ?? []),
    ...passedOver.map((why) => `not rolled back to ${why}`),
    ...(landed ? [`rolled back to ${landed.version} (${landed.id})`] : attempts.length ? [`rollback failed: tried ${attempts.map((r) => r.version).join(', ')}`] : []),
    ...(stopped ? [stopped] : []),
  ];
  // The rollback's own record says what it did; this link back is what a full disk may cost.
  await deps.history.write(failed).catch((error: unknown) => {
    if (!(error instanceof StateWriteError)) throw error;
    deps.emit({ type: 'log', level: 'warn', message: `record ${failed.id} still says failed, not rolled back: ${error.message}` });
  });
  if (attempts.length) {
    deps.emit({
      type: 'log',
      level: landed ? 'info' : 'error',
      message: landed
        ? `rolled back ${target.app} in ${target.env} to ${landed.version}`
        : `rollback of ${target.app} in ${target.env} failed: tried ${attempts.map((r) => r.version).join(', ')}`,
    });
  }
  return { attempts, stopped };
}

interface FallThrough {
  /** The rollback records, in the order tried. */
  attempts: DeployRecord[];
  /** Candidates that could not start, each as "1.0.0: why". */
  passedOver: string[];
  /** Why the rollback policy stopped the fall-through, if it did. */
  stopped?: string;
}

/**
 * Try each candidate in turn until one deploys and passes its health check, up to rollback.max_attempts,
 * reading each only when its turn comes. One that cannot start (a secret it needs no longer set, a tool
 * gone, its stored config refused) is passed over with a warning, for the next; approval not given,
 * Ctrl-C, or the rollback policy (request.rollbackPolicy) ends the fall-through. A manual rollback
 * stopped so before its first attempt throws that error instead: nothing was run.
 */
async function rollBackThrough(
  candidates: Candidates,
  request: DeployRequest,
  deps: EngineDeps,
  options: { triggeredBy?: string; onAttempt?: (record: DeployRecord) => void } = {},
): Promise<FallThrough> {
  const { target } = request;
  const max = Math.max(1, target.config.rollback?.max_attempts ?? 3);
  const attempts: DeployRecord[] = [];
  const passedOver: string[] = [];
  let after = request.after;
  const next = iteratorOf(candidates);
  for (let tried = 0; tried < max && !deps.signal?.aborted; tried++) {
    const read = await next.next();
    if (read.done) break;
    const candidate = read.value;
    deps.emit({ type: 'phase', phase: 'rollback', status: 'start', message: `rolling back to ${candidate.version} (${candidate.id})` });
    let attempt: Awaited<ReturnType<typeof runAttempt>>;
    try {
      const rollbackTarget = targetFromRecord(candidate, target.environment, deps.processEnv);
      const executor = await deps.getExecutor(rollbackTarget.config.type);
      const tools = deps.resolveTools(executor.tools(rollbackTarget.config, request.tools, deps.probeTool ?? (() => false)), request.tools);
      const rollbackRequest: DeployRequest = { ...request, target: rollbackTarget, action: 'rollback', rollbackOf: candidate.id, triggeredBy: options.triggeredBy, from: undefined, tools, after };
      attempt = await runAttempt(rollbackRequest, executor, deps);
    } catch (error) {
      if (error instanceof StateWriteError) {
        // Stopped by the disk after an older attempt failed: the failure comes first, and its exit code.
        if (attempts.length === 0) throw error;
        throw afterFailures(attempts, error, failureExitCode(attempts[attempts.length - 1]!));
      }
      if (!(error instanceof DeployctlError) || (!options.triggeredBy && attempts.length === 0)) throw error;
      deps.emit({ type: 'phase', phase: 'rollback', status: 'failed', message: error.message });
      deps.emit({ type: 'log', level: 'warn', message: `not rolled back to ${candidate.version}: ${error.message}${error.hint ? ` (${error.hint})` : ''}` });
      passedOver.push(`${candidate.version}: ${error.message}`);
      if (error instanceof ApprovalError || error instanceof InterruptedError) break;
      continue;
    }
    attempts.push(attempt.record);
    options.onAttempt?.(attempt.record);
    deps.emit({ type: 'phase', phase: 'rollback', status: attempt.failure ? 'failed' : 'done', message: attempt.failure?.message });
    if (attempt.stopped) {
      // The attempt before, of this same run, failed for that cause too: it says nothing against its version either.
      const earlier = attempts[attempts.length - 2];
      if (earlier && earlier === after) await acquit(earlier, attempt.record, deps);
      return { attempts, passedOver, stopped: attempt.stopped };
    }
    if (!attempt.failure) break;
    if (attempt.failure.exitCode === ExitCode.interrupted || attempt.failure.exitCode === ExitCode.approvalNeeded) break;
    if (attempt.record.status === 'failed') after = attempt.record;
  }
  return { attempts, passedOver };
}

/** A rollback attempt marked bad, which the policy found failed for the cause `stoppedAt` failed for: unmarked. */
async function acquit(record: DeployRecord, stoppedAt: DeployRecord, deps: EngineDeps): Promise<void> {
  if (!record.bad) return;
  record.bad = false;
  record.notes = [...(record.notes ?? []), `${stoppedAt.version} failed the same way after it: the cause is not the version`];
  await deps.history.write(record).catch((e: Error) => deps.emit({ type: 'log', level: 'warn', message: `${e.message}: record ${record.id} still marks ${record.version} bad` }));
}

/** A manual rollback: the first candidate, falling back to older good ones when it fails (each read when its turn comes). */
export async function rollbackTarget(
  candidates: Candidates,
  request: Omit<DeployRequest, 'target' | 'action'> & { environment: EnvironmentConfig; app: string; env: string },
  deps: EngineDeps,
): Promise<DeployOutcome> {
  const { first, all } = await firstCandidate(candidates);
  if (!first) throw new UsageError(`no earlier good deployment of ${request.app} in ${request.env} to roll back to`, `see the records with: deployctl history ${request.app} -e ${request.env}`);
  const target = targetFromRecord(first, request.environment, deps.processEnv);
  const base: DeployRequest = { ...request, target, action: 'rollback', rollbackOf: first.id };
  if (request.dryRun) return deployTarget(base, deps);
  const executor = await deps.getExecutor(target.config.type);
  return onTarget(base, deps, executor, async (context) => {
    const { attempts, stopped } = await rollBackThrough(all, base, context.deps, { onAttempt: (r) => context.finished.push(r) });
    const landed = attempts.find((r) => r.status === 'succeeded');
    const record = landed ?? attempts[attempts.length - 1];
    // Ctrl-C, or the lock lost, after the lock was taken, before the first attempt started.
    if (!record) {
      const lost = lockLost(context.deps.signal);
      const what = describeAction({ ...first, action: 'rollback' });
      if (lost) throw new InterruptedError(`${lost.message}; ${what} did not start: nothing was run`, afterLockLost(first));
      throw new InterruptedError(`${what} was interrupted before it started: nothing was run`);
    }
    return { exitCode: landed ? ExitCode.ok : failureExitCode(record), record, rollbacks: attempts.filter((r) => r !== record), ...(stopped ? { stopped } : {}) };
  });
}

/** Every event of a target's work with its secrets masked: labels, notes, messages, argv. */
function maskingEmit(emit: EventSink, secretValues: string[]): EventSink {
  return secretValues.length ? (event) => emit(maskDeep(event, secretValues)) : emit;
}
