// Text for a terminal line: what a command printed made safe to show (no escape sequence or control
// character that could move the cursor), its width in columns, and a cut to a width with "…".

// CSI (ESC [ … final), OSC (ESC ] … BEL or ESC \), DCS/SOS/PM/APC strings, and any other ESC + one
// character; the 8-bit CSI and OSC too.
const ESCAPES = /\u001B\[[0-?]*[ -/]*[@-~]|\u009B[0-?]*[ -/]*[@-~]|(?:\u001B[\]PX^_]|[\u0090\u0098\u009D-\u009F])[^\u0007\u001B\u009C]*(?:\u0007|\u001B\\|\u009C)?|\u001B[ -/]*[0-~]?/g;
const CONTROLS = /[\u0000-\u001F\u007F-\u009F]/g;
const PLAIN = /^[\u0020-\u007E]*$/;
const ZERO_WIDTH = /[\p{Mn}\p{Me}\p{Cf}\u1160-\u11FF\uD800-\uDFFF]/u;
const EMOJI = /\p{Emoji_Presentation}/u;

/**
 * One line as a terminal should show it: escape sequences (colours, cursor moves, titles) removed, a
 * carriage return's overwrite kept as its last non-empty part (a progress bar shows its last state), tabs
 * as a space, other control characters removed.
 */
export function safeLine(text: string): string {
  if (PLAIN.test(text)) return text;
  const parts = text.replace(ESCAPES, '').split('\r');
  const shown = parts.findLast((part) => part !== '') ?? '';
  return shown.replace(/\t/g, ' ').replace(CONTROLS, '');
}

/** Columns a code point takes: 2 for East Asian wide and fullwidth characters and emoji, 0 for marks. */
function codePointWidth(codePoint: number, char: string): number {
  if (
    (codePoint >= 0x1100 && codePoint <= 0x115f) ||
    (codePoint >= 0x231a && codePoint <= 0x231b) ||
    (codePoint >= 0x2e80 && codePoint <= 0x303e) ||
    (codePoint >= 0x3041 && codePoint <= 0x33ff) ||
    (codePoint >= 0x3400 && codePoint <= 0x4dbf) ||
    (codePoint >= 0x4e00 && codePoint <= 0x9fff) ||
    (codePoint >= 0xa000 && codePoint <= 0xa4cf) ||
    (codePoint >= 0xa960 && codePoint <= 0xa97f) ||
    (codePoint >= 0xac00 && codePoint <= 0xd7a3) ||
    (codePoint >= 0xf900 && codePoint <= 0xfaff) ||
    (codePoint >= 0xfe10 && codePoint <= 0xfe19) ||
    (codePoint >= 0xfe30 && codePoint <= 0xfe6f) ||
    (codePoint >= 0xff00 && codePoint <= 0xff60) ||
    (codePoint >= 0xffe0 && codePoint <= 0xffe6) ||
    (codePoint >= 0x1f300 && codePoint <= 0x1f64f) ||
    (codePoint >= 0x1f900 && codePoint <= 0x1f9ff) ||
    (codePoint >= 0x20000 && codePoint <= 0x3fffd)
  ) {
    return 2;
  }
  if (codePoint < 0x300) return 1;
  if (ZERO_WIDTH.test(char)) return 0;
  return EMOJI.test(char) ? 2 : 1;
}

/** The columns each character of a safe line takes (a character followed by VS16 shows as an emoji: 2). */
function widths(text: string): Array<[string, number]> {
  const chars = [...text];
  return chars.map((char, i) => {
    const width = codePointWidth(char.codePointAt(0)!, char);
    return [char, width === 1 && chars[i + 1] === '\uFE0F' ? 2 : width];
  });
}

export function displayWidth(text: string): number {
  if (PLAIN.test(text)) return text.length;
  return widths(text).reduce((sum, [, width]) => sum + width, 0);
}

/** The line cut to `width` columns, ending with "…" when something was cut. */
export function cutToWidth(text: string, width: number): string {
  if (PLAIN.test(text)) return text.length <= width ? text : `${text.slice(0, Math.max(0, width - 1))}…`;
  const chars = widths(text);
  if (chars.reduce((sum, [, w]) => sum + w, 0) <= width) return text;
  let kept = '';
  let used = 0;
  for (const [char, w] of chars) {
    if (used + w > width - 1) break;
    kept += char;
    used += w;
  }
  return `${kept}…`;
}
