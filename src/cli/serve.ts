import type { Command } from 'commander';
import type { CliApp } from './main.js';

export function registerServe(program: Command, app: CliApp): void {
  app
    .globals(
      program
        .command('serve')
        .description('a long-running HTTP server: Slack slash commands and approval buttons, /healthz, /metrics, a read-only JSON API')
        .option('--host <host>', 'address to listen on', '127.0.0.1')
        .option('--port <port>', 'port to listen on', '8080')
        .option('--grace <duration>', 'on SIGTERM, how long running deployments may go on before they are interrupted', '60s'),
    )
    .action(
      app.action(async (ctx, opts: { host: string; port: string; grace: string }) => {
        const { runServe } = await import('./serve-handler.js');
        return runServe(ctx, opts);
      }),
    );
}
