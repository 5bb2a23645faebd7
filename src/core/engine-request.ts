// The engine's request, built in one place for deploy, promote, rollback and destroy: what the request asks
// (dry run, how long to wait for the lock), what the approver already said and whether it can ask,
// and the core's rollback policy (a rollback that fails the way the failure before it did stops).
import type { DeployOutcome, DeployRequest } from '../engine/deploy.js';
import type { CoreDeps } from './deps.js';
import { engineDeps } from './engine-deps.js';
import type { EngineDeps } from '../engine/deploy.js';
import { stopWhenFailedTheSameWay } from './rollback-policy.js';

type FromTheCore = 'dryRun' | 'approved' | 'interactive' | 'waitLockMs' | 'rollbackPolicy';

/** `fields` (what to deploy: the target, or a rollback's app and environment) with what every request of the core carries. */
export function engineRequest<T extends object>(core: CoreDeps, asked: { dryRun?: boolean; waitLockMs?: number }, fields: T): T & Pick<DeployRequest, FromTheCore> {
  return {
    ...fields,
    dryRun: Boolean(asked.dryRun),
    approved: core.approver.approved,
    interactive: core.approver.canAsk,
    waitLockMs: asked.waitLockMs ?? 0,
    rollbackPolicy: stopWhenFailedTheSameWay,
  };
}

/** Run the engine with the dependencies the core puts together for one deployment. */
export async function runEngine(core: CoreDeps, run: (deps: EngineDeps) => Promise<DeployOutcome>): Promise<DeployOutcome> {
  return run(await engineDeps(core));
}
