// Renders, at build time and through the very commander program of dist/cli/main.bundle.cjs, what
// `deployctl --help`, `-h`, `help`, `--version`, `-V`, `deployctl` alone and each command's `--help`
// print, into dist/cli/help.json. bin/deployctl.cjs prints it for exactly those arguments without
// loading commander or any bundle (see BENCHMARKS.md, "Start-up, session 3"). Nothing here is written
// by hand, so the text cannot drift from commander's: a new command appears on the next build, and
// test/cli/help-fast-path.test.ts compares the file with main()'s output.
//
// commander wraps help to the terminal's width (process.stdout.columns when it is a terminal, 80
// otherwise), so each case also records the terminal widths at which commander prints the very same
// text (every width up to 300 for the program's own cases, 80 for a command's); at any other width the
// binary lets commander render it.
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const { main } = require(join(root, 'dist/cli/main.bundle.cjs'));
/** Terminal widths tried; a terminal wider than this gets commander's own rendering. */
const MAX_WIDTH = 300;

class Capture extends Writable {
  text = '';
  _write(chunk, _encoding, done) {
    this.text += chunk.toString();
    done();
  }
}

/** What main() prints for these arguments with the standard streams seen as terminals `width` wide (undefined: not terminals). */
async function render(args, width) {
  const streams = [process.stdout, process.stderr];
  const saved = streams.map((s) => [Object.getOwnPropertyDescriptor(s, 'isTTY'), Object.getOwnPropertyDescriptor(s, 'columns')]);
  for (const s of streams) {
    Object.defineProperty(s, 'isTTY', { value: width !== undefined, configurable: true, writable: true });
    Object.defineProperty(s, 'columns', { value: width, configurable: true, writable: true });
  }
  try {
    const io = { stdout: new Capture(), stderr: new Capture(), stdin: Readable.from([]), env: { PATH: process.env.PATH, NO_COLOR: '1' }, cwd: root };
    const code = await main(['node', 'deployctl', ...args], io);
    return { code, stdout: io.stdout.text, stderr: io.stderr.text };
  } finally {
    streams.forEach((s, i) => {
      for (const [name, descriptor] of [['isTTY', saved[i][0]], ['columns', saved[i][1]]]) {
        if (descriptor) Object.defineProperty(s, name, descriptor);
        else delete s[name];
      }
    });
  }
}

const top = await render(['--help']);
const commandsAt = top.stdout.indexOf('\nCommands:\n');
if (top.code !== 0 || commandsAt < 0) throw new Error(`prerender-help: deployctl --help printed no command list:\n${top.stdout}${top.stderr}`);
const names = top.stdout
  .slice(commandsAt + '\nCommands:\n'.length)
  .split('\n')
  .map((line) => /^ {2}([a-z][\w-]*)/.exec(line)?.[1])
  .filter((name) => name && name !== 'help');
if (names.length === 0) throw new Error('prerender-help: no command names found in deployctl --help');

const cases = [[], ['--help'], ['-h'], ['help'], ['--version'], ['-V'], ...names.flatMap((name) => [[name, '--help'], [name, '-h'], ['help', name]])];
// bin/deployctl.cjs reads the table only for these arguments.
for (const args of cases) {
  if (!(args.length === 0 || (args.length <= 2 && args.some((a) => /^(-h|--help|-V|--version|help)$/.test(a))))) {
    throw new Error(`prerender-help: bin/deployctl.cjs would never look up deployctl ${args.join(' ')}`);
  }
}
const texts = [];
const out = { cases: {}, texts };
for (const args of cases) {
  const plain = await render(args);
  if (plain.stdout && plain.stderr) throw new Error(`prerender-help: deployctl ${args.join(' ')} writes to both stdout and stderr`);
  const fd = plain.stderr ? 2 : 1;
  const text = plain.stderr || plain.stdout;
  // The widths at which a terminal shows the same text, as [from, to] ranges.
  const widths = [];
  for (const width of args.length === 2 ? [80] : Array.from({ length: MAX_WIDTH + 1 }, (_, i) => i)) {
    const atWidth = await render(args, width);
    const same = atWidth.code === plain.code && atWidth.stdout === plain.stdout && atWidth.stderr === plain.stderr;
    if (!same) continue;
    const last = widths[widths.length - 1];
    if (last && last[1] === width - 1) last[1] = width;
    else widths.push([width, width]);
  }
  let index = texts.indexOf(text);
  if (index < 0) index = texts.push(text) - 1;
  out.cases[JSON.stringify(args)] = { code: plain.code, fd, text: index, widths };
}
writeFileSync(join(root, 'dist/cli/help.json'), `${JSON.stringify(out)}\n`);
console.log(`prerender-help: ${cases.length} cases, ${texts.length} texts`);
