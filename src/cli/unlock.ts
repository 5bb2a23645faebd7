import type { Command } from 'commander';
import type { CliApp } from './main.js';

export function registerUnlock(program: Command, app: CliApp): void {
  app
    .globals(
      program
        .command('unlock <app>')
        .description('remove the lock of an app in an environment by hand (when the run that held it is gone)')
        .requiredOption('-e, --env <env>', 'environment')
        .option('--force', 'remove it even though its process is still running on this machine'),
    )
    .action(
      app.action(async (ctx, appName: string, opts: { env: string; force?: boolean }) => {
        const { assertName } = await import('../names.js');
        const { UsageError } = await import('../errors.js');
        const { FileLockManager, describeHolder } = await import('../state/locks.js');
        const { isPidAlive } = await import('../state/process.js');
        const { hostname } = await import('node:os');
        assertName('app', appName);
        assertName('environment', opts.env);
        const locks = new FileLockManager(ctx.home);
        const holder = await locks.read(appName, opts.env);
        if (!holder) {
          return { exitCode: 0, data: { schemaVersion: 1, removed: null }, text: `${appName} in ${opts.env} is not locked` };
        }
        const here = hostname();
        if (!opts.force && holder.host === here && isPidAlive(holder.pid)) {
          throw new UsageError(
            `the lock of ${appName} in ${opts.env} is held by a running deployment: ${describeHolder(holder, here)}`,
            `wait for it to finish, stop it (pid ${holder.pid}), or pass --force`,
          );
        }
        await locks.remove(appName, opts.env);
        const { appendAudit } = await import('../notify/audit.js');
        const { currentIdentity } = await import('../engine/identity.js');
        const who = currentIdentity(ctx.io.env);
        await appendAudit(ctx.home, { at: new Date().toISOString(), action: 'unlock', app: appName, env: opts.env, result: 'removed', user: who.user, host: who.host, details: { holder: holder } });
        return {
          exitCode: 0,
          data: { schemaVersion: 1, removed: holder },
          text: `removed the lock of ${appName} in ${opts.env}, held by ${describeHolder(holder, here)}`,
        };
      }),
    );
}
