// `deployctl serve`: flags to options, the signals that stop it, and its log lines.
import { logLine, openContextState, type CliContext, type CommandResult } from './context.js';
import { loadConfig } from '../config/load.js';
import { parseDurationFlag } from './flags.js';
import { UsageError } from '../errors.js';
import { serve } from '../server/serve.js';

export async function runServe(ctx: CliContext, opts: { host: string; port: string; grace: string }): Promise<CommandResult> {
  const port = Number(opts.port);
  if (!/^\d+$/.test(opts.port) || port < 0 || port > 65535) throw new UsageError(`--port ${opts.port} is not a port number`, 'for example --port 8080 (0 picks a free one)');
  const graceMs = parseDurationFlag('--grace', opts.grace);
  const state = await openContextState(ctx);
  const globals = ['--config-dir', ctx.configDir, '--home', ctx.home];
  let stop: (why: string) => void = () => {};
  const stopSignal = new Promise<string>((resolve) => (stop = resolve));
  const onSignal = (signal: NodeJS.Signals) => stop(signal);
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  try {
    await serve({
      host: opts.host,
      port,
      graceMs,
      configDir: ctx.configDir,
      globals,
      cwd: ctx.io.cwd,
      env: ctx.io.env,
      state,
      loadConfig: () => loadConfig({ configDir: ctx.configDir, env: ctx.io.env }),
      log: (level, event, message, fields) => logLine(ctx, level, event, message, fields),
      stopSignal,
    });
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
  return { exitCode: 0 };
}
