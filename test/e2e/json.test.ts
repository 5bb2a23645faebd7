// Every command's --json output validates against its documented schema in docs/json/, and the exit
// codes of the SPEC hold command by command: 0, 1, 2, 3, 4, 5, 6 and 130.
import Ajv from 'ajv';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:http';
import { PassThrough } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { reportFailure } from '../../src/cli/report-failure.js';
import { cleanEnv, cliPath, repoRoot, runCli, tempDir } from '../support/cli.js';

const ajv = new Ajv.default({ allErrors: true, strict: false });
const validator = (name: string) => ajv.compile(JSON.parse(readFileSync(join(repoRoot, 'docs/json', `${name}.schema.json`), 'utf8')));

function expectValid(schema: string, document: unknown) {
  const validate = validator(schema);
  expect(validate(document), `${schema}: ${JSON.stringify(validate.errors)}`).toBe(true);
}

describe('--json documents and exit codes, command by command', () => {
  const dir = tempDir();
  let env: NodeJS.ProcessEnv;
  let port = 0;

  beforeAll(async () => {
    const server = createServer((_q, s) => s.end('ok')).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    port = (server.address() as { port: number }).port;
    writeFileSync(join(dir, 'environments.yaml'), 'environments:\n  dev: {}\n  prod: {}\n  live: { protected: true }\n');
    writeFileSync(
      join(dir, 'deployments.yaml'),
      [
        'deployments:',
        '  web:',
        '    type: shell',
        '    commands: [[node, -e, "0"]]',
        `    health_check: { url: "http://127.0.0.1:${port}/", retries: 0 }`,
        '  down:',
        '    type: shell',
        '    commands: [[node, -e, "0"]]',
        '    health_check: { url: "http://127.0.0.1:1/", retries: 0, timeout: 500ms }',
        '  broken:',
        '    type: shell',
        '    commands: [[node, -e, "process.exit(1)"]]',
        '  slow:',
        '    type: shell',
        '    commands: [[sleep, "30"]]',
        '',
      ].join('\n'),
    );
    env = cleanEnv({ DEPLOYCTL_HOME: tempDir(), DEPLOYCTL_CONFIG_DIR: dir });
    return () => server.close();
  });

  const check = async (schema: string, args: string[], exitCode: number, extraEnv: NodeJS.ProcessEnv = {}) => {
    const run = await runCli([...args, '--json'], { env: { ...env, ...extraEnv } });
    expect(run.code, run.stderr).toBe(exitCode);
    const document = JSON.parse(run.stdout);
    expectValid(schema, document);
    return document;
  };

  // In order: later rows use the history earlier rows made.
  it.each([
    ['deployment', ['deploy', 'web', '-e', 'dev', '--version', '1.0.0'], 0],
    ['deployment', ['deploy', 'web', '-e', 'dev', '--version', '1.1.0'], 0],
    ['deployment', ['promote', 'web', '--to', 'prod'], 0],
    ['deployment', ['rollback', 'web', '-e', 'dev'], 0],
    ['dry-run', ['deploy', 'web', '-e', 'dev', '--version', '2.0.0', '--dry-run'], 0],
    ['deployment', ['deploy', 'broken', '-e', 'dev', '--version', '1.0.0'], 3],
    ['deployment', ['deploy', 'down', '-e', 'dev', '--version', '1.0.0'], 4],
    ['status', ['status'], 0],
    ['history', ['history', '--limit', '3'], 0],
    ['list', ['list'], 0],
    ['health', ['health', 'web', '-e', 'dev'], 0],
    ['health', ['health', 'down', '-e', 'dev'], 4],
    ['validate', ['validate'], 0],
    ['config', ['config', 'web', '-e', 'dev', '--version', '1.0.0'], 0],
    ['diff', ['diff', 'dev', 'prod'], 0],
    ['diff', ['diff', 'dev', 'prod', 'web', '--exit-code'], 2],
    ['audit', ['audit'], 0],
    ['unlock', ['unlock', 'web', '-e', 'dev'], 0],
    ['prune', ['history', 'prune', 'down', '--keep', '5'], 0],
    ['error', ['deploy', 'web', '-e', 'dev', '--version', 'bad version'], 2],
    ['error', ['deploy', 'nope', '-e', 'dev', '--version', '1'], 2],
    ['error', ['deploy', 'web', '--version', '1'], 2],
    ['error', ['history', 'show', 'no_such_record'], 2],
    ['error', ['rollback', 'down', '-e', 'dev'], 2],
    ['error', ['promote', 'web', '--to', 'prod'], 2],
    ['error', ['ui'], 2],
    ['error', ['deploy', 'web', '-e', 'live', '--version', '1.0.0'], 6],
  ])('%s: deployctl %j exits %i', async (schema, args, code) => {
    await check(schema, args as string[], code as number);
  });

  it('exits 5 with the holder when the lock is held, and 0 after unlock', async () => {
    // Another host's lock, not refreshed for an hour: never taken over, but `unlock` needs no --force.
    const hourAgo = new Date(Date.now() - 3_600_000).toISOString();
    writeFileSync(join(env.DEPLOYCTL_HOME!, 'locks', 'web_dev.lock'), JSON.stringify({ app: 'web', env: 'dev', pid: 999999, host: 'elsewhere', user: 'bo', command: 'deployctl deploy web -e dev', startedAt: hourAgo, refreshedAt: hourAgo, token: 't' }));
    const locked = await check('error', ['deploy', 'web', '-e', 'dev', '--version', '3.0.0'], 5);
    expect(locked.error.message).toMatch(/^Lock held by bo@elsewhere \(pid 999999\) since .*, last refreshed 1h ago: deployctl deploy web -e dev\.$/);
    expect(locked.error.hint).toBe('Wait with --wait-lock 5m, or run `deployctl unlock web -e dev` if that run is gone.');
    const unlock = await check('unlock', ['unlock', 'web', '-e', 'dev'], 0);
    expect(unlock.removed).toMatchObject({ user: 'bo', host: 'elsewhere', pid: 999999 });
  });

  it('history show: one record with its steps', async () => {
    const [latest] = (await check('history', ['history', 'web', '-e', 'dev', '--limit', '1'], 0)).records;
    const shown = await check('record', ['history', 'show', latest.id], 0);
    expect(shown.record).toMatchObject({ id: latest.id, app: 'web', env: 'dev', steps: [expect.objectContaining({ exitCode: 0 })] });
  });

  it('validate: exit 2 with every problem when the config is wrong', async () => {
    const bad = tempDir();
    writeFileSync(join(bad, 'environments.yaml'), 'environments:\n  dev: {}\n');
    writeFileSync(join(bad, 'deployments.yaml'), 'deployments:\n  web:\n    type: shell\n    comands: []\n');
    const document = await check('validate', ['validate', '--config-dir', bad], 2);
    expect(document).toMatchObject({ ok: false, problems: [{ line: 4, column: 5, path: 'deployments.web.comands', message: 'unknown key "comands" for a shell app (did you mean "commands"?)' }] });
  });

  it('exit 130 on Ctrl-C, still one deployment document', async () => {
    const child = spawn(process.execPath, [cliPath, 'deploy', 'slow', '-e', 'dev', '--version', '1.0.0', '--json'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    // The progress on stderr says the command starts: Ctrl-C then (the runner starts nothing after it).
    let stderr = '';
    await new Promise<void>((resolve, reject) => {
      child.stderr.on('data', (d) => ((stderr += d), stderr.includes('$ sleep 30') && resolve()));
      child.once('close', () => reject(new Error(`ended before its command started: ${stderr}`)));
    });
    child.kill('SIGINT');
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect(code).toBe(130);
    const document = JSON.parse(stdout);
    expectValid('deployment', document);
    expect(document).toMatchObject({ ok: false, exitCode: 130, record: { status: 'interrupted' } });
  });

  it('exit 1 for a bug: JSON error, says it is a bug, stack trace only with --verbose', () => {
    const io = () => {
      const out = { stdout: '', stderr: '' };
      const stream = (key: 'stdout' | 'stderr') => Object.assign(new PassThrough(), { write: (s: string) => ((out[key] += s), true) });
      return { out, io: { stdout: stream('stdout'), stderr: stream('stderr'), stdin: new PassThrough(), env: {}, cwd: '/' } as never };
    };
    const quiet = io();
    expect(reportFailure(new TypeError("Cannot read properties of undefined (reading 'x')"), { json: true }, quiet.io)).toBe(1);
    expectValid('error', JSON.parse(quiet.out.stdout));
    expect(JSON.parse(quiet.out.stdout).error).toMatchObject({ code: 'internal', exitCode: 1 });
    expect(quiet.out.stderr).toContain('This is a bug in deployctl. Run again with --verbose for the stack trace and report it.');
    expect(quiet.out.stderr).not.toMatch(/\n\s+at /);
    const verbose = io();
    reportFailure(new TypeError('boom'), { verbose: true }, verbose.io);
    expect(verbose.out.stderr).toMatch(/TypeError: boom\n\s+at /);
  });
});
