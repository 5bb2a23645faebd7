// The command line a lock and a record keep (shown by status, refusals and history) is quoted as every
// command deployctl shows, and never holds a database password.
import { PassThrough } from 'node:stream';
import { expect, it } from 'vitest';
import { createContext } from '../../src/cli/context.js';

it('quotes an argument with spaces or quotes, so the line can be run again as shown', () => {
  const io = { stdout: new PassThrough(), stderr: new PassThrough(), stdin: new PassThrough(), env: {}, cwd: '/' };
  const ctx = createContext({}, io, ['deployctl', 'deploy', 'web', '-e', 'dev', '--set', 'variables.MSG=hello world', '--set', "variables.WHO=it's me"]);
  expect(ctx.commandLine).toBe(`deployctl deploy web -e dev --set 'variables.MSG=hello world' --set 'variables.WHO=it'\\''s me'`);
  const pg = createContext({}, io, ['deployctl', 'status', '--state', 'postgres://ana:s3cret@db/deploys']);
  expect(pg.commandLine).toBe('deployctl status --state postgres://ana:***@db/deploys');
});
