// The Ink side of deployctl, loaded only when a terminal shows it (bundled into dist/ui-bundle/).
import { render } from 'ink';
import type { DeployEvent } from '../engine/events.js';
import { Board, type BoardData, type BoardDeps } from './board.js';
import { ColorContext } from './color.js';
import { initialProgress, reduceProgress } from './progress-state.js';
import { ProgressView } from './progress-view.js';

export function createInkProgress(options: { stderr: NodeJS.WriteStream; color: boolean }) {
  let state = initialProgress;
  let paused = false;
  const view = () => (
    <ColorContext.Provider value={options.color}>
      <ProgressView state={paused ? { ...state, running: undefined, tail: [] } : state} animate={!paused} />
    </ColorContext.Provider>
  );
  const instance = render(view(), { stdout: options.stderr, patchConsole: false, exitOnCtrlC: false });
  return {
    emit(event: DeployEvent) {
      state = reduceProgress(state, event);
      instance.rerender(view());
    },
    pause() {
      paused = true;
      instance.rerender(view());
    },
    resume() {
      paused = false;
      instance.rerender(view());
    },
    async finish() {
      state = { ...state, running: undefined, tail: [] };
      instance.rerender(view());
      instance.unmount();
      await instance.waitUntilExit();
    },
  };
}

export async function runBoard(options: {
  deps: BoardDeps;
  initial?: BoardData | Promise<BoardData>;
  stdout: NodeJS.WriteStream;
  stdin: NodeJS.ReadStream;
  color: boolean;
}): Promise<void> {
  const board = () => (
    <ColorContext.Provider value={options.color}>
      <Board deps={options.deps} initial={options.initial} width={options.stdout.columns ?? 80} height={options.stdout.rows ?? 24} />
    </ColorContext.Provider>
  );
  const instance = render(board(), {
    stdout: options.stdout,
    stdin: options.stdin,
    exitOnCtrlC: true,
    patchConsole: false,
  });
  // A resized terminal gets a board laid out for its new size.
  const resize = () => instance.rerender(board());
  options.stdout.on('resize', resize);
  try {
    await instance.waitUntilExit();
  } finally {
    options.stdout.off('resize', resize);
  }
}
