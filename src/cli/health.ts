import type { Command } from 'commander';
import type { CliApp } from './main.js';
import { collect } from './deploy.js';

export function registerHealth(program: Command, app: CliApp): void {
  app
    .globals(
      program
        .command('health <app>')
        .description('run the configured health check now (exit 0 healthy, 4 unhealthy)')
        .requiredOption('-e, --env <env>', 'environment')
        .option('--version <version>', 'the version to expect (default: the one deployed there)')
        .option('--set <key=value>', 'override a config value (repeatable)', collect, []),
    )
    .action(
      app.action(async (ctx, appName: string, opts: { env: string; version?: string; set: string[] }) => {
        const { loadTargetConfig } = await import('./target.js');
        const { resolveApp } = await import('../config/load.js');
        const { openHistory } = await import('../state/open.js');
        const { runHealthCheck } = await import('../health/check.js');
        const { createRunner } = await import('../engine/runner.js');
        const { maskText } = await import('../engine/secrets.js');
        const { formatDuration } = await import('../config/duration.js');
        const { UsageError, HealthError } = await import('../errors.js');
        const { logLine, reportWarnings } = await import('./context.js');
        const loaded = await loadTargetConfig(ctx, appName, opts.env);
        const store = await openHistory(ctx.home);
        // The version to expect: the one running there, else the last one tried there.
        const deployed = opts.version
          ? undefined
          : ((await store.list({ app: appName, env: opts.env, status: 'succeeded', limit: 1 }))[0] ?? (await store.latest(appName, opts.env)));
        reportWarnings(ctx, store);
        const resolved = await resolveApp(loaded, appName, opts.env, { version: opts.version ?? deployed?.version, set: opts.set, processEnv: ctx.io.env });
        const check = resolved.config.health_check;
        if (!check) {
          throw new UsageError(
            `${appName} has no health check in ${opts.env}`,
            'add one to deployments.yaml, e.g. health_check: { url: "http://127.0.0.1:${PORT}/health" }',
          );
        }
        const mask = (text: string) => maskText(text, resolved.secretValues);
        // The first attempt of each result as it happens; then, when some came again, one line with the counts.
        const { addAttempt, describeTally, hasRepeats } = await import('../ui/health-tally.js');
        let tally: import('../ui/health-tally.js').HealthTally | undefined;
        const result = await runHealthCheck(check, {
          runner: createRunner({ dryRun: false, env: { ...ctx.io.env, ...resolved.config.variables } }),
          cwd: resolved.config.path,
          env: { ...resolved.config.variables, DEPLOY_APP: appName, DEPLOY_ENV: opts.env, DEPLOY_VERSION: resolved.version },
          onAttempt: (a) => {
            const added = addAttempt(tally, { ...a, message: mask(a.message) });
            tally = added.tally;
            if (added.first || ctx.options.logFormat === 'json') logLine(ctx, 'info', 'health-attempt', `${a.ok ? '✓' : '✗'} attempt ${a.attempt}: ${mask(a.message)} (${formatDuration(a.latencyMs)})`, {
              attempt: { ...a, message: mask(a.message) },
            });
          },
        });
        if (hasRepeats(tally) && ctx.options.logFormat !== 'json') logLine(ctx, 'info', 'health-tally', `${tally.lastOk ? '✓' : '✗'} health: ${describeTally(tally)}`);
        const data = { schemaVersion: 1, app: appName, env: opts.env, version: resolved.version, ok: result.ok, message: mask(result.message), attempts: result.attempts.map((a) => ({ ...a, message: mask(a.message) })) };
        if (!result.ok) {
          if (ctx.options.json) return { exitCode: new HealthError('').exitCode, data };
          throw new HealthError(`${appName} in ${opts.env} is unhealthy: ${mask(result.message)}`, `see the attempts above; deployctl history ${appName} -e ${opts.env} shows what was deployed`);
        }
        return { exitCode: 0, data, text: `${appName} ${resolved.version} in ${opts.env} is healthy: ${mask(result.message)}` };
      }),
    );
}
