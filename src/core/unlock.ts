// unlock: a lock removed by hand, when the run that held it is gone (or --force), and the audit log told.
import type { LockInfo, LockState } from '../state/types.js';
import { assertName } from '../names.js';
import { LockError } from '../errors.js';
import type { CoreDeps } from './deps.js';
import { assertKnownTarget } from './target.js';

interface UnlockRequest {
  app: string;
  env: string;
  force?: boolean;
}

type UnlockOutcome =
  | { removed: null; warnings: string[] }
  | { removed: LockInfo; state: LockState; description: string; warnings: string[] };

export async function unlock(request: UnlockRequest, core: CoreDeps): Promise<UnlockOutcome> {
  const { app, env } = request;
  assertName('app', app);
  assertName('environment', env);
  const store = await core.state();
  const found = await store.locks.inspect(app, env);
  if (!found) {
    await assertKnownTarget({ ...core, stateLocation: store.location }, store.history, { app, env });
    return { removed: null, warnings: [] };
  }
  const { holder, state, local, description } = found;
  if (!request.force && state === 'alive') {
    throw new LockError(
      `the lock of ${app} in ${env} is held by a deployment that looks alive: ${description}`,
      local
        ? `wait for it to finish, stop it (pid ${holder.pid}), or pass --force if it is stuck`
        : `${holder.host} refreshed it lately, so that run looks alive: wait for it, or pass --force if you know it is gone`,
    );
  }
  const removed = await store.locks.remove(app, env, holder.token);
  if (!removed) {
    throw new LockError(`the lock of ${app} in ${env} changed hands while unlocking`, `run deployctl unlock ${app} -e ${env} again to see the new holder`);
  }
  const warnings: string[] = [];
  // The lock is gone whatever the audit log says: a log the disk refuses is a warning.
  await store.audit
    .append({ at: core.clock().toISOString(), action: 'unlock', app, env, result: 'removed', user: core.identity.user, host: core.identity.host, details: { holder, state } })
    .catch((e: Error) => warnings.push(`${e.message}: the audit log lacks this unlock`));
  return { removed: holder, state, description, warnings };
}
