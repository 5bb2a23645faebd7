// main() builds only the command a run names first (commands.ts names each); the names must be the
// ones the commands register, or `deployctl <command>` would fall back to building them all (or, for a
// wrong name, run a different command).
import { Command } from 'commander';
import { PassThrough } from 'node:stream';
import { expect, it } from 'vitest';
import { commands } from '../../src/cli/commands.js';
import { main } from '../../src/cli/main.js';

it('names each command as it registers itself, once, each registering one top-level command', () => {
  const app = { globals: (c: Command) => c, action: () => async () => {} };
  for (const [name, register] of commands) {
    const program = new Command('deployctl');
    register(program, app);
    expect(program.commands.map((c) => c.name())).toEqual([name]);
  }
  expect(new Set(commands.map(([name]) => name)).size).toBe(commands.length);
});

it('a run that names its command first behaves as with every command built: a flag of another command is refused, a misspelt command gets a suggestion', async () => {
  const run = async (args: string[]) => {
    const io = { stdout: new PassThrough(), stderr: new PassThrough(), stdin: new PassThrough(), env: {}, cwd: '/' };
    let err = '';
    io.stderr.on('data', (d) => (err += d));
    const code = await main(['node', 'deployctl', ...args], io);
    return { code, err };
  };
  const wrongFlag = await run(['validate', '--limit', '3']);
  expect(wrongFlag.code).toBe(2);
  expect(wrongFlag.err).toContain("unknown option '--limit'");
  const misspelt = await run(['deplyo', 'web']);
  expect(misspelt.code).toBe(2);
  expect(misspelt.err).toContain('(Did you mean deploy?)');
});
