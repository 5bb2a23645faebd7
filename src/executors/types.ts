// The executor contract: a pure plan of argv commands, run by the one runner, plus what to verify
// afterwards and what to store so that a rollback can redo exactly this deployment.
import type { AppConfig, AppType } from '../config/types.js';

export type Phase = 'pre_deploy' | 'deploy' | 'verify' | 'post_deploy';

export interface Command {
  /** Executable, looked up on PATH (or a `tools:` override). For `shell: true`, the script text. */
  file: string;
  args: string[];
  cwd: string;
  /** Extra environment for the child, on top of the process environment. */
  env: Record<string, string>;
  timeoutMs: number;
  /** Dry-run skips commands that mutate; read-only ones (terraform plan, kubectl diff) still run. */
  mutates: boolean;
  /** A user's own string command, run by the system shell as written. Never built from config values. */
  shell?: boolean;
  /** Short human name of the step: "docker compose up", "hook pre_deploy #1". */
  label: string;
  phase: Phase;
  /** Text for the child's stdin (rendered manifests for `kubectl apply -f -`). */
  input?: string;
  /**
   * Files the command reads, by path (a compose override): the runner writes them just before it starts,
   * in a folder that must not exist yet and that only this user can open (0700, files 0600), and removes
   * that folder when the command ends, whatever the outcome. Not written when a dry run skips it.
   */
  files?: Record<string, string>;
  /** Ask for approval before this step (terraform apply without auto_approve). */
  needsApproval?: boolean;
  /** Shown in a dry run, and its exit code does not fail it (kubectl diff: 1 when there are differences). */
  informational?: boolean;
  /** Bytes of stdout kept when its output is parsed and must be whole (rendered manifests). */
  maxStdoutBytes?: number;
}

export interface RunResult {
  exitCode: number | null;
  /** Combined stdout+stderr, bounded (last lines kept). */
  output: string;
  /** Captured stdout alone, bounded, for commands whose output is parsed (terraform output -json). */
  stdout: string;
  /** stdout was longer than its bound: `stdout` is only its end. */
  stdoutTruncated?: boolean;
  durationMs: number;
  timedOut: boolean;
  interrupted: boolean;
  /** Set when the executable could not be started (ENOENT, EACCES). */
  spawnError?: string;
  /** Set when dry-run skipped it. */
  skipped?: boolean;
}

/** A line where a tool says what went wrong: terraform's `Error:`, git's `fatal:`, ansible's `ERROR!` and `fatal: [host]`, `error:`. */
const ERROR_LINE = /^(?:[│|]\s*)?(?:Error:|ERROR!|ERROR:|fatal:|error:|Error response from daemon:|FATAL:)/;

/** The tool's own error line in its output (the first one: the cause, before the consequences), or its last line. */
function errorLineOf(output: string): { line: string; isError: boolean } | undefined {
  const lines = output.split('\n').map((l) => l.trim()).filter(Boolean);
  const error = lines.find((l) => ERROR_LINE.test(l));
  if (error) return { line: error.replace(/^[│|]\s*/, ''), isError: true };
  const last = lines[lines.length - 1];
  return last ? { line: last, isError: false } : undefined;
}

const cut = (text: string) => (text.length > 200 ? `${text.slice(0, 199)}…` : text);

/**
 * Why a command failed, in words: its exit code and the tool's error line (`Error:`, `fatal:`,
 * `ERROR!`, `error:`), else the last line it printed; or why it did not start, its time limit, Ctrl-C.
 * For a run's result, or a step as the record keeps it.
 */
export function failureReason(result: Pick<RunResult, 'exitCode' | 'durationMs'> & Partial<Pick<RunResult, 'output' | 'timedOut' | 'interrupted' | 'spawnError'>>): string {
  if (result.interrupted) return 'interrupted';
  if (result.timedOut) return `timed out after ${Math.round(result.durationMs / 1000)}s`;
  if (result.spawnError) return result.spawnError;
  const found = errorLineOf(result.output ?? '');
  if (!found) return `exit code ${result.exitCode}`;
  return `exit code ${result.exitCode} (${found.isError ? '' : 'last output: '}${cut(found.line)})`;
}

export interface Runner {
  /**
   * In a dry run: whether this command is only shown, not run (`run` then skips it). The runner alone
   * decides; a runner without dry runs may leave this out.
   */
  shows?(command: Command): boolean;
  run(command: Command, onLine?: (line: string, stream: 'stdout' | 'stderr') => void): Promise<RunResult>;
  /** Stop every running child and its process tree (Ctrl-C, SIGTERM); a command asked to run after it is not started (interrupted). */
  stopAll(signal?: NodeJS.Signals): Promise<void>;
}

/** What the executor knows about a deployment when planning it. */
export interface PlanInput {
  app: string;
  env: string;
  version: string;
  recordId: string;
  config: AppConfig;
  /** Environment passed to every child: DEPLOY_* plus the merged variables (secrets included, never logged). */
  childEnv: Record<string, string>;
  /** Resolved executable per tool name (`kubectl` -> `/opt/bin/kubectl`), from `tools:`. */
  tools: Record<string, string>;
  /** When rolling back, the artifacts stored by the deployment being re-applied; else what `prepare` made. */
  artifacts?: Artifacts;
  dryRun: boolean;
  /** What this run is: a rollback leaves out settings that only narrow one run (tags, limit, targets). */
  action?: 'deploy' | 'rollback' | 'promote' | 'destroy';
}

/** What a deployment stored so that a rollback re-applies exactly the same thing. */
export type Artifacts = Record<string, unknown>;

export interface Plan {
  commands: Command[];
  /** Artifacts known before running (rendered manifests, image reference). */
  artifacts: Artifacts;
  /** Lines to show the user about the plan (e.g. "dry run stops after terraform plan"). */
  notes: string[];
  /** What the user must know before it runs, shown as warnings (even with -q): what a rollback could not restore. */
  warnings?: string[];
  /** Text a dry run shows whole (the rendered manifests, compose's services and images). */
  preview?: string;
  /** Set when a dry run cannot check what the deploy would do (terraform: the workspace is not there yet): why. */
  unverified?: string;
}

interface VerifyResult {
  ok: boolean;
  message: string;
  /** Anything learned to keep in the record (terraform outputs, ansible recap, compose services). */
  artifacts?: Artifacts;
  /** Environment for the post_deploy hooks (terraform's outputs as TF_OUTPUT_<name>). */
  env?: Record<string, string>;
}

/** Whether `file args...` runs and exits 0 here (read-only, quick). */
export type ToolProbe = (file: string, args: string[]) => boolean;

export type PrepareResult = { ok: true; artifacts: Artifacts; message: string } | { ok: false; message: string };

export interface Executor {
  type: AppType;
  /**
   * Tool names this executor needs on PATH (checked before anything runs); `overrides` is `tools:`.
   * `probe` asks whether a command succeeds (`docker compose version`): executors never spawn themselves.
   */
  tools(config: AppConfig, overrides: Record<string, string>, probe: ToolProbe): string[];
  /**
   * Read-only work the plan needs, through the runner (`kubectl kustomize DIR`), before anything changes
   * (in a dry run too, when the tools are there). Its artifacts are added to the plan input's.
   * Undefined when there is nothing to do (a rollback of stored manifests).
   */
  prepare?(input: PlanInput, runner: Runner): Promise<PrepareResult | undefined>;
  /**
   * Before the lock, nothing run: throw a ConfigError (exit 2) for what the plan would find missing
   * (manifests, the compose file, var files), given the artifacts a rollback re-applies.
   */
  preflight?(config: AppConfig, artifacts?: Artifacts): void;
  /** A setting that makes every run a check that changes nothing (ansible's check: true): run as a dry run, not recorded as a deploy. */
  checkOnly?(config: AppConfig): boolean;
  /** Pure except for reading the app's files (manifests). Never spawns. */
  plan(input: PlanInput): Promise<Plan>;
  /** After the run, whatever its outcome (a dry run too): remove what the commands left (terraform's plan file). */
  cleanup?(input: PlanInput): Promise<void>;
  /** What to keep in the record from the deploy commands' output, whether they succeeded or not (ansible's PLAY RECAP). */
  collect?(results: RunResult[]): Artifacts;
  /** After the deploy commands succeeded: check that what was deployed runs, and collect artifacts. */
  verify?(input: PlanInput, runner: Runner, results: RunResult[]): Promise<VerifyResult>;
  /**
   * `destroy`: the commands that tear down what the deployment of `input` (the running version's stored
   * config and artifacts) made. Pure like `plan`; never spawns. A type with nothing configured to destroy
   * with is refused before this (its settings' `destroyMissing`).
   */
  planDestroy?(input: PlanInput): Promise<Plan>;
  /** After the destroy commands succeeded: check that it is gone (ansible: a recap without failures, some host matched). */
  verifyDestroy?(input: PlanInput, runner: Runner, results: RunResult[]): Promise<VerifyResult>;
}
