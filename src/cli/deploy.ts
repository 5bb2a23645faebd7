import type { Command } from 'commander';
import type { DeploymentFlags } from './flags.js';
import type { CliApp } from './main.js';

export interface DeployOptions extends DeploymentFlags {
  env: string;
  version?: string;
  rollback: boolean;
  set: string[];
  timeout?: string;
}

export const collect = (value: string, previous: string[] = []) => [...previous, value];

export function registerDeploy(program: Command, app: CliApp): void {
  app
    .globals(
      program
        .command('deploy <app>')
        .description('deploy an app to an environment: lock, hooks, commands, health check, history')
        .requiredOption('-e, --env <env>', 'environment to deploy to')
        .option('--version <version>', "version to deploy (default: the app's version: setting, else the git short SHA)")
        .option('--dry-run', 'print every command with its arguments and run none that change anything')
        .option('-y, --yes', 'approve a protected environment or a terraform apply without asking')
        .option('--no-rollback', 'do not roll back automatically when the deploy or its health check fails')
        .option('--set <key=value>', 'override a config value, e.g. --set variables.PORT=9000 (repeatable)', collect, [])
        .option('--timeout <duration>', 'time limit of each command, e.g. 90s or 5m (overrides timeout:)')
        .option('--wait-lock <duration>', 'wait this long for another deployment of the same target to finish')
        .option('--approval <how>', 'approve a protected environment elsewhere: slack (a request in chatops.channel that deployctl serve takes the click of)')
        .option('--wait-approval <duration>', 'with --approval slack: how long to wait for the decision (30m)'),
    )
    .action(
      app.action(async (ctx, appName: string, opts: DeployOptions) => {
        const { runDeploy } = await import('./deploy-handler.js');
        return runDeploy(ctx, appName, opts);
      }),
    );
}
