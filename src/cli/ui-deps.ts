// What the `ui` board can do, wired to the real config, history and engine.
import { Writable } from 'node:stream';
import type { CliContext } from './context.js';
import type { BoardDeps } from '../ui/board.js';
import { UsageError } from '../errors.js';

export async function createBoardDeps(ctx: CliContext): Promise<BoardDeps> {
  const { loadConfig } = await import('../config/load.js');
  const { openContextState } = await import('./context.js');
  const { loadBoardData } = await import('../ui/board-data.js');
  // The engine side loads only when a rollback or promotion is asked for: the first frame comes sooner.
  const engine = async () => {
    const [{ prepareRollback }, { preparePromotion }, { runDeployment }] = await Promise.all([import('./rollback-work.js'), import('./promote-work.js'), import('./run-deployment.js')]);
    return { prepareRollback, preparePromotion, runDeployment };
  };
  // An unusable state folder is said before the board is drawn.
  const state = await openContextState(ctx);
  // Messages meant for a terminal line (like "promoting ...") must not scribble over the board.
  const quiet: CliContext = { ...ctx, nonInteractive: true, io: { ...ctx.io, stderr: new Writable({ write: (_c, _e, cb) => cb() }) } };
  const deps: BoardDeps = {
    loadBoard: () => loadConfig({ configDir: ctx.configDir, env: ctx.io.env }).then((loaded) => loadBoardData(loaded, state.history)),
    loadHistory: (app, env) => state.history.list({ app, env, limit: 50 }),
    async previewRollback(app, env) {
      try {
        const { prepareRollback } = await engine();
        return { version: (await prepareRollback(quiet, app, { env })).target.version };
      } catch (error) {
        if (error instanceof UsageError) return { reason: error.message };
        throw error;
      }
    },
    async previewPromotion(app, from, to) {
      try {
        const { preparePromotion } = await engine();
        return { version: (await preparePromotion(quiet, app, { from, to })).version };
      } catch (error) {
        if (error instanceof UsageError) return { reason: error.message };
        throw error;
      }
    },
    async rollback(app, env, onEvent) {
      const { prepareRollback, runDeployment } = await engine();
      const { work } = await prepareRollback(quiet, app, { env, yes: true });
      return runDeployment(quiet, work, { emit: onEvent, handleSignals: false });
    },
    async promote(app, from, to, onEvent) {
      const { preparePromotion, runDeployment } = await engine();
      const { work } = await preparePromotion(quiet, app, { from, to, yes: true });
      return runDeployment(quiet, work, { emit: onEvent, handleSignals: false });
    },
    watch: (onChange) => state.watch(onChange),
  };
  return deps;
}
