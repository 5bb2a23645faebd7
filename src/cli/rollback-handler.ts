// deployctl rollback: flags -> request -> core (which picks the record) -> rendered outcome.
import type { CliContext, CommandResult } from './context.js';
import { prepareRollback } from '../core/rollback.js';
import { parseDurationFlag, slackApprovalMs } from './flags.js';
import { runDeployment } from './run-deployment.js';

export interface RollbackOptions {
  env: string;
  to?: string;
  dryRun?: boolean;
  yes?: boolean;
  waitLock?: string;
  approval?: string;
  waitApproval?: string;
}

export function runRollback(ctx: CliContext, app: string, opts: RollbackOptions): Promise<CommandResult> {
  const request = {
    app,
    env: opts.env,
    to: opts.to,
    dryRun: Boolean(opts.dryRun),
    waitLockMs: opts.waitLock ? parseDurationFlag('--wait-lock', opts.waitLock) : 0,
  };
  return runDeployment(ctx, (core) => prepareRollback(request, core), { yes: opts.yes, slackApprovalMs: slackApprovalMs(opts) });
}
