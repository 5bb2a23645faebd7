// The lifecycle as data: a deployment is a list of phases that the engine runs in order. Each phase
// says what it does, what its failure means, and whether a dry run goes through it; a strategy (the
// standard one, later blue-green or canary) is such a list. Target phases (tools, approval, the lock,
// retention, the notifications) run once per deployment of a target; attempt phases (prepare, hooks,
// deploy, verify, health, record...) run once per record: the deployment, then each automatic or
// manual rollback attempt, under the same lock.
import { StateWriteError } from '../errors.js';
import type { Artifacts, Command, Executor, Plan, PlanInput, RunResult, Runner } from '../executors/types.js';
import type { DeployRecord, IndexEntry, LockHandle, RecordStatus } from '../state/types.js';
import type { DeployRequest, EngineDeps, Target } from './deploy.js';

/**
 * What a phase's failure means:
 * - `stop`: the phase throws and the deployment stops with its error: before anything ran, with no record
 *   (a missing tool exits 2, the lock 5, approval 6, a first record the disk refuses 2), or, when the
 *   record of how it ended cannot be stored, saying what ran (unsaved.ts).
 * - `untouched`: stopped before changing anything; recorded as failed, the version not marked bad, no rollback.
 * - `roll-back`: the target may have changed; recorded as failed, the version marked bad, rolled back automatically.
 * - `warn`: the deployment stands; the record keeps its status and says what failed (exit 3 for a hook).
 */
export type FailurePolicy = 'stop' | 'untouched' | 'roll-back' | 'warn';

/** A phase that failed says so by returning this (only bugs and refusals throw). */
export interface PhaseFailure {
  exitCode: number;
  message: string;
}

interface PhaseShape<Context> {
  name: string;
  /** What it does, in a sentence. */
  does: string;
  onFailure: FailurePolicy;
  /**
   * `run`: a dry run goes through it, its commands through the dry-run runner (which runs what only
   * reads, and shows the rest); `skip`: a dry run leaves it out (it writes state or probes the target).
   */
  dryRun: 'run' | 'skip';
  /** Runs even after an earlier phase failed or threw: saving the record, releasing the lock, notifications. */
  always?: boolean;
  run(context: Context): Promise<PhaseFailure | void>;
}

export interface TargetPhase extends PhaseShape<TargetContext> {
  scope: 'target';
}

export interface AttemptPhase extends PhaseShape<AttemptContext> {
  scope: 'attempt';
}

export type LifecyclePhase = TargetPhase | AttemptPhase;

/** A way to deploy: its phases in order, target phases before and after the attempt phases. */
export interface Strategy {
  name: string;
  phases: readonly LifecyclePhase[];
}

/** One deployment of a target, around its attempts. `deps.emit` names the target. */
export interface TargetContext {
  readonly request: DeployRequest;
  /** Under the lock, its runners tell the lock the process groups they start (see the lock phase). */
  deps: EngineDeps;
  readonly executor: Executor;
  readonly dryRun: boolean;
  /** "deploy web 1.4.2 to prod", for messages about what did not start. */
  readonly what: string;
  /** The executables of the executor's tools (resolved in a real run, as configured in a dry run). */
  tools: Record<string, string>;
  /** A dry run's tools that are not installed: a real deploy would stop at them. */
  missingTools: string[];
  lock?: LockHandle;
  /** What ran there before. */
  previous?: IndexEntry;
  /** Every record this deployment finished (the deployment and its rollbacks), for the notifications. */
  finished: DeployRecord[];
}

/** One attempt: one record. `deps.emit` names the target and the record. */
export interface AttemptContext {
  readonly request: DeployRequest;
  readonly target: Target;
  readonly deps: EngineDeps;
  readonly executor: Executor;
  /** The one runner of this attempt: in a dry run it decides what runs (see Runner.shows). */
  readonly runner: Runner;
  readonly dryRun: boolean;
  readonly record: DeployRecord;
  readonly missingTools: string[];
  input: PlanInput;
  plan?: Plan;
  /** The commands planned, by phase name (`pre_deploy`, `deploy`, `post_deploy`, a strategy's own). */
  commands: Record<string, Command[]>;
  /** Every command planned, in the order the phases run them: what a dry run lists. */
  planned: Command[];
  /** Lines to tell about the plan. */
  notes: string[];
  /** The artifacts to keep, before their secrets are sealed into the record. */
  kept: Artifacts;
  /** Results of the commands whose output the executor reads (`collect`, `verify`). */
  results: RunResult[];
  /** The first failure; from then on only `always` phases run. */
  failure?: PhaseFailure & { untouched: boolean };
  /** Failures of `warn` phases: the deployment stands, the exit code says it. */
  warnings: PhaseFailure[];
  /** A failed rollback attempt after which the request's rollback policy stops the rollbacks: why. */
  stopped?: string;
  /** The record's first write was tried: from then on the history has to hear how it ended. */
  opened: boolean;
  /** The status the history holds for this record. */
  saved: RecordStatus;
  /** Index of the next step, across phases. */
  nextIndex: number;
}

/** Whether a run goes through a phase: a dry run leaves out the phases that write state or probe. */
function goesThrough(phase: LifecyclePhase, dryRun: boolean): boolean {
  return !dryRun || phase.dryRun === 'run';
}

/** A strategy's phases in their three groups; a target phase between attempt phases is a bug in the strategy. */
export function splitPhases(phases: readonly LifecyclePhase[]): { before: TargetPhase[]; attempt: AttemptPhase[]; after: TargetPhase[] } {
  const before: TargetPhase[] = [];
  const attempt: AttemptPhase[] = [];
  const after: TargetPhase[] = [];
  for (const phase of phases) {
    if (phase.scope === 'attempt') {
      if (after.length) throw new Error(`phase ${after[0]!.name} (a target phase) sits between attempt phases`);
      attempt.push(phase);
    } else {
      (attempt.length ? after : before).push(phase);
    }
  }
  return { before, attempt, after };
}

/** The names of the phases a deployment goes through, in order, when none fails. */
export function phaseNames(strategy: Strategy, dryRun: boolean): string[] {
  return strategy.phases.filter((p) => goesThrough(p, dryRun)).map((p) => p.name);
}

/**
 * Run the attempt phases in order. After a failure only the `always` phases run (the record is saved);
 * a `warn` failure is kept and the next phases run. In a dry run nothing changed, whatever failed.
 */
export async function runAttemptPhases(phases: readonly AttemptPhase[], context: AttemptContext): Promise<void> {
  for (const phase of phases) {
    if (!goesThrough(phase, context.dryRun)) continue;
    if (context.failure && !phase.always) continue;
    const failure = await phase.run(context);
    if (!failure) continue;
    if (phase.onFailure === 'warn') {
      context.warnings.push(failure);
      context.record.notes = [...(context.record.notes ?? []), failure.message];
      continue;
    }
    if (!context.failure) context.failure = { ...failure, untouched: phase.onFailure !== 'roll-back' || context.dryRun };
  }
}

/**
 * Run a deployment of one target: the target phases before, the work (the attempts), then the target
 * phases after: those marked `always` even when the work or a phase before threw.
 */
export async function runTargetPhases<T>(phases: readonly LifecyclePhase[], context: TargetContext, work: () => Promise<T>): Promise<T> {
  const { before, after } = splitPhases(phases);
  let threw = false;
  try {
    for (const phase of before) {
      if (!goesThrough(phase, context.dryRun)) continue;
      const failure = await phase.run(context);
      if (failure) throw new Error(`${phase.name}: ${failure.message}`);
    }
    return await work();
  } catch (error) {
    threw = true;
    // What ran but could not be recorded is still told to the team (notifications, the audit log if it can).
    if (error instanceof StateWriteError && error.record) context.finished.push(error.record);
    throw error;
  } finally {
    for (const phase of after) {
      if (!goesThrough(phase, context.dryRun) || (threw && !phase.always)) continue;
      await phase.run(context);
    }
  }
}
