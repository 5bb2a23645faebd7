// `destroy` as a strategy: its own attempt phases (phases/destroy.ts) between the standard ones that
// find the tools, ask for approval, take the lock, open and close the record, and tell the team. No
// hooks run (pre_deploy/post_deploy are about deploying) and no automatic rollback follows a failure.
import { deployTarget, type DeployOutcome, type DeployRequest, type EngineDeps } from './deploy.js';
import type { Strategy } from './lifecycle.js';
import { destroyPhase, prepareDestroyPhase, verifyDestroyPhase } from './phases/destroy.js';
import { startPhase } from './phases/attempt.js';
import { afterAttempts, beforeAttempts, closeRecord } from './strategy.js';

export const destroyStrategy: Strategy = {
  name: 'destroy',
  phases: [...beforeAttempts, prepareDestroyPhase, startPhase, destroyPhase, verifyDestroyPhase, ...closeRecord, ...afterAttempts],
};

/** Tear down a target deployed from `request.target` (the running version's stored config and artifacts). */
export function destroyTarget(request: Omit<DeployRequest, 'action' | 'autoRollback' | 'strategy'>, deps: EngineDeps): Promise<DeployOutcome> {
  return deployTarget({ ...request, action: 'destroy', autoRollback: false, strategy: destroyStrategy }, deps);
}
