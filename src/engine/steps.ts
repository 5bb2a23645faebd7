// What one attempt is made of: its plan input, its record, its steps as they run and as the record
// keeps them (secrets masked), and the health checks it runs.
import type { HealthCheckConfig } from '../config/types.js';
import { ExitCode } from '../errors.js';
import { failureReason, type Artifacts, type Command, type Executor, type PlanInput, type RunResult, type Runner } from '../executors/types.js';
import type { DeployRecord, HealthResult, StepRecord } from '../state/types.js';
import { formatDuration } from '../config/duration.js';
import type { DeployRequest, EngineDeps, PlannedStep, Target } from './deploy.js';
import type { AttemptContext } from './lifecycle.js';
import { formatCommand } from '../format.js';
import { maskText, sealArtifacts, sealSecrets, secretsOfConfig } from './secrets.js';

export const FAILURE_CODES: Record<number, string> = {
  [ExitCode.deployFailed]: 'deploy_failed',
  [ExitCode.healthFailed]: 'health_failed',
  [ExitCode.approvalNeeded]: 'approval_needed',
  [ExitCode.interrupted]: 'interrupted',
};

export function planInput(request: DeployRequest, recordId: string, dryRun: boolean): PlanInput {
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
    action: request.action,
    tools: request.tools,
    artifacts: target.artifacts,
    dryRun,
  };
}

/** The executor's read-only preparation: the plan input with its artifacts and what to tell about it, or why it failed. */
export async function prepareInput(executor: Executor, input: PlanInput, runner: Runner): Promise<{ input: PlanInput; notes: string[] } | string> {
  const result = await executor.prepare?.(input, runner);
  if (!result) return { input, notes: [] };
  if (!result.ok) return result.message;
  return { input: { ...input, artifacts: { ...input.artifacts, ...result.artifacts } }, notes: [result.message] };
}

/** A planned command as a dry run lists it: its argv, and the same as deployctl shows it (formatCommand), secrets masked. */
export function describe(command: Command, secretValues: readonly string[] = []): PlannedStep {
  const argv = command.shell ? [command.file] : [command.file, ...command.args];
  return {
    phase: command.phase,
    label: command.label,
    argv,
    command: formatCommand(argv, { shell: command.shell, secretValues }),
    shell: Boolean(command.shell),
    cwd: command.cwd,
    mutates: command.mutates,
  };
}

/** The secrets of a target, by name: what a record keeps as ***. */
function secretsOf(target: Target, env: NodeJS.ProcessEnv): Map<string, string> {
  return secretsOfConfig(target.config.secrets ?? [], target.config.variables ?? {}, env);
}

export function newRecord(request: DeployRequest, id: string, deps: EngineDeps): DeployRecord {
  const { target } = request;
  const { sealed, refs } = sealSecrets(target.config, secretsOf(target, deps.processEnv));
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

export function finish(record: DeployRecord, deps: EngineDeps): void {
  const end = deps.now();
  record.finishedAt = end.toISOString();
  record.durationMs = Math.max(0, end.getTime() - Date.parse(record.startedAt));
}

/** What the executor says to keep (rendered manifests, outputs), kept in the record with its secrets sealed. */
export function keepArtifacts(context: AttemptContext, more: Artifacts): void {
  const { record } = context;
  const { sealed, refs } = sealArtifacts({ ...context.kept, ...more }, secretsOf(context.target, context.deps.processEnv), record.secretRefs);
  context.kept = { ...context.kept, ...more };
  record.artifacts = sealed;
  if (refs.length || record.secretRefs) record.secretRefs = refs;
}

/** One command, shown as it starts (run, or in a dry run only shown: the runner says which), its output line by line, and its end. */
export async function runStep(index: number, command: Command, runner: Runner, secretValues: string[], deps: EngineDeps): Promise<StepRecord & { result: RunResult }> {
  const argv = (command.shell ? [command.file] : [command.file, ...command.args]).map((a) => maskText(a, secretValues));
  const label = maskText(command.label, secretValues);
  deps.emit({ type: 'step-start', index, label, command: argv, shell: command.shell, dryRun: runner.shows?.(command) ?? false });
  deps.emit({
    type: 'log',
    level: 'debug',
    message: `in ${command.cwd}, time limit ${formatDuration(command.timeoutMs)}, environment adds ${Object.keys(command.env).sort().join(' ') || 'nothing'}`,
  });
  const result = await runner.run(command, (line, stream) => deps.emit({ type: 'output', index, line: maskText(line, secretValues), stream }));
  const step: StepRecord = {
    label,
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
export function stepFailure(step: StepRecord): string {
  return `${step.label}: ${failureReason(step)}`;
}

export function stripResult(step: StepRecord & { result?: RunResult }): StepRecord {
  const { result: _result, ...rest } = step;
  return rest;
}

/** A health check run now, each attempt shown as it happens, secrets masked. */
export async function checkNow(context: AttemptContext, check: HealthCheckConfig): Promise<HealthResult> {
  const { target, deps } = context;
  const mask = (text: string) => maskText(text, target.secretValues);
  const result = await deps.runHealthCheck(check, {
    runner: context.runner,
    cwd: target.config.path,
    env: context.input.childEnv,
    signal: deps.signal,
    onAttempt: (attempt) => deps.emit({ type: 'health-attempt', attempt: { ...attempt, message: mask(attempt.message) } }),
  });
  return { ...result, message: mask(result.message), attempts: result.attempts.map((a) => ({ ...a, message: mask(a.message) })) };
}
