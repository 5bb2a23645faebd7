import type { Command } from 'commander';
import type { CliApp } from './main.js';
import type { RollbackOptions } from './rollback-handler.js';

export function registerRollback(program: Command, app: CliApp): void {
  app
    .globals(
      program
        .command('rollback <app>')
        .description('re-deploy the previous good version from its stored config (or the record or version named by --to)')
        .requiredOption('-e, --env <env>', 'environment to roll back')
        .option('--to <id-or-version>', 'the record id or version to go back to')
        .option('--dry-run', 'print every command with its arguments and run none that change anything')
        .option('-y, --yes', 'approve a protected environment without asking')
        .option('--wait-lock <duration>', 'wait this long for another deployment of the same target to finish')
        .option('--approval <how>', 'approve a protected environment elsewhere: slack (a request in chatops.channel that deployctl serve takes the click of)')
        .option('--wait-approval <duration>', 'with --approval slack: how long to wait for the decision (30m)'),
    )
    .action(
      app.action(async (ctx, appName: string, opts: RollbackOptions) => {
        const { runRollback } = await import('./rollback-handler.js');
        return runRollback(ctx, appName, opts);
      }),
    );
}
