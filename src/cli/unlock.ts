import type { Command } from 'commander';
import type { CliApp } from './main.js';

export function registerUnlock(program: Command, app: CliApp): void {
  app
    .globals(
      program
        .command('unlock <app>')
        .description('remove the lock of an app in an environment by hand (when the run that held it is gone)')
        .requiredOption('-e, --env <env>', 'environment')
        .option('--force', 'remove it even though its holder looks alive (running here, or refreshed lately by another host)'),
    )
    .action(
      app.action(async (ctx, appName: string, opts: { env: string; force?: boolean }) => {
        const { assertName } = await import('../names.js');
        const { LockError } = await import('../errors.js');
        const { openContextState } = await import('./context.js');
        const { assertKnownTarget } = await import('./target.js');
        assertName('app', appName);
        assertName('environment', opts.env);
        const locks = (await openContextState(ctx)).locks;
        const found = await locks.inspect(appName, opts.env);
        if (!found) {
          await assertKnownTarget(ctx, (await openContextState(ctx)).history, { app: appName, env: opts.env });
          return { exitCode: 0, data: { schemaVersion: 1, removed: null }, text: `${appName} in ${opts.env} is not locked` };
        }
        const { holder, state, local, description } = found;
        if (!opts.force && state === 'alive') {
          throw new LockError(
            `the lock of ${appName} in ${opts.env} is held by a deployment that looks alive: ${description}`,
            local
              ? `wait for it to finish, stop it (pid ${holder.pid}), or pass --force if it is stuck`
              : `${holder.host} refreshed it lately, so that run looks alive: wait for it, or pass --force if you know it is gone`,
          );
        }
        const removed = await locks.remove(appName, opts.env, holder.token);
        if (!removed) {
          throw new LockError(`the lock of ${appName} in ${opts.env} changed hands while unlocking`, `run deployctl unlock ${appName} -e ${opts.env} again to see the new holder`);
        }
        const { currentIdentity } = await import('../engine/identity.js');
        const { logLine } = await import('./context.js');
        const who = currentIdentity(ctx.io.env);
        // The lock is gone whatever the audit log says: a log the disk refuses is a warning.
        await (await openContextState(ctx)).audit.append({ at: new Date().toISOString(), action: 'unlock', app: appName, env: opts.env, result: 'removed', user: who.user, host: who.host, details: { holder, state } }).catch(
          (e: Error) => logLine(ctx, 'warn', 'audit', `${e.message}: the audit log lacks this unlock`),
        );
        const why = state === 'stale' ? ' (its process is gone)' : state === 'silent' ? ' (not refreshed lately)' : ' (--force)';
        return {
          exitCode: 0,
          data: { schemaVersion: 1, removed: holder },
          text: `removed the lock of ${appName} in ${opts.env}, held by ${description}${why}`,
        };
      }),
    );
}
