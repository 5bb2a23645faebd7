// deployctl promote: flags -> request -> core (route, gates, what it carries) -> rendered outcome.
import { logLine, type CliContext, type CommandResult } from './context.js';
import { preparePromotion } from '../core/promote.js';
import { slackApprovalMs, waitLockMs, type DeploymentFlags } from './flags.js';
import { runDeployment } from './run-deployment.js';

export interface PromoteOptions extends DeploymentFlags {
  to?: string;
  from?: string;
  force?: boolean;
  set?: string[];
}

export function runPromote(ctx: CliContext, app: string, opts: PromoteOptions): Promise<CommandResult> {
  const request = {
    app,
    to: opts.to,
    from: opts.from,
    force: Boolean(opts.force),
    dryRun: Boolean(opts.dryRun),
    set: opts.set,
    waitLockMs: waitLockMs(opts),
  };
  return runDeployment(
    ctx,
    async (core) => {
      const prepared = await preparePromotion(request, core);
      const { route, version } = prepared;
      logLine(ctx, 'info', 'promotion', `promoting ${app} ${version} from ${route.from} to ${route.to}`, { app, version, from: route.from, to: route.to });
      return prepared;
    },
    { yes: opts.yes, slackApprovalMs: slackApprovalMs(opts) },
  );
}
