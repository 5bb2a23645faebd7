// deployctl deploy: flags -> request -> core -> rendered outcome.
import type { CliContext, CommandResult } from './context.js';
import type { DeployOptions } from './deploy.js';
import { prepareDeploy } from '../core/deploy.js';
import { parseDurationFlag, slackApprovalMs, waitLockMs } from './flags.js';
import { runDeployment } from './run-deployment.js';

export function runDeploy(ctx: CliContext, app: string, opts: DeployOptions): Promise<CommandResult> {
  const request = {
    app,
    env: opts.env,
    version: opts.version,
    set: opts.set,
    dryRun: Boolean(opts.dryRun),
    noRollback: !opts.rollback,
    timeoutMs: opts.timeout ? parseDurationFlag('--timeout', opts.timeout) : undefined,
    waitLockMs: waitLockMs(opts),
  };
  return runDeployment(ctx, (core) => prepareDeploy(request, core), { yes: opts.yes, slackApprovalMs: slackApprovalMs(opts) });
}
