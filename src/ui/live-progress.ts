// The live progress of a deploy, rollback, promotion or destroy in a terminal, without Ink or React (they
// cost a deploy ~150 ms to load): each finished line written once, below them a live region (the running
// step with a spinner and the last lines of its output) redrawn in place, at most every DRAW_MS.
// The same content and marks as the board's ProgressView (progress-view.tsx); it only displays events.
import type { DeployEvent } from '../engine/events.js';
import { initialProgress, reduceProgress, type ProgressLine, type ProgressState } from './progress-state.js';
import { cutToWidth, safeLine } from './terminal-text.js';

/** What the live view needs of a terminal stream (process.stderr is one). */
export interface LiveStream {
  write: NodeJS.WritableStream['write'];
  columns?: number;
  rows?: number;
  on?(event: 'resize', listener: () => void): unknown;
  off?(event: 'resize', listener: () => void): unknown;
}

export interface LiveProgress {
  emit(event: DeployEvent): void;
  /** Clears the live region, so that other code can ask a question; finished lines are held until resume. */
  pause(): void;
  resume(): void;
  /** Clears the live region and writes the lines not written yet; the cursor shows again. */
  finish(): Promise<void>;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const SPIN_MS = 80;
/** Output comes in bursts: one redraw for all the lines of a burst. */
const DRAW_MS = 40;
const COLOUR = { green: 32, red: 31, gray: 90, cyan: 36, yellow: 33 } as const;
type Colour = keyof typeof COLOUR;
const MARK: Record<ProgressLine['status'], [string, Colour]> = {
  done: ['✓', 'green'],
  failed: ['✗', 'red'],
  skipped: ['-', 'gray'],
  info: ['•', 'cyan'],
  warn: ['!', 'yellow'],
  output: [' ', 'gray'],
};
const HIDE_CURSOR = '\u001B[?25l';
const SHOW_CURSOR = '\u001B[?25h';
const ERASE_DOWN = '\u001B[J';

export function createLiveProgress(options: { stream: LiveStream; color: boolean }): LiveProgress {
  const { stream } = options;
  const paint = (colour: Colour, text: string) => (options.color ? `\u001B[${COLOUR[colour]}m${text}\u001B[39m` : text);
  // A line cut to the width leaves the last column free: a character the terminal draws wider than
  // counted here then still fits, and never wraps into a line the redraw would not erase.
  const width = () => Math.max(10, (stream.columns || 80) - 1);

  let state: ProgressState = initialProgress;
  /** Finished lines written so far. */
  let written = 0;
  /** Lines of the live region on the screen now; the cursor is at the start of the line below them. */
  let region = 0;
  let frame = 0;
  let paused = false;
  let finished = false;
  let cursorHidden = false;
  /** Something else wrote text that did not end its line: ours starts on the next one. */
  let midLine = false;
  let drawTimer: NodeJS.Timeout | undefined;
  let spinTimer: NodeJS.Timeout | undefined;

  // Anything else written to the terminal while the region shows (the warning after a Ctrl-C, a
  // console.error) goes above the region, instead of under it where the next redraw would erase it.
  const ownWrite = stream.write;
  const hadOwnWrite = Object.prototype.hasOwnProperty.call(stream, 'write');
  const write = (text: string) => ownWrite.call(stream, text);
  stream.write = function (this: unknown, ...args: Parameters<NodeJS.WritableStream['write']>) {
    const [chunk] = args;
    if (!paused && !finished) {
      draw({ live: false });
      schedule();
    }
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    if (text) midLine = !text.endsWith('\n');
    return (ownWrite as (...a: unknown[]) => boolean).apply(stream, args);
  } as NodeJS.WritableStream['write'];

  const clearRegion = () => (region > 0 ? `\r\u001B[${region}A${ERASE_DOWN}` : '');

  const finishedLine = (line: ProgressLine) => {
    if (line.status === 'output') return paint('gray', cutToWidth(`  │ ${safeLine(line.text)}`, width()));
    const [mark, colour] = MARK[line.status];
    // Finished lines stay: a long one may wrap, a message of several lines keeps them.
    return `${paint(colour, mark)} ${line.text.split('\n').map(safeLine).join('\n')}`;
  };

  const liveLines = (): string[] => {
    if (!state.running) return [];
    const columns = width();
    const lines = [
      `${paint('cyan', FRAMES[frame])} ${cutToWidth(safeLine(state.running), columns - 2)}`,
      ...state.tail.map((line) => paint('gray', cutToWidth(`  │ ${safeLine(line)}`, columns))),
    ];
    // A region taller than the screen could not be moved back over: the spinner line and the newest output.
    const room = stream.rows ? Math.max(1, stream.rows - 1) : lines.length;
    return lines.length > room ? [lines[0], ...lines.slice(lines.length - (room - 1))].slice(0, room) : lines;
  };

  /** Clears the region, writes the finished lines not written yet, then (unless paused) the region anew. */
  function draw({ live = !paused && !finished } = {}) {
    if (drawTimer) clearTimeout(drawTimer);
    drawTimer = undefined;
    let out = '';
    for (const line of state.done.slice(written)) out += `${finishedLine(line)}\n`;
    written = state.done.length;
    const lines = live ? liveLines() : [];
    for (const line of lines) out += `${line}\n`;
    if (lines.length > 0 && !cursorHidden) {
      out = HIDE_CURSOR + out;
      cursorHidden = true;
    }
    if (region > 0) out = clearRegion() + out;
    else if (out && midLine) out = `\n${out}`;
    if (out) midLine = false;
    region = lines.length;
    if (out) write(out);
  }

  function schedule() {
    if (paused || finished || drawTimer) return;
    drawTimer = setTimeout(draw, DRAW_MS);
    drawTimer.unref();
  }

  function spin() {
    if (spinTimer) return;
    spinTimer = setInterval(() => {
      frame = (frame + 1) % FRAMES.length;
      if (state.running) draw();
    }, SPIN_MS);
    spinTimer.unref();
  }

  function stopSpinning() {
    if (spinTimer) clearInterval(spinTimer);
    spinTimer = undefined;
  }

  function showCursor() {
    if (cursorHidden) write(SHOW_CURSOR);
    cursorHidden = false;
  }

  // After a second Ctrl-C the process ends without finish(): the cursor must not stay hidden.
  const onExit = () => showCursor();
  const onResize = () => {
    if (!paused && !finished) draw();
  };
  process.on('exit', onExit);
  stream.on?.('resize', onResize);
  spin();

  return {
    emit(event) {
      state = reduceProgress(state, event);
      schedule();
    },
    pause() {
      if (finished) return;
      paused = true;
      stopSpinning();
      draw({ live: false });
      // The question gets a cursor.
      showCursor();
    },
    resume() {
      if (finished) return;
      paused = false;
      draw();
      spin();
    },
    async finish() {
      if (finished) return;
      state = { ...state, running: undefined, tail: [] };
      finished = true;
      stopSpinning();
      draw({ live: false });
      showCursor();
      process.off('exit', onExit);
      stream.off?.('resize', onResize);
      if (hadOwnWrite) stream.write = ownWrite;
      else delete (stream as Partial<LiveStream>).write;
    },
  };
}
