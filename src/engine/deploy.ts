// The deployment lifecycle: approval, lock, record, pre_deploy hooks, the executor's commands, verify,
// health check, post_deploy hooks, automatic rollback, and what happens after (notifications, audit).
// Everything it touches comes in through EngineDeps, so tests hand in fakes. A state folder that
// refuses a write (a full disk) stops it with a StateWriteError saying whether anything ran (unsaved.ts).
import type { AppConfig, EnvironmentConfig, HealthCheckConfig } from '../config/types.js';
import { ApprovalError, DeployctlError, ExitCode, InterruptedError, StateWriteError, type ExitCodeValue } from '../errors.js';
import { failureReason, type Artifacts, type Command, type Executor, type Plan, type PlanInput, type RunResult, type Runner } from '../executors/types.js';
import type { CiInfo, DeployRecord, HealthResult, HistoryStore, IndexEntry, LockHandle, LockInfo, LockManager, RecordAction, RecordStatus, StepRecord } from '../state/types.js';
import type { EventSink } from './events.js';
import type { Identity } from './identity.js';
import { maskText, sealArtifacts, sealSecrets, secretsByName, unsealRecord } from './secrets.js';
import { goodOnes, inFlight, RECENT_RECORDS, runningRecord } from '../state/good.js';
import { afterFailures, describeAction, failureExitCode, notRecorded, notStarted, notStartedIfRefused } from './unsaved.js';
import { formatDuration } from '../config/duration.js';

export interface EngineDeps {
  history: HistoryStore;
  locks: LockManager;
  createRunner(options: { dryRun: boolean }): Runner;
  getExecutor(type: AppConfig['type']): Promise<Executor>;
  /** Hooks are planned the same way for every type. */
  planHooks(input: PlanInput, phase: 'pre_deploy' | 'post_deploy'): Command[];
  runHealthCheck(
    check: HealthCheckConfig,
    options: { onAttempt: (a: import('../state/types.js').HealthAttempt) => void; signal?: AbortSignal; runner: Runner; cwd?: string },
  ): Promise<HealthResult>;
  /** Resolve tool names to executables; throws ToolMissingError. */
  resolveTools(names: string[], overrides: Record<string, string>): Record<string, string>;
  newRecordId(app: string, env: string, at: Date): string;
  /** Ask a yes/no question; only called when interactive. */
  confirm(question: string): Promise<boolean>;
  emit: EventSink;
  now(): Date;
  identity: Identity;
  ci?: CiInfo;
  commandLine: string;
  /** Called once per finished record: notifications, audit log, CI summary. Must not throw. */
  afterRecord?(record: DeployRecord, context: { previousVersion?: string; secretValues: string[]; notifications?: unknown }): Promise<void>;
  signal?: AbortSignal;
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
}

export interface PlannedStep {
  phase: string;
  label: string;
  argv: string[];
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
}

interface Attempt {
  record: DeployRecord;
  failure?: { exitCode: number; message: string };
  /** The deploy succeeded but a post_deploy hook failed. */
  hookFailed?: boolean;
  /** Stopped before changing anything (a failed pre-deploy check): no rollback needed. */
  untouched?: boolean;
}

const FAILURE_CODES: Record<number, string> = {
  [ExitCode.deployFailed]: 'deploy_failed',
  [ExitCode.healthFailed]: 'health_failed',
  [ExitCode.approvalNeeded]: 'approval_needed',
  [ExitCode.interrupted]: 'interrupted',
};

export async function deployTarget(request: DeployRequest, deps: EngineDeps): Promise<DeployOutcome> {
  const { target } = request;
  const executor = await deps.getExecutor(target.config.type);
  executor.preflight?.(target.config, target.artifacts);
  // ansible's check: true changes nothing: it runs as a dry run, and is not recorded as a deploy.
  if (request.dryRun || executor.checkOnly?.(target.config)) return dryRun({ ...request, dryRun: true }, executor, deps);

  const tools = deps.resolveTools(executor.tools(target.config, request.tools), request.tools);
  if (Object.keys(tools).length) deps.emit({ type: 'log', level: 'debug', message: `tools: ${Object.entries(tools).map(([k, v]) => `${k}=${v}`).join(' ')}` });
  return withTargetLock(request, deps, async (finished) => {
    const attempt = await execute({ ...request, tools }, executor, deps);
    finished.push(attempt.record);
    let rollbacks: DeployRecord[] = [];
    let exitCode: number = ExitCode.ok;
    if (attempt.failure) {
      exitCode = attempt.failure.exitCode;
      const canRollBack =
        request.autoRollback && !attempt.untouched && exitCode !== ExitCode.interrupted && exitCode !== ExitCode.approvalNeeded && !deps.signal?.aborted;
      if (canRollBack) {
        rollbacks = await rollBackAfterFailure(attempt.record, exitCode, request, deps, finished);
      } else if (request.autoRollback === false && exitCode !== ExitCode.interrupted) {
        deps.emit({ type: 'log', level: 'info', message: 'automatic rollback is off (--no-rollback or rollback.auto: false)' });
      }
    }
    if (attempt.hookFailed) exitCode = ExitCode.deployFailed;
    return { exitCode, record: attempt.record, rollbacks };
  });
}

/**
 * What every deployment of a target does around its work, deploy and rollback alike: approval for a
 * protected environment, the lock, records left in flight settled, the version running before,
 * retention, and `afterRecord` (notifications, audit) for each record the work `finished`, even when
 * it throws.
 */
async function withTargetLock(
  request: DeployRequest,
  deps: EngineDeps,
  work: (finished: DeployRecord[]) => Promise<Omit<DeployOutcome, 'previousVersion'>>,
): Promise<DeployOutcome> {
  const { target } = request;
  await requireApproval(request, deps);
  const what = describeAction({ ...target, action: request.action });
  const lock = await acquireLock(target, request.waitLockMs, deps, what);
  const finished: DeployRecord[] = [];
  let previous: IndexEntry | undefined;
  try {
    await settleOrphans(deps, target.app, target.env, what);
    previous = await currentRecord(deps.history, target.app, target.env);
    const outcome = await work(finished);
    await applyRetention(target, deps);
    return { ...outcome, previousVersion: previous?.version };
  } catch (error) {
    // What ran but could not be recorded is still told to the team (notifications, the audit log if it can).
    if (error instanceof StateWriteError && error.record) finished.push(error.record);
    throw error;
  } finally {
    await releaseLock(lock, deps);
    for (const record of finished) {
      await deps.afterRecord?.(record, { previousVersion: previous?.version, secretValues: target.secretValues, notifications: target.config.notifications });
    }
  }
}

/**
 * Under the lock no other deployment of this target runs, so a record still pending or running here
 * belongs to a deployctl that died or lost its lock (killed on another host, pid reused): say so.
 */
async function settleOrphans(deps: EngineDeps, app: string, env: string, what: string): Promise<void> {
  const settled = await deps.history
    .interruptInFlight(
      app,
      env,
      (r) =>
        `deployctl (pid ${r.pid} on ${r.host}) stopped before this deployment finished, or could not save how it ended: its lock was free or stale when the next deployment of ${app} in ${env} started`,
    )
    .catch(notStartedIfRefused(what));
  for (const r of settled) {
    deps.emit({ type: 'log', level: 'warn', message: `record ${r.id} (${r.action} ${r.version} by ${r.user}@${r.host}, pid ${r.pid}) never finished: marked interrupted` });
  }
}

/** `retention.keep`: after each deployment, whatever its outcome, old records of the target go. */
async function applyRetention(target: Target, deps: EngineDeps): Promise<void> {
  const keep = target.config.retention?.keep;
  if (!keep) return;
  await deps.history.prune({ keep, app: target.app, env: target.env }).catch((e: Error) => {
    deps.emit({ type: 'log', level: 'warn', message: `retention clean-up failed: ${e.message}` });
  });
}

/**
 * The lock of one target, shown as a phase; a stale one is taken over with a warning naming the old
 * holder. Others read its command line ("Lock held by ..."): secrets in it are masked, as in the record.
 */
async function acquireLock(target: Target, waitMs: number, deps: EngineDeps, what: string): Promise<LockHandle> {
  const { app, env } = target;
  deps.emit({ type: 'phase', phase: 'lock', status: 'start', message: waitMs > 0 ? `waiting up to ${formatDuration(waitMs)} for ${app} in ${env}` : undefined });
  const lock = await deps.locks
    .acquire(app, env, {
      command: maskText(deps.commandLine, target.secretValues),
      waitMs,
      signal: deps.signal,
      onStale: (old: LockInfo) =>
        deps.emit({
          type: 'log',
          level: 'warn',
          message: `took over a stale lock of ${old.user}@${old.host} (pid ${old.pid}, since ${old.startedAt}, ${old.command}): that process is gone`,
        }),
    })
    .catch(notStartedIfRefused(what));
  deps.emit({ type: 'phase', phase: 'lock', status: 'done', message: `${app} in ${env}` });
  return lock;
}

/** Release the lock; one the disk will not let go is left stale, and the warning says how it goes. */
async function releaseLock(lock: LockHandle, deps: EngineDeps): Promise<void> {
  await lock.release().catch((error: Error) => {
    deps.emit({ type: 'log', level: 'warn', message: `${error.message}${error instanceof StateWriteError ? `: ${error.hint}` : ''}` });
  });
}

async function requireApproval(request: DeployRequest, deps: EngineDeps): Promise<void> {
  const { target } = request;
  if (!target.environment.protected || request.dryRun || request.approved) return;
  const what =
    request.action === 'promote' && request.from
      ? `promote ${target.app} ${target.version} from ${request.from.env} to ${target.env}`
      : `${request.action} ${target.app} ${target.version} to ${target.env}`;
  if (!request.interactive) {
    throw new ApprovalError(
      `${target.env} is protected: ${what} needs approval`,
      'pass --yes to approve (no prompt is shown without a terminal or when CI is set)',
    );
  }
  const ok = await deps.confirm(`${target.env} is protected. ${what[0]!.toUpperCase()}${what.slice(1)}?`);
  if (!ok) throw new ApprovalError(`${what}: not approved`, 'answer y to approve, or pass --yes');
}

/** What runs there now. */
async function currentRecord(history: HistoryStore, app: string, env: string): Promise<IndexEntry | undefined> {
  return runningRecord(await history.entries({ app, env, limit: RECENT_RECORDS }));
}

function planInput(request: DeployRequest, recordId: string, dryRun: boolean): PlanInput {
  const { target } = request;
  const env: Record<string, string> = {
    ...target.config.variables,
    DEPLOY_APP: target.app,
    DEPLOY_ENV: target.env,
    DEPLOY_VERSION: target.version,
    DEPLOY_RECORD_ID: recordId,
  };
  return {
    app: target.app,
    env: target.env,
    version: target.version,
    recordId,
    config: target.config,
    childEnv: env,
    tools: request.tools,
    artifacts: target.artifacts,
    dryRun,
    action: request.action,
  };
}

/** The executor's read-only preparation: the plan input with its artifacts and what to tell about it, or why it failed. */
async function prepare(executor: Executor, input: PlanInput, runner: Runner): Promise<{ input: PlanInput; notes: string[] } | string> {
  const result = await executor.prepare?.(input, runner);
  if (!result) return { input, notes: [] };
  if (!result.ok) return result.message;
  return { input: { ...input, artifacts: { ...input.artifacts, ...result.artifacts } }, notes: [result.message] };
}

function describe(command: Command): PlannedStep {
  return {
    phase: command.phase,
    label: command.label,
    argv: command.shell ? [command.file] : [command.file, ...command.args],
    shell: Boolean(command.shell),
    cwd: command.cwd,
    mutates: command.mutates,
  };
}

async function dryRun(request: DeployRequest, executor: Executor, deps: EngineDeps): Promise<DeployOutcome> {
  const { target } = request;
  const missing: string[] = [];
  for (const tool of executor.tools(target.config, request.tools)) {
    try {
      deps.resolveTools([tool], request.tools);
    } catch {
      missing.push(tool);
    }
  }
  let input = planInput({ ...request, tools: request.tools }, 'dry-run', true);
  const runner = deps.createRunner({ dryRun: true });
  const record = newRecord(request, 'dry-run', deps);
  deps.emit({ type: 'started', app: target.app, env: target.env, version: target.version, action: request.action, recordId: record.id, dryRun: true, from: request.from?.env });
  // The executor's read-only preparation (kubectl kustomize) runs when its tool is there.
  const ready = missing.length ? { input, notes: [] } : await prepare(executor, input, runner);
  if (typeof ready === 'string') {
    record.status = 'failed';
    record.error = { code: 'deploy_failed', message: ready };
    finish(record, deps);
    deps.emit({ type: 'log', level: 'error', message: ready });
    deps.emit({ type: 'finished', record });
    return { exitCode: ExitCode.deployFailed, record, rollbacks: [], dryRun: { steps: [], notes: [] } };
  }
  input = ready.input;
  const plan = await executor.plan(input);
  const commands = [...deps.planHooks(input, 'pre_deploy'), ...plan.commands, ...deps.planHooks(input, 'post_deploy')];
  const notes = [...ready.notes, ...plan.notes];
  const preview = plan.preview === undefined ? undefined : maskText(plan.preview, target.secretValues);
  if (preview !== undefined) deps.emit({ type: 'log', level: 'info', message: preview });
  if (missing.length) notes.push(`${missing.join(', ')} not found on PATH: a real deploy would stop here`);
  for (const note of notes) deps.emit({ type: 'log', level: 'info', message: note });
  let failed = false;
  try {
    for (const [index, command] of commands.entries()) {
      // Read-only steps (terraform plan) still run in a dry run when their tool is there; the rest is shown.
      const canRun = !command.mutates && missing.length === 0;
      const step = await runStep(index, canRun ? command : { ...command, mutates: true }, runner, target.secretValues, deps, true);
      record.steps.push(step);
      if (!step.skipped && step.exitCode !== 0 && !command.informational) {
        failed = true;
        break;
      }
    }
  } finally {
    await executor.cleanup?.(input).catch(() => undefined);
  }
  record.status = failed ? 'failed' : 'succeeded';
  finish(record, deps);
  deps.emit({ type: 'finished', record });
  return {
    exitCode: failed ? ExitCode.deployFailed : ExitCode.ok,
    record,
    rollbacks: [],
    dryRun: { steps: commands.map(describe), notes, ...(preview !== undefined ? { preview } : {}), ...(plan.unverified && !failed ? { unverified: plan.unverified } : {}) },
  };
}

/** The secrets of a target, by name: what a record keeps as ***. */
function secretsOf(target: Target): Map<string, string> {
  return secretsByName(target.config.secrets ?? [], target.config.variables ?? {});
}

function newRecord(request: DeployRequest, id: string, deps: EngineDeps): DeployRecord {
  const { target } = request;
  const { sealed, refs } = sealSecrets(target.config, secretsOf(target));
  const record: DeployRecord = {
    schemaVersion: 1,
    id,
    app: target.app,
    env: target.env,
    version: target.version,
    action: request.action,
    status: 'pending',
    startedAt: deps.now().toISOString(),
    user: deps.identity.user,
    host: deps.identity.host,
    pid: deps.identity.pid,
    command: maskText(deps.commandLine, target.secretValues),
    config: sealed as unknown as Record<string, unknown>,
    artifacts: {},
    steps: [],
  };
  if (refs.length) record.secretRefs = refs;
  if (deps.ci) record.ci = deps.ci;
  if (request.rollbackOf) record.rollbackOf = request.rollbackOf;
  if (request.triggeredBy) record.triggeredBy = request.triggeredBy;
  if (request.from) record.from = request.from;
  return record;
}

function finish(record: DeployRecord, deps: EngineDeps): void {
  const end = deps.now();
  record.finishedAt = end.toISOString();
  record.durationMs = Math.max(0, end.getTime() - Date.parse(record.startedAt));
}

async function runStep(
  index: number,
  command: Command,
  runner: Runner,
  secretValues: string[],
  deps: EngineDeps,
  dryRun: boolean,
): Promise<StepRecord & { result?: RunResult }> {
  const argv = (command.shell ? [command.file] : [command.file, ...command.args]).map((a) => maskText(a, secretValues));
  deps.emit({ type: 'step-start', index, label: command.label, command: argv, shell: command.shell, dryRun: dryRun && command.mutates });
  deps.emit({
    type: 'log',
    level: 'debug',
    message: `in ${command.cwd}, time limit ${formatDuration(command.timeoutMs)}, environment adds ${Object.keys(command.env).sort().join(' ') || 'nothing'}`,
  });
  const result = await runner.run(command, (line, stream) =>
    deps.emit({ type: 'output', index, line: maskText(line, secretValues), stream }),
  );
  const step: StepRecord = {
    label: command.label,
    phase: command.phase,
    command: argv,
    cwd: command.cwd,
    exitCode: result.exitCode,
    durationMs: Math.round(result.durationMs),
  };
  if (command.shell) step.shell = true;
  if (result.timedOut) step.timedOut = true;
  if (result.interrupted) step.interrupted = true;
  if (result.skipped) step.skipped = true;
  if (result.spawnError) step.spawnError = maskText(result.spawnError, secretValues);
  if (result.output) step.output = maskText(result.output, secretValues);
  deps.emit({ type: 'step-end', index, step });
  return Object.assign(step, { result });
}

/** A step as the record keeps it (secrets masked), and why it failed. */
function stepFailure(step: StepRecord): string {
  return `${step.label}: ${failureReason(step)}`;
}

/**
 * One pass of the lifecycle for one record: no lock taken here, no rollback decided here. The
 * read-only work comes first (the executor's preparation, its plan, the approval the plan needs): a
 * config error found there, a refused approval or Ctrl-C leaves no record, since nothing ran.
 */
async function execute(request: DeployRequest, executor: Executor, deps: EngineDeps): Promise<Attempt> {
  const { target } = request;
  const id = deps.newRecordId(target.app, target.env, deps.now());
  const runner = deps.createRunner({ dryRun: false });
  const onAbort = () => void runner.stopAll('SIGTERM');
  deps.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const prepared = await prepare(executor, planInput(request, id, false), runner);
    const planned = typeof prepared === 'string' ? prepared : { ...prepared, plan: await executor.plan(prepared.input) };
    if (typeof planned !== 'string') requireStepApproval(request, planned.plan);
    if (deps.signal?.aborted) {
      throw new InterruptedError(`${describeAction({ ...target, action: request.action })} was interrupted before anything ran: nothing was changed`);
    }
    return await runPlanned(request, executor, deps, id, runner, planned);
  } finally {
    deps.signal?.removeEventListener('abort', onAbort);
    await executor.cleanup?.(planInput(request, id, false)).catch(() => undefined);
  }
}

/**
 * Without a terminal (or CI) and without --yes, a step that needs approval (terraform apply) is refused
 * before anything runs, not halfway; in a terminal it is asked for at that step, after the plan is shown.
 */
function requireStepApproval(request: DeployRequest, plan: Plan): void {
  if (request.approved || request.interactive) return;
  const gated = plan.commands.find((c) => c.needsApproval);
  if (!gated) return;
  throw new ApprovalError(
    `${gated.label} for ${request.target.app} in ${request.target.env} needs approval`,
    'pass --yes, or set auto_approve: true for this app and environment (no prompt is shown without a terminal or when CI is set)',
  );
}

/** The planned deployment, recorded: pending, running, and how it ended (or why its preparation failed). */
async function runPlanned(
  request: DeployRequest,
  executor: Executor,
  deps: EngineDeps,
  id: string,
  runner: Runner,
  planned: { input: PlanInput; notes: string[]; plan: Plan } | string,
): Promise<Attempt> {
  const { target } = request;
  const record = newRecord(request, id, deps);
  /** The status the history holds for this record. */
  let saved: RecordStatus = record.status;
  const save = async (refused: (error: StateWriteError) => StateWriteError) => {
    try {
      await deps.history.write(record);
      saved = record.status;
    } catch (error) {
      throw error instanceof StateWriteError ? refused(error) : error;
    }
  };
  /** Before anything runs: a write the disk refuses stops it here, with nothing run (exit 2). */
  const saveBeforeRun = () => save((error) => notStarted(describeAction(record), error));
  /** How it ended: a write the disk refuses now says what ran and how it ended (exit 3 or its own code). */
  const saveEnd = (failure?: { exitCode: number; message: string }, untouched = false) =>
    save((error) => {
      const wouldRollBack =
        request.autoRollback && request.action !== 'rollback' && (failure?.exitCode === ExitCode.deployFailed || failure?.exitCode === ExitCode.healthFailed);
      return notRecorded(record, { failure, untouched, saved, wouldRollBack }, error);
    });
  await saveBeforeRun();
  deps.emit({ type: 'started', app: target.app, env: target.env, version: target.version, action: request.action, recordId: id, dryRun: false, from: request.from?.env });

  const fail = async (exitCode: number, message: string, untouched = false): Promise<Attempt> => {
    record.status = exitCode === ExitCode.interrupted ? 'interrupted' : 'failed';
    record.error = { code: FAILURE_CODES[exitCode] ?? 'failed', message: maskText(message, target.secretValues) };
    if (exitCode === ExitCode.deployFailed || exitCode === ExitCode.healthFailed) record.bad = !untouched;
    finish(record, deps);
    const failure = { exitCode, message: record.error.message };
    await saveEnd(failure, untouched);
    deps.emit({ type: 'log', level: 'error', message: record.error.message });
    deps.emit({ type: 'phase', phase: 'record', status: 'done', message: `saved ${record.id} (${record.status})` });
    deps.emit({ type: 'finished', record });
    return { record, failure, untouched };
  };

  /** What the executor says to keep (rendered manifests, outputs), kept in the record with its secrets sealed. */
  let artifacts: Artifacts = {};
  const secrets = secretsOf(target);
  const keepArtifacts = (more: Artifacts) => {
    artifacts = { ...artifacts, ...more };
    const { sealed, refs } = sealArtifacts(artifacts, secrets, record.secretRefs);
    record.artifacts = sealed;
    if (refs.length || record.secretRefs) record.secretRefs = refs;
  };

  /** Stopped before changing anything: this says nothing against the version, and needs no rollback. */
  const failUntouched = (exitCode: number, message: string): Promise<Attempt> => fail(exitCode, message, true);

  /** A health check run now, each attempt shown as it happens, secrets masked. */
  const checkNow = async (check: HealthCheckConfig): Promise<HealthResult> => {
    const mask = (text: string) => maskText(text, target.secretValues);
    const result = await deps.runHealthCheck(check, {
      runner,
      cwd: target.config.path,
      signal: deps.signal,
      onAttempt: (attempt) => deps.emit({ type: 'health-attempt', attempt: { ...attempt, message: mask(attempt.message) } }),
    });
    return { ...result, message: mask(result.message), attempts: result.attempts.map((a) => ({ ...a, message: mask(a.message) })) };
  };

  try {
    if (typeof planned === 'string') return await failUntouched(ExitCode.deployFailed, planned);
    const { input, plan, notes } = planned;
    keepArtifacts(plan.artifacts);
    for (const note of [...notes, ...plan.notes]) deps.emit({ type: 'log', level: 'info', message: note });
    // pending → running: from here on, commands run and checks probe.
    record.status = 'running';
    await saveBeforeRun();
    const preCheck = target.config.pre_check;
    if (preCheck) {
      deps.emit({ type: 'phase', phase: 'pre_check', status: 'start' });
      const result = await checkNow(preCheck);
      record.preCheck = result;
      if (deps.signal?.aborted) return fail(ExitCode.interrupted, 'interrupted during the pre-deploy check');
      if (!result.ok) {
        deps.emit({ type: 'phase', phase: 'pre_check', status: 'failed', message: result.message });
        return failUntouched(ExitCode.healthFailed, `pre-deploy check failed, nothing was changed: ${result.message}`);
      }
      deps.emit({ type: 'phase', phase: 'pre_check', status: 'done', message: result.message });
    }
    const phases: Array<[string, Command[]]> = [
      ['pre_deploy', deps.planHooks(input, 'pre_deploy')],
      ['deploy', plan.commands],
    ];
    const results: RunResult[] = [];
    const keepOutput = () => {
      if (executor.collect) keepArtifacts(executor.collect(results));
    };
    let index = 0;
    for (const [phase, commands] of phases) {
      if (commands.length === 0) continue;
      deps.emit({ type: 'phase', phase, status: 'start' });
      for (const command of commands) {
        if (command.needsApproval && !request.approved) {
          const question = `Apply the plan above to ${target.app} in ${target.env}?`;
          if (!request.interactive || !(await deps.confirm(question))) {
            return fail(
              ExitCode.approvalNeeded,
              `${command.label} needs approval: pass --yes, set auto_approve: true, or answer y in a terminal`,
            );
          }
        }
        const step = await runStep(index++, command, runner, target.secretValues, deps, false);
        record.steps.push(stripResult(step));
        results.push(step.result!);
        if (deps.signal?.aborted || step.interrupted) {
          keepOutput();
          return fail(ExitCode.interrupted, `interrupted during ${command.label}`);
        }
        if (step.exitCode !== 0) {
          keepOutput();
          deps.emit({ type: 'phase', phase, status: 'failed' });
          return fail(ExitCode.deployFailed, stepFailure(step));
        }
      }
      deps.emit({ type: 'phase', phase, status: 'done' });
    }
    keepOutput();

    let hookEnv: Record<string, string> | undefined;
    if (executor.verify) {
      deps.emit({ type: 'phase', phase: 'verify', status: 'start' });
      const verified = await executor.verify(input, runner, results);
      if (verified.artifacts) keepArtifacts(verified.artifacts);
      hookEnv = verified.env;
      if (deps.signal?.aborted) return fail(ExitCode.interrupted, 'interrupted during verify');
      if (!verified.ok) {
        deps.emit({ type: 'phase', phase: 'verify', status: 'failed', message: verified.message });
        return fail(ExitCode.deployFailed, `verify: ${verified.message}`);
      }
      deps.emit({ type: 'phase', phase: 'verify', status: 'done', message: verified.message });
    }

    const check = target.config.health_check;
    if (check) {
      deps.emit({ type: 'phase', phase: 'health', status: 'start' });
      const health = await checkNow(check);
      record.health = health;
      if (deps.signal?.aborted) return fail(ExitCode.interrupted, 'interrupted during the health check');
      if (!health.ok) {
        deps.emit({ type: 'phase', phase: 'health', status: 'failed', message: record.health.message });
        return fail(ExitCode.healthFailed, `health check failed: ${record.health.message}`);
      }
      deps.emit({ type: 'phase', phase: 'health', status: 'done', message: record.health.message });
    }
    record.healthy = true;
    record.status = 'succeeded';

    const post = deps.planHooks(hookEnv ? { ...input, childEnv: { ...input.childEnv, ...hookEnv } } : input, 'post_deploy');
    let hookFailed = false;
    if (post.length) {
      deps.emit({ type: 'phase', phase: 'post_deploy', status: 'start' });
      for (const command of post) {
        const step = await runStep(index++, command, runner, target.secretValues, deps, false);
        record.steps.push(stripResult(step));
        if (step.exitCode !== 0) {
          // The version is deployed and healthy: the record stays succeeded, the exit code says the hook failed.
          record.notes = [...(record.notes ?? []), `post_deploy hook failed: ${stepFailure(step)}`];
          deps.emit({ type: 'phase', phase: 'post_deploy', status: 'failed', message: stepFailure(step) });
          hookFailed = true;
          break;
        }
      }
      if (!hookFailed) deps.emit({ type: 'phase', phase: 'post_deploy', status: 'done' });
    }
    finish(record, deps);
    await saveEnd();
    deps.emit({ type: 'phase', phase: 'record', status: 'done', message: `saved ${record.id} (${record.status})` });
    deps.emit({ type: 'finished', record });
    return { record, hookFailed };
  } catch (error) {
    if (inFlight(record.status)) {
      // Stopped by the disk before anything ran, it ends as readers would settle it: interrupted, which
      // says nothing against the version.
      const refused = error instanceof StateWriteError;
      record.status = refused ? 'interrupted' : 'failed';
      record.error = { code: refused ? error.code : 'internal', message: error instanceof Error ? error.message : String(error) };
      finish(record, deps);
      await deps.history.write(record).catch(() => undefined);
    }
    throw error;
  }
}

function stripResult(step: StepRecord & { result?: RunResult }): StepRecord {
  const { result: _result, ...rest } = step;
  return rest;
}

/**
 * The good records of a target to roll back to, newest first (see goodOnes), without `skipVersions`:
 * chosen from the index, and only those read.
 */
export async function goodRecords(history: HistoryStore, app: string, env: string, skipVersions: Set<string>): Promise<DeployRecord[]> {
  return readRecords(history, goodOnes(await history.entries({ app, env, limit: RECENT_RECORDS }), skipVersions));
}

/** The records of index entries, in their order; one that cannot be read any more is left out (the store warns). */
export async function readRecords(history: HistoryStore, entries: readonly IndexEntry[]): Promise<DeployRecord[]> {
  const records = await Promise.all(entries.map((e) => history.get(e.id)));
  return records.filter((r): r is DeployRecord => r !== undefined);
}

/** Rebuild a target from a stored record, with the secrets of its config and artifacts taken from the environment again. */
export function targetFromRecord(record: DeployRecord, environment: EnvironmentConfig, env: NodeJS.ProcessEnv): Target {
  const { config, artifacts, values } = unsealRecord<AppConfig>(record, env);
  return { app: record.app, env: record.env, version: record.version, config, environment, secretValues: values, artifacts };
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
): Promise<DeployRecord[]> {
  const { target } = request;
  const candidates = await goodRecords(deps.history, target.app, target.env, new Set([failed.version]));
  let fallThrough: FallThrough;
  try {
    fallThrough = await rollBackThrough(candidates, request, deps, { triggeredBy: failed.id, onAttempt: (r) => finished.push(r) });
  } catch (error) {
    if (!(error instanceof StateWriteError)) throw error;
    // The deployment failed and is recorded so; the rollback was stopped by the disk: the exit code is the deployment's.
    throw afterFailures([failed], error, exitCode as ExitCodeValue, {
      prefix: 'automatic ',
      next: error.code === 'record_not_saved' ? undefined : `roll back with \`deployctl rollback ${target.app} -e ${target.env}\``,
    });
  }
  const { attempts, passedOver } = fallThrough;
  if (attempts.length === 0 && passedOver.length === 0) {
    deps.emit({ type: 'log', level: 'warn', message: `no earlier good version of ${target.app} in ${target.env} to roll back to` });
    return [];
  }
  const landed = attempts.find((r) => r.status === 'succeeded');
  if (landed) failed.status = 'rolled_back';
  if (attempts.length) failed.rolledBackBy = attempts.map((r) => r.id);
  failed.notes = [
    ...(failed.notes ?? []),
    ...passedOver.map((why) => `not rolled back to ${why}`),
    ...(landed ? [`rolled back to ${landed.version} (${landed.id})`] : attempts.length ? [`rollback failed: tried ${attempts.map((r) => r.version).join(', ')}`] : []),
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
  return attempts;
}

interface FallThrough {
  /** The rollback records, in the order tried. */
  attempts: DeployRecord[];
  /** Candidates that could not start, each as "1.0.0: why". */
  passedOver: string[];
}

/**
 * Try each candidate in turn until one deploys and passes its health check, up to rollback.max_attempts.
 * One that cannot start (a secret it needs no longer set, a tool gone, its stored config refused) is
 * passed over with a warning, for the next; approval not given, or Ctrl-C, ends the fall-through. A
 * manual rollback stopped so before its first attempt throws that error instead: nothing was run.
 */
export async function rollBackThrough(
  candidates: DeployRecord[],
  request: DeployRequest,
  deps: EngineDeps,
  options: { triggeredBy?: string; onAttempt?: (record: DeployRecord) => void } = {},
): Promise<FallThrough> {
  const { target } = request;
  const max = Math.max(1, target.config.rollback?.max_attempts ?? 3);
  const attempts: DeployRecord[] = [];
  const passedOver: string[] = [];
  for (const candidate of candidates.slice(0, max)) {
    if (deps.signal?.aborted) break;
    deps.emit({ type: 'phase', phase: 'rollback', status: 'start', message: `rolling back to ${candidate.version} (${candidate.id})` });
    let attempt: Attempt;
    try {
      const rollbackTarget = targetFromRecord(candidate, target.environment, deps.processEnv);
      const executor = await deps.getExecutor(rollbackTarget.config.type);
      const tools = deps.resolveTools(executor.tools(rollbackTarget.config, request.tools), request.tools);
      const rollbackRequest: DeployRequest = { ...request, target: rollbackTarget, action: 'rollback', rollbackOf: candidate.id, triggeredBy: options.triggeredBy, from: undefined, tools };
      attempt = await execute(rollbackRequest, executor, deps);
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
    if (!attempt.failure) break;
    if (attempt.failure.exitCode === ExitCode.interrupted || attempt.failure.exitCode === ExitCode.approvalNeeded) break;
  }
  return { attempts, passedOver };
}

/** A manual rollback: the first candidate, falling back to older good ones when it fails. */
export async function rollbackTarget(
  candidates: DeployRecord[],
  request: Omit<DeployRequest, 'target' | 'action'> & { environment: EnvironmentConfig; app: string; env: string },
  deps: EngineDeps,
): Promise<DeployOutcome> {
  const first = candidates[0]!;
  const target = targetFromRecord(first, request.environment, deps.processEnv);
  const base: DeployRequest = { ...request, target, action: 'rollback', rollbackOf: first.id };
  if (request.dryRun) return deployTarget(base, deps);
  return withTargetLock(base, deps, async (finished) => {
    const { attempts } = await rollBackThrough(candidates, base, deps, { onAttempt: (r) => finished.push(r) });
    const landed = attempts.find((r) => r.status === 'succeeded');
    const record = landed ?? attempts[attempts.length - 1];
    // Ctrl-C after the lock was taken, before the first attempt started.
    if (!record) throw new InterruptedError(`${describeAction({ ...first, action: 'rollback' })} was interrupted before it started: nothing was run`);
    return { exitCode: landed ? ExitCode.ok : failureExitCode(record), record, rollbacks: attempts.filter((r) => r !== record) };
  });
}
