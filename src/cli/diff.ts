import type { Command } from 'commander';
import type { CliApp } from './main.js';

export function registerDiff(program: Command, app: CliApp): void {
  app
    .globals(
      program
        .command('diff <src_env> <dst_env> [app]')
        .description('versions and resolved config that differ between two environments, and how to bring dst up to src')
        .option('--exit-code', 'exit 2 when an app runs a different version in dst than in src, 0 when not (like helm diff --detailed-exitcode)'),
    )
    .action(
      app.action(async (ctx, src: string, dst: string, appName: string | undefined, opts: { exitCode?: boolean }) => {
        const { runDiff } = await import('./target-handlers.js');
        return runDiff(ctx, src, dst, appName, opts);
      }),
    );
}
