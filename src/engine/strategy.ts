// The standard way to deploy, as a list of phases: what `deploy`, `rollback` and `promote` run. Another
// strategy (blue-green: start new, check, switch, stop old) is another list, given in DeployRequest.strategy.
import type { LifecyclePhase, Strategy } from './lifecycle.js';
import { deployPhase, healthPhase, postDeployPhase, preCheckPhase, preDeployPhase, preparePhase, recordPhase, startPhase, verifyPhase } from './phases/attempt.js';
import { approvePhase, lockPhase, notifyPhase, retentionPhase, toolsPhase, unlockPhase } from './phases/target.js';

/** Before the attempts, once per target: what must hold before anything runs. */
export const beforeAttempts: readonly LifecyclePhase[] = [toolsPhase, approvePhase, lockPhase];

/** After the attempts, once per target: the phases that tidy up and tell. */
export const afterAttempts: readonly LifecyclePhase[] = [retentionPhase, unlockPhase, notifyPhase];

/** The record opened and closed around an attempt's own phases. */
const openRecord: readonly LifecyclePhase[] = [preparePhase, startPhase];
export const closeRecord: readonly LifecyclePhase[] = [recordPhase];

export const standardStrategy: Strategy = {
  name: 'standard',
  phases: [
    ...beforeAttempts,
    ...openRecord,
    preCheckPhase,
    preDeployPhase,
    deployPhase,
    verifyPhase,
    healthPhase,
    postDeployPhase,
    ...closeRecord,
    ...afterAttempts,
  ],
};

/**
 * A strategy of one's own: its attempt phases between the standard ones that take the lock, open and
 * close the record, and tell the team.
 */
export function strategyOf(name: string, phases: readonly LifecyclePhase[]): Strategy {
  return { name, phases: [...beforeAttempts, ...openRecord, ...phases, ...closeRecord, ...afterAttempts] };
}
