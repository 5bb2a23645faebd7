import type { Command } from 'commander';
import type { CliApp } from './main.js';
import type { PromoteOptions } from './promote-handler.js';
import { collect } from './deploy.js';

export function registerPromote(program: Command, app: CliApp): void {
  app
    .globals(
      program
        .command('promote <app>')
        .description('deploy to the next environment the exact version that succeeded in the one before it')
        .option('--to <env>', 'target environment (default: the one after --from)')
        .option('--from <env>', 'source environment (default: the one before --to)')
        .option('-y, --yes', 'approve a protected environment without asking')
        .option('--force', 'promote even when the target already runs that version')
        .option('--dry-run', 'print every command with its arguments and run none that change anything')
        .option('--set <key=value>', "override a config value of the target environment, e.g. --set variables.PORT=9000 (repeatable)", collect, [])
        .option('--wait-lock <duration>', 'wait this long for another deployment of the target to finish')
        .option('--approval <how>', 'approve a protected environment elsewhere: slack (a request in chatops.channel that deployctl serve takes the click of)')
        .option('--wait-approval <duration>', 'with --approval slack: how long to wait for the decision (30m)'),
    )
    .action(
      app.action(async (ctx, appName: string, opts: PromoteOptions) => {
        const { runPromote } = await import('./promote-handler.js');
        return runPromote(ctx, appName, opts);
      }),
    );
}
