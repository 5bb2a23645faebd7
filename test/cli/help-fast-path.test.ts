// `deployctl --help`, `--version`, `deployctl` alone and `deployctl <command> --help` print the text the
// build had commander render (dist/cli/help.json, scripts/prerender-help.mjs), without loading commander.
// These tests hold that text to what main() prints today, for every case and every command, and check
// that a terminal of another width still gets commander's own wrapping.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, cliPath, repoRoot, runCli } from '../support/cli.js';

interface Case {
  code: number;
  fd: 1 | 2;
  text: number;
  widths: Array<[number, number]>;
}
const table = JSON.parse(readFileSync(join(repoRoot, 'dist/cli/help.json'), 'utf8')) as { cases: Record<string, Case>; texts: string[] };

/** main() renders as for a pipe (commander looks at process.stdout and process.stderr for a terminal's width). */
function asPipes(columns?: number): () => void {
  const streams = [process.stdout, process.stderr];
  const saved = streams.map((s) => [Object.getOwnPropertyDescriptor(s, 'isTTY'), Object.getOwnPropertyDescriptor(s, 'columns')] as const);
  for (const s of streams) {
    Object.defineProperty(s, 'isTTY', { value: columns !== undefined, configurable: true, writable: true });
    Object.defineProperty(s, 'columns', { value: columns, configurable: true, writable: true });
  }
  return () =>
    streams.forEach((s, i) => {
      for (const [name, descriptor] of [['isTTY', saved[i]![0]], ['columns', saved[i]![1]]] as const) {
        if (descriptor) Object.defineProperty(s, name, descriptor);
        else delete (s as unknown as Record<string, unknown>)[name];
      }
    });
}

describe('help and version printed without commander', () => {
  let restore: () => void;
  beforeAll(() => {
    restore = asPipes();
  });
  afterAll(() => restore());

  it('cover the program and every command it has (a new command needs no hand-written text)', async () => {
    const help = await runCli(['--help']);
    const commands = help.stdout
      .slice(help.stdout.indexOf('\nCommands:\n'))
      .split('\n')
      .flatMap((line) => /^ {2}([a-z][\w-]*)/.exec(line)?.[1] ?? [])
      .filter((name) => name !== 'help');
    expect(commands).toContain('deploy');
    for (const args of [[], ['--help'], ['-h'], ['help'], ['--version'], ['-V'], ...commands.flatMap((c) => [[c, '--help'], [c, '-h'], ['help', c]])]) {
      expect(Object.keys(table.cases), `deployctl ${args.join(' ')}`).toContain(JSON.stringify(args));
    }
  });

  it.each(Object.keys(table.cases))('%s: the same text, stream and exit code as main()', async (key) => {
    const args = JSON.parse(key) as string[];
    const found = table.cases[key]!;
    const run = await runCli(args);
    expect(run.code).toBe(found.code);
    expect(found.fd === 1 ? run.stdout : run.stderr).toBe(table.texts[found.text]);
    expect(found.fd === 1 ? run.stderr : run.stdout).toBe('');
  });

  it('the binary prints it, with the exit code', () => {
    const help = spawnSync(process.execPath, [cliPath, '--help'], { env: cleanEnv(), encoding: 'utf8' });
    expect(help.status).toBe(0);
    expect(help.stdout).toBe(table.texts[table.cases['["--help"]']!.text]);
    const bare = spawnSync(process.execPath, [cliPath], { env: cleanEnv(), encoding: 'utf8' });
    expect(bare.status).toBe(2);
    expect(bare.stderr).toBe(table.texts[table.cases['[]']!.text]);
    expect(bare.stdout).toBe('');
  });
});

const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;

describe.skipIf(!hasScript)('help in a terminal (util-linux script)', () => {
  /** What the binary prints in a pseudo-terminal of this width. */
  const inTerminal = (columns: number, args: string[]) =>
    execFileSync('script', ['-qec', `stty cols ${columns}; ${[process.execPath, cliPath, ...args].map((a) => `'${a}'`).join(' ')}`, '/dev/null'], {
      env: cleanEnv(),
      encoding: 'utf8',
    }).replaceAll('\r\n', '\n');

  it.each([80, 100, 200])('%i columns: commander wraps it as for that width', async (columns) => {
    const restore = asPipes(columns);
    let expected: string;
    try {
      expected = (await runCli(['--help'])).stdout;
    } finally {
      restore();
    }
    expect(inTerminal(columns, ['--help'])).toBe(expected);
  });
});
