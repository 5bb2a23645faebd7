// deployctl destroy: flags -> request -> core -> rendered outcome. Nothing to destroy (already destroyed,
// never deployed) is said and exits 0, before any lock.
import type { CliContext, CommandResult } from './context.js';
import type { DestroyOptions } from './destroy.js';
import { prepareDestroy } from '../core/destroy.js';
import { slackApprovalMs, waitLockMs } from './flags.js';
import { runDeployment } from './run-deployment.js';

export function runDestroy(ctx: CliContext, app: string, opts: DestroyOptions): Promise<CommandResult> {
  const request = {
    app,
    env: opts.env,
    dryRun: Boolean(opts.dryRun),
    waitLockMs: waitLockMs(opts),
  };
  return runDeployment(
    ctx,
    async (core) => {
      const prepared = await prepareDestroy(request, core);
      const { nothing } = prepared;
      if (!nothing) return prepared;
      return {
        run: () => Promise.reject(new Error('nothing to destroy')),
        done: {
          exitCode: 0,
          text: nothing.message,
          data: { schemaVersion: 1, ok: true, exitCode: 0, action: 'destroy', app, env: opts.env, destroyed: false, reason: nothing.reason, message: nothing.message, ...(nothing.destroyed ? { destroyedBy: nothing.destroyed } : {}) },
        },
      };
    },
    { yes: opts.yes, slackApprovalMs: slackApprovalMs(opts) },
  );
}
