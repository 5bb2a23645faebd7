// The Ink side of deployctl, loaded only when a terminal shows it (bundled into dist/ui-bundle/).
import { render } from 'ink';
import type { DeployEvent } from '../engine/events.js';
import { Board, type BoardDeps } from './board.js';
import { initialProgress, reduceProgress } from './progress-state.js';
import { ProgressView } from './progress-view.js';

export function createInkProgress(options: { stderr: NodeJS.WriteStream }) {
  let state = initialProgress;
  let paused = false;
  const view = () => <ProgressView state={paused ? { ...state, running: undefined, tail: [] } : state} animate={!paused} />;
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

export async function runBoard(options: { deps: BoardDeps; stdout: NodeJS.WriteStream; stdin: NodeJS.ReadStream }): Promise<void> {
  const instance = render(<Board deps={options.deps} width={options.stdout.columns ?? 80} height={options.stdout.rows ?? 24} />, {
    stdout: options.stdout,
    stdin: options.stdin,
    exitOnCtrlC: true,
    patchConsole: false,
  });
  await instance.waitUntilExit();
}
