// The Ink side of deployctl: the `ui` board, loaded only when it runs (bundled into dist/ui-bundle/).
import { render } from 'ink';
import { Board, type BoardData, type BoardDeps } from './board.js';
import { ColorContext } from './color.js';

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
