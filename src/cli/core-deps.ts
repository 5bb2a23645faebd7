// The core's container for one command: built from the CLI's context, handed to the core, which never
// sees the context itself.
import type { Approver, CoreDeps } from '../core/deps.js';
import type { DeployEvent } from '../engine/events.js';
import { lazyEngineParts } from '../core/engine-parts.js';
import { currentIdentity } from '../identity.js';
import { detectCi } from '../notify/ci.js';
import { openContextState, type CliContext } from './context.js';

interface CoreOptions {
  emit?: (event: DeployEvent) => void;
  signal?: AbortSignal;
  approver?: Approver;
}

export function createCoreDeps(ctx: CliContext, options: CoreOptions = {}): CoreDeps {
  const env = ctx.io.env;
  return {
    state: () => openContextState(ctx),
    configDir: ctx.configDir,
    env,
    engine: lazyEngineParts(env),
    clock: () => new Date(),
    identity: currentIdentity(env),
    ci: detectCi(env),
    commandLine: ctx.commandLine,
    emit: options.emit ?? (() => {}),
    signal: options.signal,
    approver: options.approver ?? terminalApprover(ctx, false),
  };
}

/**
 * Approval in a terminal: --yes up front, else a y/N question on stderr (the live view steps aside
 * while it is asked), and never a question without a terminal or under CI (refused, exit 6).
 */
export function terminalApprover(ctx: CliContext, yes: boolean, around: { before?: () => void; after?: () => void } = {}): Approver {
  return {
    approved: yes,
    canAsk: !ctx.nonInteractive,
    async ask(question) {
      around.before?.();
      const { createInterface } = await import('node:readline/promises');
      const rl = createInterface({ input: ctx.io.stdin, output: ctx.io.stderr });
      try {
        const answer = await rl.question(`${question} [y/N] `);
        return /^y(es)?$/i.test(answer.trim());
      } finally {
        rl.close();
        around.after?.();
      }
    },
  };
}
