// deployctl rollback: flags -> request -> core (which picks the record) -> rendered outcome.
import type { CliContext, CommandResult } from './context.js';
import { prepareRollback } from '../core/rollback.js';
import { slackApprovalMs, waitLockMs, type DeploymentFlags } from './flags.js';
import { runDeployment } from './run-deployment.js';

export interface RollbackOptions extends DeploymentFlags {
  env: string;
  to?: string;
}

export function runRollback(ctx: CliContext, app: string, opts: RollbackOptions): Promise<CommandResult> {
  const request = {
    app,
    env: opts.env,
    to: opts.to,
    dryRun: Boolean(opts.dryRun),
    waitLockMs: waitLockMs(opts),
  };
  return runDeployment(ctx, (core) => prepareRollback(request, core), { yes: opts.yes, slackApprovalMs: slackApprovalMs(opts) });
}
