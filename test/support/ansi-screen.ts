// A tiny terminal for tests: applies what a live view writes (text, carriage return, newline as the
// terminal driver sends it (CR LF), cursor up, erase to the end of the screen, hide/show the cursor,
// colours) to a screen of a given width, wrapping long lines as a terminal does. Anything else (another
// escape sequence, a control character) fails the test: the view must never send it.
import { Writable } from 'node:stream';

const ESCAPE = /^\u001B\[(\??)([\d;]*)([A-Za-z])/;

/** Columns a character takes on this screen: a short list of wide ranges, marks 0. Independent of src/. */
function cellWidth(char: string): number {
  const code = char.codePointAt(0)!;
  if (/\p{M}/u.test(char)) return 0;
  if ((code >= 0x3040 && code <= 0x30ff) || (code >= 0x4e00 && code <= 0x9fff) || (code >= 0xac00 && code <= 0xd7a3) || (code >= 0xff00 && code <= 0xff60) || (code >= 0x1f300 && code <= 0x1faff)) return 2;
  return 1;
}

export class AnsiScreen {
  private rows: string[][] = [[]];
  private row = 0;
  private col = 0;
  cursorVisible = true;
  /** Foreground colours set so far (SGR 30-37, 90-97). */
  coloursSeen = 0;

  constructor(public width: number) {}

  write(text: string): void {
    let rest = text;
    while (rest.length > 0) {
      const escape = ESCAPE.exec(rest);
      if (escape) {
        this.apply(escape[1]!, escape[2]!, escape[3]!, escape[0]);
        rest = rest.slice(escape[0].length);
        continue;
      }
      const char = String.fromCodePoint(rest.codePointAt(0)!);
      rest = rest.slice(char.length);
      if (char === '\r') this.col = 0;
      else if (char === '\n') {
        this.row += 1;
        this.col = 0;
        this.rows[this.row] ??= [];
      } else if (/[\u0000-\u001F\u007F-\u009F]/.test(char)) throw new Error(`the view wrote a control character: ${JSON.stringify(char)}`);
      else this.put(char);
    }
  }

  private put(char: string): void {
    const width = cellWidth(char);
    if (width === 0) {
      const line = this.rows[this.row]!;
      if (this.col > 0) line[this.col - 1] += char;
      return;
    }
    if (this.col + width > this.width) {
      this.row += 1;
      this.col = 0;
      this.rows[this.row] ??= [];
    }
    const line = this.rows[this.row]!;
    while (line.length < this.col) line.push(' ');
    line[this.col] = char;
    if (width === 2) line[this.col + 1] = '';
    this.col += width;
  }

  private apply(private_: string, params: string, final: string, whole: string): void {
    if (private_ === '?' && params === '25' && (final === 'l' || final === 'h')) {
      this.cursorVisible = final === 'h';
      return;
    }
    if (private_) throw new Error(`the view wrote an unexpected escape sequence: ${JSON.stringify(whole)}`);
    if (final === 'A') {
      this.row = Math.max(0, this.row - Number(params || 1));
      return;
    }
    if (final === 'J' && (params === '' || params === '0')) {
      this.rows[this.row]!.length = Math.min(this.rows[this.row]!.length, this.col);
      this.rows.length = this.row + 1;
      return;
    }
    if (final === 'm') {
      for (const code of params.split(';').map(Number)) if ((code >= 30 && code <= 37) || (code >= 90 && code <= 97)) this.coloursSeen += 1;
      return;
    }
    throw new Error(`the view wrote an unexpected escape sequence: ${JSON.stringify(whole)}`);
  }

  /** The screen's lines, trailing blanks and empty lines at the end left out. */
  lines(): string[] {
    const lines = this.rows.map((cells) => cells.join('').trimEnd());
    while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
    return lines;
  }

  /** A line's width in columns, as this screen counts it. */
  static widthOf(line: string): number {
    return [...line].reduce((sum, char) => sum + cellWidth(char), 0);
  }
}

/** A terminal stream (isTTY, columns, rows) whose writes land on an AnsiScreen at once; `raw` keeps them. */
export class FakeTerminal extends Writable {
  readonly isTTY = true;
  raw = '';
  writes = 0;
  readonly screen: AnsiScreen;

  constructor(
    public columns: number,
    public rows = 24,
  ) {
    super({ decodeStrings: false });
    this.screen = new AnsiScreen(columns);
  }

  override _write(chunk: string | Buffer, _encoding: BufferEncoding, done: () => void): void {
    const text = chunk.toString();
    this.raw += text;
    this.writes += 1;
    this.screen.write(text);
    done();
  }

  /** A resize: the screen keeps its content at the new width (new lines wrap at it). */
  resize(columns: number): void {
    this.columns = columns;
    this.screen.width = columns;
    this.emit('resize');
  }
}
