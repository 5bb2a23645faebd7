// The attempt phases of `destroy`: the executor's teardown planned from the running version's stored
// config and artifacts, run through the attempt's runner, then checked. They sit between the standard
// phases that take the lock, open and close the record, and tell the team (see engine/destroy.ts).
import { InterruptedError } from '../../errors.js';
import type { AttemptPhase } from '../lifecycle.js';
import { describeAction } from '../unsaved.js';
import { prepareAndPlan, runCheck, runCommands, VERIFY } from './attempt.js';

/** Read-only work, then the plan: a failure here changed nothing (recorded failed, nothing marked bad). */
export const prepareDestroyPhase: AttemptPhase = {
  scope: 'attempt',
  name: 'prepare',
  does: "the executor's read-only preparation (docker ps, compose config...) and its plan of the teardown; a step that needs approval is refused here when nobody can be asked",
  onFailure: 'untouched',
  dryRun: 'run',
  async run(context) {
    const { executor, deps, request } = context;
    if (!executor.planDestroy) throw new Error(`the ${executor.type} executor has no planDestroy`);
    const failure = await prepareAndPlan(context, (input) => executor.planDestroy!(input), (plan) => (context.commands.destroy = plan.commands));
    if (failure) return failure;
    if (deps.signal?.aborted) {
      throw new InterruptedError(`${describeAction({ ...request.target, action: request.action })} was interrupted before anything ran: nothing was changed`);
    }
  },
};

/** The teardown's commands; a failure may have taken part of it down, and says nothing against the version. */
export const destroyPhase: AttemptPhase = {
  scope: 'attempt',
  name: 'destroy',
  does: "the executor's teardown (compose down, docker rm, kubectl delete, terraform destroy, the destroy playbook or commands)",
  onFailure: 'untouched',
  dryRun: 'run',
  run: (context) => runCommands(context, 'destroy', { keep: true }),
};

/** The executor's own check that it is gone (terraform tracks nothing, no compose service runs, a host matched). */
export const verifyDestroyPhase: AttemptPhase = {
  scope: 'attempt',
  name: 'verify',
  does: "the executor's check that what was deployed is gone",
  onFailure: 'untouched',
  dryRun: 'skip',
  async run(context) {
    const { executor } = context;
    if (!executor.verifyDestroy) return;
    return runCheck(context, VERIFY, () => executor.verifyDestroy!(context.input, context.runner, context.results));
  },
};
