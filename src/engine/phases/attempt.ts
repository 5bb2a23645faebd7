// The phases of one attempt, one record: what a deployment does to its target, and how it is recorded.
// Commands go through the attempt's runner, which in a dry run runs what only reads and shows the rest.
import { ApprovalError, ExitCode, InterruptedError, StateWriteError } from '../../errors.js';
import type { Command, Plan, PlanInput, Runner } from '../../executors/types.js';
import type { LockHandle } from '../../state/types.js';
import { inFlight } from '../../core/rollback-policy.js';
import type { DeployRequest } from '../deploy.js';
import type { AttemptContext, AttemptPhase, PhaseFailure } from '../lifecycle.js';
import { maskText } from '../secrets.js';
import { checkNow, FAILURE_CODES, finish, keepArtifacts, prepareInput, runStep, stepFailure, stripResult } from '../steps.js';
import { describeAction, notRecorded, notStarted } from '../unsaved.js';
import { lockLost, markLockLost, type LockLost } from '../lock-lost.js';

/**
 * Read-only work first: a config error found here, a refused approval or Ctrl-C leaves no record,
 * since nothing ran; a preparation that fails is recorded, with nothing changed.
 */
export const preparePhase: AttemptPhase = {
  scope: 'attempt',
  name: 'prepare',
  does: "the executor's read-only preparation (kubectl kustomize, docker ps, terraform workspace list), its plan and the hooks'; a step that needs approval is refused here when nobody can be asked",
  onFailure: 'untouched',
  dryRun: 'run',
  async run(context) {
    const { executor, deps, request } = context;
    const failure = await prepareAndPlan(
      context,
      (input) => executor.plan(input),
      (plan) => {
        context.commands.pre_deploy = deps.planHooks(context.input, 'pre_deploy');
        context.commands.deploy = plan.commands;
        context.commands.post_deploy = deps.planHooks(context.input, 'post_deploy');
        // Kept in the record (and so in --json) as well as shown when it starts.
        if (plan.warnings?.length) context.record.warnings = plan.warnings.map((w) => maskText(w, context.target.secretValues));
        return [...context.commands.pre_deploy, ...plan.commands, ...context.commands.post_deploy];
      },
    );
    if (failure) return failure;
    if (deps.signal?.aborted) {
      const lost = lockLost(deps.signal);
      const what = describeAction({ ...request.target, action: request.action });
      throw new InterruptedError(lost ? `${lost.message}; ${what} did not start: nothing was changed` : `${what} was interrupted before anything ran: nothing was changed`);
    }
  },
};

/**
 * The record opened: stored once, as running when commands are about to run (as pending when the
 * preparation failed: the record phase then stores how), and the deployment announced. One write is
 * enough for a kill -9 from here on: a record left in flight by a process that is gone is read, and
 * settled, as interrupted.
 */
export const startPhase: AttemptPhase = {
  scope: 'attempt',
  name: 'start',
  does: 'stores the record, as running (commands are about to run), and announces the deployment',
  onFailure: 'stop',
  dryRun: 'run',
  always: true,
  async run(context) {
    const { record, deps, request } = context;
    context.opened = true;
    // From here on, commands run and checks probe.
    if (!context.failure) record.status = 'running';
    await saveBeforeRun(context);
    deps.emit({ type: 'started', app: record.app, env: record.env, version: record.version, action: request.action, recordId: record.id, dryRun: context.dryRun, from: request.from?.env });
    if (context.failure) return;
    for (const note of context.notes) deps.emit({ type: 'log', level: 'info', message: note });
    for (const warning of record.warnings ?? []) deps.emit({ type: 'log', level: 'warn', message: warning });
  },
};

export const preCheckPhase: AttemptPhase = {
  scope: 'attempt',
  name: 'pre_check',
  does: '`pre_check`: is the target reachable at all, before any hook or command',
  onFailure: 'untouched',
  dryRun: 'skip',
  async run(context) {
    const check = context.target.config.pre_check;
    if (!check) return;
    return runCheck(
      context,
      { phase: 'pre_check', during: 'the pre-deploy check', exitCode: ExitCode.healthFailed, failed: 'pre-deploy check failed, nothing was changed' },
      () => checkNow(context, check),
      { keep: (result) => (context.record.preCheck = result) },
    );
  },
};

export const preDeployPhase: AttemptPhase = {
  scope: 'attempt',
  name: 'pre_deploy',
  does: 'the `pre_deploy` hooks (migrations...)',
  onFailure: 'roll-back',
  dryRun: 'run',
  run: (context) => runCommands(context, 'pre_deploy', { keep: true }),
};

export const deployPhase: AttemptPhase = {
  scope: 'attempt',
  name: 'deploy',
  does: "the executor's commands (compose up, kubectl apply, terraform apply...); a step that needs approval is asked for in a terminal",
  onFailure: 'roll-back',
  dryRun: 'run',
  async run(context) {
    const failure = await runCommands(context, 'deploy', { keep: true });
    if (!failure) collect(context);
    return failure;
  },
};

export const verifyPhase: AttemptPhase = {
  scope: 'attempt',
  name: 'verify',
  does: "the executor's own check that what it deployed runs (services up, rollout complete), and what to keep of it",
  onFailure: 'roll-back',
  dryRun: 'skip',
  async run(context) {
    const { executor } = context;
    if (!executor.verify) return;
    return runCheck(context, VERIFY, () => executor.verify!(context.input, context.runner, context.results), {
      keep: (verified) => {
        if (verified.artifacts) keepArtifacts(context, verified.artifacts);
      },
      // What verify found (terraform's outputs) reaches the post_deploy hooks through their environment.
      passed: (verified) => {
        if (verified.env) for (const hook of context.commands.post_deploy ?? []) hook.env = { ...hook.env, ...verified.env };
      },
    });
  },
};

export const healthPhase: AttemptPhase = {
  scope: 'attempt',
  name: 'health',
  does: '`health_check`, with retries until its deadline; passing it makes the record succeeded and healthy',
  onFailure: 'roll-back',
  dryRun: 'skip',
  async run(context) {
    const { record } = context;
    const check = context.target.config.health_check;
    if (check) {
      const failure = await runCheck(
        context,
        { phase: 'health', during: 'the health check', exitCode: ExitCode.healthFailed, failed: 'health check failed' },
        () => checkNow(context, check),
        { keep: (health) => (record.health = health) },
      );
      if (failure) return failure;
    }
    record.healthy = true;
    record.status = 'succeeded';
  },
};

export const postDeployPhase: AttemptPhase = {
  scope: 'attempt',
  name: 'post_deploy',
  does: 'the `post_deploy` hooks; the version is deployed and healthy, so a failure leaves the record succeeded and exits 3',
  onFailure: 'warn',
  dryRun: 'run',
  async run(context) {
    const failure = await runCommands(context, 'post_deploy', { keep: false, say: true });
    if (failure) return { ...failure, message: `post_deploy hook failed: ${failure.message}` };
  },
};

/**
 * How it ended, stored; then told (the error, the record saved, the finished event). Stored only while
 * the lock is still held, asked of the state as it is written (on PostgreSQL in the same statement):
 * a lock found lost then, as one lost before, ends the record interrupted (lock_lost), exit 130.
 */
export const recordPhase: AttemptPhase = {
  scope: 'attempt',
  name: 'record',
  does: 'stores how the deployment ended: succeeded, failed (marked bad when it changed something), or interrupted; only while the lock is still held, else as a lost lock',
  onFailure: 'stop',
  dryRun: 'run',
  always: true,
  async run(context) {
    const { record, deps } = context;
    const lostBefore = context.dryRun ? undefined : lockLost(deps.signal);
    const heldBy = context.dryRun || lostBefore ? undefined : deps.heldLock;
    const asItWas = heldBy && { record: structuredClone(record), failure: context.failure, warnings: context.warnings };
    let stored = await endRecord(context, lostBefore, heldBy);
    if (stored === 'lost' && asItWas) {
      // The lock went in the last moment (unlock --force, the holder row gone): nothing was written.
      // The record is decided again from how it stood, as a lost lock, and written so.
      for (const key of Object.keys(record)) delete (record as unknown as Record<string, unknown>)[key];
      Object.assign(record, asItWas.record);
      Object.assign(context, { failure: asItWas.failure, warnings: asItWas.warnings, stopped: undefined });
      stored = await endRecord(context, lockLost(deps.signal), undefined);
    }
    if (context.stopped) deps.emit({ type: 'log', level: 'error', message: context.stopped });
    if (record.error && context.failure) deps.emit({ type: 'log', level: 'error', message: record.error.message });
    if (stored === true) deps.emit({ type: 'phase', phase: 'record', status: 'done', message: `saved ${record.id} (${record.status})` });
    deps.emit({ type: 'finished', record });
  },
};

/**
 * Decide how the attempt ended (`lost`: its lock was lost) and store it, `heldBy` that lock when given.
 * Whether it was stored; `lost` when the store found the lock lost as it wrote (nothing written).
 */
async function endRecord(context: AttemptContext, lost: LockLost | undefined, heldBy: LockHandle | undefined): Promise<boolean | 'lost'> {
  const { record, failure, target } = context;
  if (lost) {
    // Another deployment may run there now: however the commands ended, this one cannot say how the target did.
    markLockLost(record, lost, { interrupted: failure?.exitCode === ExitCode.interrupted || context.warnings.length > 0, message: failure?.message ?? context.warnings[0]?.message });
    record.error!.message = maskText(record.error!.message, target.secretValues);
    context.failure = { exitCode: ExitCode.interrupted, message: record.error!.message, untouched: failure?.untouched ?? false };
    context.warnings = [];
  } else if (failure) {
    record.status = failure.exitCode === ExitCode.interrupted ? 'interrupted' : 'failed';
    record.error = { code: FAILURE_CODES[failure.exitCode] ?? 'failed', message: maskText(failure.message, target.secretValues) };
    if (failure.exitCode === ExitCode.deployFailed || failure.exitCode === ExitCode.healthFailed) record.bad = !failure.untouched;
    askRollbackPolicy(context);
  } else if (inFlight(record.status)) {
    record.status = 'succeeded';
  }
  finish(record, context.deps);
  return saveEnd(context, heldBy);
}

/**
 * A failed rollback attempt: the request's rollback policy says whether the rollbacks stop here (it
 * failed the way the failure before it did). Then the record is not marked bad, and says why.
 */
function askRollbackPolicy(context: AttemptContext): void {
  const { request, record } = context;
  if (request.action !== 'rollback' || record.status !== 'failed' || !request.after || !request.rollbackPolicy || context.dryRun) return;
  const stopped = request.rollbackPolicy.onAttemptFailed(record, request.after);
  if (!stopped) return;
  context.stopped = stopped;
  record.bad = false;
  record.notes = [...(record.notes ?? []), stopped];
}

/**
 * The preparation an attempt starts with, whatever it does: the executor's read-only work, then its
 * plan, shown and kept. `place` puts the plan's commands (and whatever goes with them) where their
 * phases find them and returns them all, in order; a step that needs approval is refused here when
 * nobody can be asked. A preparation that fails returns why (nothing was changed).
 */
export async function prepareAndPlan(context: AttemptContext, makePlan: (input: PlanInput) => Promise<Plan>, place: (plan: Plan) => Command[]): Promise<PhaseFailure | void> {
  const { executor, runner, deps, request } = context;
  // Without its tools (a dry run goes on without them) nothing of the preparation can run: the plan is made without it.
  const ready = context.missingTools.length ? { input: context.input, notes: [] } : await prepareInput(executor, context.input, runner);
  if (typeof ready === 'string') return { exitCode: ExitCode.deployFailed, message: ready };
  context.input = ready.input;
  const plan = await makePlan(context.input);
  context.plan = plan;
  // What the executor shows of its plan (rendered manifests, the services and images compose will run).
  if (plan.preview !== undefined) deps.emit({ type: 'log', level: 'info', message: maskText(plan.preview, context.target.secretValues) });
  keepArtifacts(context, plan.artifacts);
  context.planned.push(...place(plan));
  context.notes.push(...ready.notes, ...plan.notes);
  if (context.missingTools.length) context.notes.push(`${context.missingTools.join(', ')} not found on PATH: a real ${request.action === 'destroy' ? 'destroy' : 'deploy'} would stop here`);
  requireStepApproval(request, plan, runner);
}

/** How a phase that is one check speaks: its name, what it was interrupted during, and how it fails. */
interface CheckWords {
  phase: string;
  during: string;
  exitCode: number;
  /** What the check's own message follows when it fails. */
  failed: string;
}

/** The executor's own check (verify after a deploy, after a destroy). */
export const VERIFY: CheckWords = { phase: 'verify', during: 'verify', exitCode: ExitCode.deployFailed, failed: 'verify' };

/**
 * A phase that is one check (the pre-deploy check, the executor's verify, the health check): told as
 * it starts and ends. What it found is kept first, so an interrupted or failed check is recorded too;
 * `passed` runs when it passed.
 */
export async function runCheck<Found extends { ok: boolean; message: string }>(
  context: AttemptContext,
  words: CheckWords,
  check: () => Promise<Found>,
  then: { keep?: (found: Found) => void; passed?: (found: Found) => void } = {},
): Promise<PhaseFailure | void> {
  const { deps } = context;
  deps.emit({ type: 'phase', phase: words.phase, status: 'start' });
  const found = await check();
  then.keep?.(found);
  if (deps.signal?.aborted) return { exitCode: ExitCode.interrupted, message: `interrupted during ${words.during}` };
  if (!found.ok) {
    deps.emit({ type: 'phase', phase: words.phase, status: 'failed', message: found.message });
    return { exitCode: words.exitCode, message: `${words.failed}: ${found.message}` };
  }
  deps.emit({ type: 'phase', phase: words.phase, status: 'done', message: found.message });
  then.passed?.(found);
}

/**
 * Run the commands planned for a phase through the attempt's runner, each a step of the record. A step
 * that needs approval is asked for when it will really run; the first failure ends the phase.
 */
export async function runCommands(context: AttemptContext, phase: string, options: { keep: boolean; say?: boolean }): Promise<PhaseFailure | void> {
  const commands: Command[] = context.commands[phase] ?? [];
  if (commands.length === 0) return;
  const { deps, request, target, runner, record } = context;
  deps.emit({ type: 'phase', phase, status: 'start' });
  for (const command of commands) {
    if (command.needsApproval && !request.approved && !runner.shows?.(command)) {
      const question = request.action === 'destroy' ? `Destroy ${target.app} in ${target.env} as planned above?` : `Apply the plan above to ${target.app} in ${target.env}?`;
      if (!request.interactive || !(await deps.confirm(question, { action: request.action, app: target.app, env: target.env, version: target.version }))) {
        return { exitCode: ExitCode.approvalNeeded, message: `${command.label} needs approval: pass --yes, set auto_approve: true, or answer y in a terminal` };
      }
    }
    const step = await runStep(context.nextIndex++, command, runner, target.secretValues, deps);
    record.steps.push(stripResult(step));
    if (options.keep) context.results.push(step.result);
    if (deps.signal?.aborted || step.interrupted) {
      if (options.keep) collect(context);
      return { exitCode: ExitCode.interrupted, message: `interrupted during ${command.label}` };
    }
    // An informational command (kubectl diff: exit 1 means it found differences) does not fail the phase.
    if (step.exitCode !== 0 && !command.informational) {
      if (options.keep) collect(context);
      deps.emit({ type: 'phase', phase, status: 'failed', message: options.say ? stepFailure(step) : undefined });
      return { exitCode: ExitCode.deployFailed, message: stepFailure(step) };
    }
  }
  deps.emit({ type: 'phase', phase, status: 'done' });
}

/** What the executor keeps from its commands' output (ansible's recap), whether they succeeded or not. */
function collect(context: AttemptContext): void {
  if (context.executor.collect) keepArtifacts(context, context.executor.collect(context.results));
}

/**
 * Without a terminal (or CI) and without --yes, a step that needs approval (terraform apply) is refused
 * before anything runs, not halfway; in a terminal it is asked for at that step, after the plan is shown.
 * A step the runner only shows (a dry run) needs none.
 */
function requireStepApproval(request: DeployRequest, plan: Plan, runner: Runner): void {
  if (request.approved || request.interactive) return;
  const gated = plan.commands.find((c) => c.needsApproval && !runner.shows?.(c));
  if (!gated) return;
  throw new ApprovalError(
    `${maskText(gated.label, request.target.secretValues)} for ${request.target.app} in ${request.target.env} needs approval`,
    'pass --yes, or set auto_approve: true for this app and environment (no prompt is shown without a terminal or when CI is set)',
  );
}

/**
 * Store the record; a dry run stores nothing. Returns whether it was stored; `lost` when it was to be
 * written `heldBy` a lock that the store found lost (nothing written).
 */
async function save(context: AttemptContext, refused: (error: StateWriteError) => StateWriteError, heldBy?: LockHandle): Promise<boolean | 'lost'> {
  if (context.dryRun) return false;
  try {
    await context.deps.history.write(context.record, heldBy ? { heldBy } : undefined);
    context.saved = context.record.status;
    return true;
  } catch (error) {
    if (heldBy && lockLost(context.deps.signal)) return 'lost';
    throw error instanceof StateWriteError ? refused(error) : error;
  }
}

/** Before anything runs: a write the disk refuses stops it here, with nothing run (exit 2). */
async function saveBeforeRun(context: AttemptContext): Promise<boolean> {
  return (await save(context, (error) => notStarted(describeAction(context.record), error))) === true;
}

/** How it ended: a write the disk refuses now says what ran and how it ended (exit 3 or its own code). */
function saveEnd(context: AttemptContext, heldBy?: LockHandle): Promise<boolean | 'lost'> {
  const { request, failure, record, saved } = context;
  return save(context, (error) => {
    const wouldRollBack =
      request.autoRollback && request.action !== 'rollback' && (failure?.exitCode === ExitCode.deployFailed || failure?.exitCode === ExitCode.healthFailed);
    return notRecorded(record, { failure: failure && { exitCode: failure.exitCode, message: record.error?.message ?? failure.message }, untouched: failure?.untouched ?? false, saved, wouldRollBack }, error);
  }, heldBy);
}
