import type { Command } from 'commander';
import type { CliApp } from './main.js';

export function registerUi(program: Command, app: CliApp): void {
  app
    .globals(program.command('ui').description('a live board of apps × environments: history, rollback and promotion from the keyboard'))
    .action(
      app.action(async (ctx) => {
        const { UsageError } = await import('../errors.js');
        if (!ctx.io.stdin.isTTY || !ctx.io.stdout.isTTY) {
          throw new UsageError('deployctl ui needs a terminal', 'for scripts and CI, use deployctl status --json (or list --json)');
        }
        const { createBoardDeps } = await import('./ui-deps.js');
        const { loadInteractive } = await import('../ui/load.js');
        const ink = loadInteractive();
        const deps = await createBoardDeps(ctx);
        deps.prefetch();
        const { runBoard } = await ink;
        await runBoard({ deps, stdout: ctx.io.stdout as NodeJS.WriteStream, stdin: ctx.io.stdin as NodeJS.ReadStream, color: ctx.color });
        return { exitCode: 0 };
      }),
    );
}
