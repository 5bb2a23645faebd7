// Every command's --json output validates against its documented schema in docs/json/, and the exit
// codes of the SPEC hold command by command.
import Ajv from 'ajv';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from 'node:http';
import { beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, repoRoot, runCli, tempDir } from '../support/cli.js';

const ajv = new Ajv.default({ allErrors: true, strict: false });
const validator = (name: string) => ajv.compile(JSON.parse(readFileSync(join(repoRoot, 'docs/json', `${name}.schema.json`), 'utf8')));

describe('--json documents and exit codes', () => {
  const dir = tempDir();
  let env: NodeJS.ProcessEnv;
  let port = 0;

  beforeAll(async () => {
    const server = createServer((_q, s) => s.end('ok')).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    port = (server.address() as { port: number }).port;
    writeFileSync(join(dir, 'environments.yaml'), 'environments:\n  dev: {}\n  prod: {}\n');
    writeFileSync(
      join(dir, 'deployments.yaml'),
      `deployments:\n  web:\n    type: shell\n    commands: [[node, -e, "0"]]\n    health_check: { url: "http://127.0.0.1:${port}/", retries: 0 }\n  down:\n    type: shell\n    commands: [[node, -e, "0"]]\n    health_check: { url: "http://127.0.0.1:1/", retries: 0, timeout: 500ms }\n`,
    );
    env = cleanEnv({ DEPLOYCTL_HOME: tempDir(), DEPLOYCTL_CONFIG_DIR: dir });
    return () => server.close();
  });

  const check = async (schema: string, args: string[], exitCode: number) => {
    const run = await runCli([...args, '--json'], { env });
    expect(run.code, run.stderr).toBe(exitCode);
    const document = JSON.parse(run.stdout);
    const validate = validator(schema);
    expect(validate(document), JSON.stringify(validate.errors)).toBe(true);
    return document;
  };

  it.each([
    ['deployment', ['deploy', 'web', '-e', 'dev', '--version', '1.0.0'], 0],
    ['deployment', ['deploy', 'web', '-e', 'dev', '--version', '1.1.0'], 0],
    ['deployment', ['rollback', 'web', '-e', 'dev'], 0],
    ['deployment', ['promote', 'web', '--to', 'prod'], 0],
    ['dry-run', ['deploy', 'web', '-e', 'dev', '--version', '2.0.0', '--dry-run'], 0],
    ['deployment', ['deploy', 'down', '-e', 'dev', '--version', '1.0.0'], 4],
    ['status', ['status'], 0],
    ['history', ['history', '--limit', '3'], 0],
    ['list', ['list'], 0],
    ['health', ['health', 'web', '-e', 'dev'], 0],
    ['health', ['health', 'down', '-e', 'dev'], 4],
    ['validate', ['validate'], 0],
    ['diff', ['diff', 'dev', 'prod'], 0],
    ['audit', ['audit'], 0],
    ['error', ['deploy', 'web', '-e', 'dev', '--version', 'bad version'], 2],
    ['error', ['deploy', 'nope', '-e', 'dev', '--version', '1'], 2],
    ['error', ['history', 'show', 'no_such_record'], 2],
    ['error', ['rollback', 'down', '-e', 'dev'], 2],
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
    const unlock = await runCli(['unlock', 'web', '-e', 'dev'], { env });
    expect(unlock.code).toBe(0);
    expect(unlock.stdout).toContain('removed the lock of web in dev, held by bo@elsewhere');
  });
});
