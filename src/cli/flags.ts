// Turning flag values into what a request holds.
import { MAX_TIMER_TEXT, parseDuration, parseTimeLimit } from '../config/duration.js';
import { UsageError } from '../errors.js';

/** A duration flag (--timeout, --wait-lock...): a duration Node's timers can hold, or a usage error naming the flag. */
export function parseDurationFlag(flag: string, value: string): number {
  const limit = parseTimeLimit(value);
  if ('error' in limit) {
    const tooLong = parseDuration(value) !== undefined;
    throw new UsageError(`${flag} ${limit.error.replace(/: [^:]*$/, '')}`, tooLong ? `give ${flag} at most ${MAX_TIMER_TEXT}` : 'write it like 90, 90s, 5m or 1m30s');
  }
  return limit.ms;
}

/** The flags of every command that changes a target: deploy, rollback, promote and destroy. */
export interface DeploymentFlags {
  dryRun?: boolean;
  yes?: boolean;
  waitLock?: string;
  approval?: string;
  waitApproval?: string;
}

/** --wait-lock D: how long to wait for another deployment of the target to finish; 0 without it. */
export function waitLockMs(opts: { waitLock?: string }): number {
  return opts.waitLock ? parseDurationFlag('--wait-lock', opts.waitLock) : 0;
}

/** --approval slack [--wait-approval D]: how long to wait for the decision; undefined without --approval. */
export function slackApprovalMs(opts: { approval?: string; waitApproval?: string }): number | undefined {
  if (opts.approval === undefined) {
    if (opts.waitApproval !== undefined) throw new UsageError('--wait-approval goes with --approval slack', 'add --approval slack, or drop --wait-approval');
    return undefined;
  }
  if (opts.approval !== 'slack') throw new UsageError(`--approval ${JSON.stringify(opts.approval)}: the one way to approve elsewhere is slack`, 'pass --approval slack (or --yes to approve here)');
  return parseDurationFlag('--wait-approval', opts.waitApproval ?? '30m');
}
