// The few errors deployctl knows, each with its exit code and a hint naming the way out.
// Only bin/ (through cli/main.ts) turns them into a process exit code.
import type { DeployRecord } from './state/types.js';

export const ExitCode = {
  ok: 0,
  internal: 1,
  usage: 2,
  deployFailed: 3,
  healthFailed: 4,
  locked: 5,
  approvalNeeded: 6,
  interrupted: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export interface ConfigProblem {
  file?: string;
  line?: number;
  column?: number;
  path?: string;
  message: string;
}

export function formatProblem(p: ConfigProblem): string {
  const location = p.file ? (p.line ? `${p.file}:${p.line}:${p.column ?? 1}` : p.file) : undefined;
  const head = [location, p.path].filter(Boolean).join(' ');
  return head ? `${head}: ${p.message}` : p.message;
}

export abstract class DeployctlError extends Error {
  abstract readonly code: string;
  abstract readonly exitCode: ExitCodeValue;
  readonly hint?: string;
  constructor(message: string, hint?: string) {
    super(message);
    this.name = new.target.name;
    this.hint = hint;
  }
}

/** Bad flags, bad names, bad versions, invalid config: nothing was run. Exit 2. */
export class UsageError extends DeployctlError {
  readonly code: string = 'usage';
  readonly exitCode = ExitCode.usage;
}

export class ConfigError extends UsageError {
  override readonly code = 'config';
  readonly problems: ConfigProblem[];
  constructor(problems: ConfigProblem[], hint?: string) {
    super(
      problems.length === 1
        ? formatProblem(problems[0]!)
        : `${problems.length} problems in the configuration:\n${problems.map((p) => `  ${formatProblem(p)}`).join('\n')}`,
      hint,
    );
    this.problems = problems;
  }
}

/** A required tool (kubectl, terraform, ...) is not installed. Exit 2, nothing ran. */
export class ToolMissingError extends UsageError {
  override readonly code = 'tool_missing';
}

export class HealthError extends DeployctlError {
  readonly code = 'health_failed';
  readonly exitCode = ExitCode.healthFailed;
}

export class LockError extends DeployctlError {
  readonly code = 'locked';
  readonly exitCode = ExitCode.locked;
}

export class ApprovalError extends DeployctlError {
  readonly code = 'approval_needed';
  readonly exitCode = ExitCode.approvalNeeded;
}

export class InterruptedError extends DeployctlError {
  readonly code = 'interrupted';
  readonly exitCode = ExitCode.interrupted;
}

/**
 * State (a history record, the index, a lock, the audit log, the state folder) could not be written:
 * a full disk, a quota, a read-only or failing disk, no permission. `state_write_failed` (exit 2) when
 * nothing of a deployment ran; `record_not_saved` when its commands ran and how it ended could not be
 * recorded (exit 3, or the deployment's own failing code).
 */
export class StateWriteError extends DeployctlError {
  readonly code: 'state_write_failed' | 'record_not_saved';
  readonly exitCode: ExitCodeValue;
  /** The file or folder that could not be written. */
  readonly path: string;
  /** ENOSPC, EDQUOT, EROFS, EACCES, EPERM or EIO. */
  readonly errno: string;
  /** What to do about the disk (free space in DIR, or another --home), before any "then ..." step. */
  readonly fix: string;
  /** For record_not_saved: the record of what ran, as it ended, which is not in the history. */
  readonly record?: DeployRecord;

  constructor(
    message: string,
    hint: string,
    details: { path: string; errno: string; fix?: string; exitCode?: ExitCodeValue; code?: StateWriteError['code']; record?: DeployRecord },
  ) {
    super(message, hint);
    this.path = details.path;
    this.errno = details.errno;
    this.fix = details.fix ?? hint;
    this.exitCode = details.exitCode ?? ExitCode.usage;
    this.code = details.code ?? 'state_write_failed';
    this.record = details.record;
  }

  /**
   * The same failure told in more words (what it stopped), with what to do once the disk is fixed
   * (`next`, else the hint as it was) and another exit code if given.
   */
  restate(message: string, next: string | undefined, details: { exitCode?: ExitCodeValue; code?: StateWriteError['code']; record?: DeployRecord } = {}): StateWriteError {
    const restated = new StateWriteError(message, next ? `${this.fix}; then ${next}` : (this.hint ?? this.fix), {
      path: this.path,
      errno: this.errno,
      fix: this.fix,
      exitCode: this.exitCode,
      code: this.code,
      record: this.record,
      ...details,
    });
    restated.cause = this;
    return restated;
  }
}

export function isDeployctlError(e: unknown): e is DeployctlError {
  return e instanceof DeployctlError;
}
