// The attempt phases of `destroy`: the executor's teardown planned from the running version's stored
// config and artifacts, run through the attempt's runner, then checked. They sit between the standard
// phases that take the lock, open and close the record, and tell the team (see engine/destroy.ts).
import { ExitCode, InterruptedError } from '../../errors.js';
import type { AttemptPhase } from '../lifecycle.js';
import { maskText } from '../secrets.js';
import { keepArtifacts, prepareInput } from '../steps.js';
import { describeAction } from '../unsaved.js';
import { requireStepApproval, runCommands } from './attempt.js';

/** Read-only work, then the plan: a failure here changed nothing (recorded failed, nothing marked bad). */
export const prepareDestroyPhase: AttemptPhase = {
  scope: 'attempt',
  name: 'prepare',
  does: "the executor's read-only preparation (docker ps, compose config...) and its plan of the teardown; a step that needs approval is refused here when nobody can be asked",
  onFailure: 'untouched',
  dryRun: 'run',
  async run(context) {
    const { executor, runner, deps, request } = context;
    if (!executor.planDestroy) throw new Error(`the ${executor.type} executor has no planDestroy`);
    const ready = context.missingTools.length ? { input: context.input, notes: [] } : await prepareInput(executor, context.input, runner);
    if (typeof ready === 'string') return { exitCode: ExitCode.deployFailed, message: ready };
    context.input = ready.input;
    const plan = await executor.planDestroy(context.input);
    context.plan = plan;
    if (plan.preview !== undefined) deps.emit({ type: 'log', level: 'info', message: maskText(plan.preview, context.target.secretValues) });
    keepArtifacts(context, plan.artifacts);
    context.commands.destroy = plan.commands;
    context.planned.push(...plan.commands);
    context.notes.push(...ready.notes, ...plan.notes);
    if (context.missingTools.length) context.notes.push(`${context.missingTools.join(', ')} not found on PATH: a real destroy would stop here`);
    requireStepApproval(request, plan, runner);
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
    const { executor, deps } = context;
    if (!executor.verifyDestroy) return;
    deps.emit({ type: 'phase', phase: 'verify', status: 'start' });
    const verified = await executor.verifyDestroy(context.input, context.runner, context.results);
    if (deps.signal?.aborted) return { exitCode: ExitCode.interrupted, message: 'interrupted during verify' };
    if (!verified.ok) {
      deps.emit({ type: 'phase', phase: 'verify', status: 'failed', message: verified.message });
      return { exitCode: ExitCode.deployFailed, message: `verify: ${verified.message}` };
    }
    deps.emit({ type: 'phase', phase: 'verify', status: 'done', message: verified.message });
  },
};
