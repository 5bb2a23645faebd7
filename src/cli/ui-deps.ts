// What the `ui` board can do: the core's functions, as the CLI calls them, with the board's own emit
// (its live view) and approver (the board asked its own y/N question before it starts one).
import type { CliContext } from './context.js';
import type { BoardDeps } from '../ui/board.js';
import type { Approver, CoreDeps } from '../core/deps.js';
import type { DeployEvent } from '../engine/events.js';
import { UsageError } from '../errors.js';
import { createCoreDeps } from './core-deps.js';
import { openContextState } from './context.js';

/** The board confirmed the action with its own question before starting it. */
const confirmedOnTheBoard: Approver = { approved: true, canAsk: false, ask: async () => false };

export async function createBoardDeps(ctx: CliContext): Promise<BoardDeps> {
  // An unusable state folder is said before the board is drawn.
  const state = await openContextState(ctx);
  const core = (emit?: (event: DeployEvent) => void): CoreDeps => createCoreDeps(ctx, { emit, approver: confirmedOnTheBoard });
  // The core's deployment side loads only when a rollback or promotion is asked for: the first frame comes sooner.
  const rollbacks = () => import('../core/rollback.js');
  const promotions = () => import('../core/promote.js');
  const { boardData } = await import('../core/status.js');
  const preview = async (work: () => Promise<string>) => {
    try {
      return { version: await work() };
    } catch (error) {
      if (error instanceof UsageError) return { reason: error.message };
      throw error;
    }
  };
  const run = async (onEvent: (e: DeployEvent) => void, start: (core: CoreDeps) => Promise<{ exitCode: number }>) => {
    try {
      return await start(core(onEvent));
    } finally {
      // What the history met while the work read it (a damaged record skipped, an index rebuilt).
      for (const message of state.history.warnings()) onEvent({ type: 'log', level: 'warn', message });
    }
  };
  return {
    loadBoard: () => boardData(core()),
    loadHistory: (app, env) => state.history.list({ app, env, limit: 50 }),
    previewRollback: (app, env) => preview(async () => (await (await rollbacks()).prepareRollback({ app, env }, core())).target.version),
    previewPromotion: (app, from, to) => preview(async () => (await (await promotions()).preparePromotion({ app, from, to }, core())).version),
    rollback: (app, env, onEvent) => run(onEvent, async (deps) => (await rollbacks()).rollback({ app, env }, deps)),
    promote: (app, from, to, onEvent) => run(onEvent, async (deps) => (await promotions()).promote({ app, from, to }, deps)),
    watch: (onChange) => state.watch(onChange),
  };
}
