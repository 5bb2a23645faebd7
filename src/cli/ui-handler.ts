// deployctl ui: the live board, in a terminal only, over the same core functions as the CLI.
import type { CliContext, CommandResult } from './context.js';
import { UsageError } from '../errors.js';
import { loadInteractive } from '../ui/load.js';
import { createBoardDeps } from './ui-deps.js';

export async function runUi(ctx: CliContext): Promise<CommandResult> {
  if (!ctx.io.stdin.isTTY || !ctx.io.stdout.isTTY) {
    throw new UsageError('deployctl ui needs a terminal', 'for scripts and CI, use deployctl status --json (or list --json)');
  }
  const ink = loadInteractive();
  const deps = await createBoardDeps(ctx);
  // The board's data loads while Ink does. Ink spaces frames ~33 ms apart, so a "loading…" frame
  // first would hold the board back: it is drawn with its data when that comes in soon enough.
  const first = deps.loadBoard();
  const { runBoard } = await ink;
  const initial = (await settledWithin(first, 250)) ?? first;
  await runBoard({ deps, initial, stdout: ctx.io.stdout as NodeJS.WriteStream, stdin: ctx.io.stdin as NodeJS.ReadStream, color: ctx.color });
  return { exitCode: 0 };
}

/** The promise's value if it settles within `ms`, else undefined (and it goes on). */
async function settledWithin<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const late = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), ms);
    });
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}
