import type { Command } from 'commander';
import type { DeploymentFlags } from './flags.js';
import type { CliApp } from './main.js';

export interface DestroyOptions extends DeploymentFlags {
  env: string;
}

export function registerDestroy(program: Command, app: CliApp): void {
  app
    .globals(
      program
        .command('destroy <app>')
        .description("tear an app down with its own tool (compose down, docker rm, kubectl delete of the stored manifests, terraform destroy, a destroy playbook or commands); recorded")
        .requiredOption('-e, --env <env>', 'environment to tear the app down in')
        .option('--dry-run', 'print every command with its arguments and run none that change anything')
        .option('-y, --yes', 'approve a protected environment or a terraform destroy without asking')
        .option('--wait-lock <duration>', 'wait this long for another deployment of the same target to finish')
        .option('--approval <how>', 'approve a protected environment elsewhere: slack (a request in chatops.channel that deployctl serve takes the click of)')
        .option('--wait-approval <duration>', 'with --approval slack: how long to wait for the decision (30m)'),
    )
    .action(
      app.action(async (ctx, appName: string, opts: DestroyOptions) => {
        const { runDestroy } = await import('./destroy-handler.js');
        return runDestroy(ctx, appName, opts);
      }),
    );
}
