// `deployctl destroy` through main(), as people meet it: what it runs (the running version's), the dry
// run, approval for a protected environment, the lock, nothing to destroy, a setting to add, Ctrl-C,
// and what status, list, history, audit, rollback and health say afterwards.
import Ajv from 'ajv';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { isPidAlive } from '../../src/state/process.js';
import { cleanEnv, cliPath, filesHolding, repoRoot, runCli, tempDir } from '../support/cli.js';

const ajv = new Ajv.default({ allErrors: true, strict: false });
/** A --json document, checked against its schema in docs/json/. */
function expectValid(schema: string, document: unknown) {
  const validate = ajv.compile(JSON.parse(readFileSync(join(repoRoot, 'docs/json', `${schema}.schema.json`), 'utf8')));
  expect(validate(document), `${schema}: ${JSON.stringify(validate.errors)}`).toBe(true);
}

const SECRET = 'tok-5150-secret';

/** A shell app whose commands write what they did into a log (the version from DEPLOY_VERSION). */
function project(environments = 'environments:\n  dev: {}\n  prod: { protected: true }\n') {
  const dir = tempDir('deployctl-destroy-');
  const log = join(dir, 'ran.log');
  const write = (what: string) => `require('fs').appendFileSync(${JSON.stringify(log)}, ${JSON.stringify(what)} + ' ' + process.env.DEPLOY_VERSION + ' ' + process.argv[1] + '\\n')`;
  writeFileSync(join(dir, 'environments.yaml'), environments);
  writeFileSync(
    join(dir, 'deployments.yaml'),
    [
      'secrets: [API_TOKEN]',
      'deployments:',
      '  web:',
      '    type: shell',
      `    commands: [[node, -e, ${JSON.stringify(write('up'))}, "\${API_TOKEN}"]]`,
      `    destroy_commands: [[node, -e, ${JSON.stringify(write('down'))}, "\${API_TOKEN}"]]`,
      '  play:',
      '    type: ansible',
      '    playbook: site.yml',
      '    inventory: "localhost,"',
      '  job:',
      '    type: shell',
      '    commands: [["true"]]',
      '',
    ].join('\n'),
  );
  writeFileSync(join(dir, 'site.yml'), '- hosts: all\n  tasks: []\n');
  const home = tempDir('deployctl-home-');
  const env = cleanEnv({ DEPLOYCTL_HOME: home, DEPLOYCTL_CONFIG_DIR: dir, API_TOKEN: SECRET });
  const ran = () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : []);
  const records = async (app = 'web', envName = 'dev') => JSON.parse((await runCli(['history', app, '-e', envName, '--json'], { env })).stdout).records as Array<Record<string, any>>;
  const locks = () => (existsSync(join(home, 'locks')) ? readdirSync(join(home, 'locks')).filter((f) => f.endsWith('.lock')) : []);
  return { dir, home, env, ran, records, locks };
}

describe('deployctl destroy', () => {
  it('tears down the running version with destroy_commands; dry run, status, list, history, audit, a second destroy, rollback and health afterwards', async () => {
    const p = project();
    const never = await runCli(['destroy', 'web', '-e', 'dev'], { env: p.env });
    expect(never.code).toBe(0);
    expect(never.stdout).toBe('nothing to destroy: web was never deployed to dev\n');
    for (const version of ['1.0.0', '2.0.0']) expect((await runCli(['deploy', 'web', '-e', 'dev', '--version', version], { env: p.env })).code).toBe(0);
    expect(p.ran()).toEqual([`up 1.0.0 ${SECRET}`, `up 2.0.0 ${SECRET}`]);

    // The dry run shows the command (the secret masked) and runs nothing, stores nothing.
    const dry = await runCli(['destroy', 'web', '-e', 'dev', '--dry-run'], { env: p.env });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stdout).toBe('dry run: destroy web 2.0.0 in dev would run 1 command, and ran none that change anything\n');
    expect(dry.stderr).toMatch(/would run node -e .*down.* '\*\*\*'\n/);
    expect(dry.stderr).not.toContain(SECRET);
    const dryJson = JSON.parse((await runCli(['destroy', 'web', '-e', 'dev', '--dry-run', '--json'], { env: p.env })).stdout);
    expectValid('dry-run', dryJson);
    expect(dryJson).toMatchObject({ schemaVersion: 1, ok: true, exitCode: 0, dryRun: true, app: 'web', env: 'dev', version: '2.0.0', action: 'destroy', verified: true });
    expect(dryJson.steps).toEqual([expect.objectContaining({ label: expect.stringMatching(/^destroy command 1\/1: node -e/), argv: ['node', '-e', expect.any(String), '***'], mutates: true })]);
    expect(p.ran()).toHaveLength(2);
    expect(await p.records()).toHaveLength(2);

    const gone = await runCli(['destroy', 'web', '-e', 'dev', '--json'], { env: p.env });
    expect(gone.code, gone.stderr).toBe(0);
    // The running version's config: its version, the secret read from the environment again.
    expect(p.ran()).toEqual([`up 1.0.0 ${SECRET}`, `up 2.0.0 ${SECRET}`, `down 2.0.0 ${SECRET}`]);
    const outcome = JSON.parse(gone.stdout);
    expectValid('deployment', outcome);
    expect(outcome).toMatchObject({ ok: true, exitCode: 0, record: { action: 'destroy', version: '2.0.0', status: 'succeeded', app: 'web', env: 'dev' }, rollbacks: [] });
    expect(filesHolding(p.home, SECRET)).toEqual([]);

    const [record] = await p.records();
    expect(record).toMatchObject({ id: outcome.record.id, action: 'destroy', version: '2.0.0', status: 'succeeded' });
    const stored = JSON.parse((await runCli(['history', 'show', record!.id, '--json'], { env: p.env })).stdout).record;
    expect(stored.steps.map((s: { command: string[]; exitCode: number }) => [s.command[3], s.exitCode])).toEqual([['***', 0]]);
    expect(stored.bad).toBeUndefined();

    const status = await runCli(['status', 'web', '-e', 'dev'], { env: p.env });
    expect(status.stdout).toMatch(/web\s+dev\s+destroyed \(was 2\.0\.0\)\s+(?:just now|\d+s ago)\s+\S+\s+✓ succeeded destroy 2\.0\.0/);
    const statusDoc = JSON.parse((await runCli(['status', 'web', '-e', 'dev', '--json'], { env: p.env })).stdout);
    expectValid('status', statusDoc);
    const statusJson = statusDoc.targets[0];
    expect(statusJson).toMatchObject({ version: null, destroyed: { version: '2.0.0', recordId: record!.id, by: record!.user, at: expect.any(String) }, last: { action: 'destroy', status: 'succeeded' } });
    const list = JSON.parse((await runCli(['list', '--json'], { env: p.env })).stdout);
    expectValid('list', list);
    expectValid('history', JSON.parse((await runCli(['history', 'web', '-e', 'dev', '--json'], { env: p.env })).stdout));
    expectValid('record', JSON.parse((await runCli(['history', 'show', outcome.record.id, '--json'], { env: p.env })).stdout));
    expect(list.apps.find((a: { app: string }) => a.app === 'web').environments.dev).toMatchObject({ version: null, destroyed: true });
    expect((await runCli(['list'], { env: p.env })).stdout).toMatch(/web\s+destroyed\s+-/);
    const audit = JSON.parse((await runCli(['audit', '--json'], { env: p.env })).stdout);
    expect(JSON.stringify(audit)).toContain(record!.id);
    expect((await runCli(['audit'], { env: p.env })).stdout).toMatch(/destroy\s+web\s+dev\s+2\.0\.0\s+succeeded/);

    // Again: already destroyed, nothing runs, nothing recorded.
    const again = await runCli(['destroy', 'web', '-e', 'dev'], { env: p.env });
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(new RegExp(`^web in dev is already destroyed: 2\\.0\\.0 was torn down by \\S+ at \\S+ \\(record ${record!.id}\\); nothing to do\\n$`));
    const againJson = JSON.parse((await runCli(['destroy', 'web', '-e', 'dev', '--json'], { env: p.env })).stdout);
    expectValid('destroy-nothing', againJson);
    const notDeployed = JSON.parse((await runCli(['destroy', 'web', '-e', 'prod', '--json'], { env: p.env })).stdout);
    expectValid('destroy-nothing', notDeployed);
    expect(notDeployed).toMatchObject({ destroyed: false, reason: 'not_deployed', message: 'nothing to destroy: web was never deployed to prod' });
    expect(againJson).toMatchObject({ ok: true, exitCode: 0, destroyed: false, reason: 'already_destroyed', destroyedBy: { id: record!.id, version: '2.0.0' } });
    expect(p.ran()).toHaveLength(3);
    expect(await p.records()).toHaveLength(3);

    // A bare rollback does not bring back what was destroyed; --to does, and health then has something to check.
    const health = await runCli(['health', 'web', '-e', 'dev'], { env: p.env });
    expect(health.code).toBe(2);
    expect(health.stderr).toContain(`web is not deployed in dev: 2.0.0 was destroyed by`);
    const back = await runCli(['rollback', 'web', '-e', 'dev'], { env: p.env });
    expect(back.code).toBe(2);
    expect(back.stderr).toContain('nothing of web runs in dev: 2.0.0 was destroyed by');
    expect(back.stderr).toContain('hint: deploy again: deployctl deploy web -e dev --version V, or put a good version back: deployctl rollback web -e dev --to 2.0.0');
    // The destroy record is no deployment to re-apply; promote has nothing to carry from a destroyed environment.
    const byId = await runCli(['rollback', 'web', '-e', 'dev', '--to', record!.id], { env: p.env });
    expect(byId.code).toBe(2);
    expect(byId.stderr).toContain(`record ${record!.id} is the destroy of 2.0.0: a rollback re-applies a deployment`);
    const promote = await runCli(['promote', 'web', '--from', 'dev', '--to', 'prod', '--yes'], { env: p.env });
    expect(promote.code).toBe(2);
    expect(promote.stderr).toContain(`the last action on web in dev was a destroy of 2.0.0 by`);
    const to = await runCli(['rollback', 'web', '-e', 'dev', '--to', '1.0.0'], { env: p.env });
    expect(to.code, to.stderr).toBe(0);
    expect(p.ran().at(-1)).toBe(`up 1.0.0 ${SECRET}`);
    expect(JSON.parse((await runCli(['status', 'web', '-e', 'dev', '--json'], { env: p.env })).stdout).targets[0]).toMatchObject({ version: '1.0.0' });
    expect(JSON.parse((await runCli(['status', 'web', '-e', 'dev', '--json'], { env: p.env })).stdout).targets[0].destroyed).toBeUndefined();
  });

  it('a protected environment needs approval like a deploy: refused without a terminal (exit 6, nothing run, no record, no lock), --yes approves', async () => {
    const p = project();
    expect((await runCli(['deploy', 'web', '-e', 'prod', '--version', '1.0.0', '--yes'], { env: p.env })).code).toBe(0);
    const refused = await runCli(['destroy', 'web', '-e', 'prod', '--json'], { env: p.env });
    expect(refused.code).toBe(6);
    expect(JSON.parse(refused.stdout).error).toMatchObject({ code: 'approval_needed', exitCode: 6, message: 'prod is protected: destroy web 1.0.0 in prod needs approval', hint: expect.stringContaining('--yes') });
    expect(p.ran()).toEqual([`up 1.0.0 ${SECRET}`]);
    expect(await p.records('web', 'prod')).toHaveLength(1);
    expect(p.locks()).toEqual([]);
    const yes = await runCli(['destroy', 'web', '-e', 'prod', '--yes'], { env: p.env });
    expect(yes.code, yes.stderr).toBe(0);
    expect(yes.stdout).toMatch(/^destroyed web 1\.0\.0 in prod \(record web_prod_\S+\)\n$/);
    expect(p.ran().at(-1)).toBe(`down 1.0.0 ${SECRET}`);
  });

  it.each([
    ['y', 0, 'down'],
    ['n', 6, 'up'],
  ])('in a terminal, asks first: answered %s → exit %i', async (answer, code, last) => {
    const p = project();
    expect((await runCli(['deploy', 'web', '-e', 'prod', '--version', '1.0.0', '--yes'], { env: p.env })).code).toBe(0);
    const stdin = Object.assign(new PassThrough(), { isTTY: true });
    let stderr = '';
    const io = { stdout: new PassThrough(), stderr: new Writable({ write: (chunk, _e, cb) => ((stderr += String(chunk)), cb()) }), stdin, env: { ...p.env, DEPLOYCTL_PLAIN: '1' }, cwd: p.dir };
    const running = main(['node', 'deployctl', 'destroy', 'web', '-e', 'prod'], io as never);
    while (!stderr.includes('[y/N]')) await new Promise((resolve) => setImmediate(resolve));
    expect(stderr).toContain('prod is protected. Destroy web 1.0.0 in prod? [y/N]');
    stdin.write(`${answer}\n`);
    expect(await running).toBe(code);
    expect(p.ran().at(-1)).toBe(`${last} 1.0.0 ${SECRET}`);
  });

  it('the lock held by another deployment: exit 5 naming it, nothing run; --wait-lock is there', async () => {
    const p = project();
    expect((await runCli(['deploy', 'web', '-e', 'dev', '--version', '1.0.0'], { env: p.env })).code).toBe(0);
    writeFileSync(
      join(p.home, 'locks', 'web_dev.lock'),
      JSON.stringify({ app: 'web', env: 'dev', user: 'ana', host: hostname(), pid: process.pid, command: 'deployctl deploy web -e dev', startedAt: new Date().toISOString(), refreshedAt: new Date().toISOString(), token: 'abc' }),
    );
    const run = await runCli(['destroy', 'web', '-e', 'dev'], { env: p.env });
    expect(run.code).toBe(5);
    expect(run.stderr).toMatch(/error: .*ana@\S+ \(pid \d+\)/);
    expect(p.ran()).toEqual([`up 1.0.0 ${SECRET}`]);
    expect(await p.records()).toHaveLength(1);
    expect((await runCli(['destroy', '--help'], { env: p.env })).stdout).toContain('--wait-lock <duration>');
  });

  it.each([
    ['play', 'ansible', 'destroy_playbook', 'deployments.yaml:8:5 deployments.play: nothing to destroy it with: add destroy_playbook: (a playbook that tears it down, relative to path:) to this app'],
    ['job', 'shell', 'destroy_commands', 'deployments.yaml:12:5 deployments.job: nothing to destroy it with: add destroy_commands: (a list of argv arrays or strings, like commands:) to this app'],
  ])('%s (%s) without %s: exit 2 at the app\'s line, before the lock, nothing run or recorded', async (app, _type, key, message) => {
    const p = project();
    const run = await runCli(['destroy', app, '-e', 'dev'], { env: p.env });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`error: ${join(p.dir, message)}\n`);
    expect(run.stderr).toContain(`hint: add ${key}: to ${app} in deployments.yaml, then run deployctl destroy ${app} -e dev again`);
    expect(p.locks()).toEqual([]);
    expect(readdirSync(join(p.home, 'history')).filter((f) => f.endsWith('.json'))).toEqual([]);
  });

  it('a destroy command that fails: exit 3, recorded failed (nothing marked bad), the version still shown as running; unknown names are exit 2', async () => {
    const p = project();
    expect((await runCli(['deploy', 'web', '-e', 'dev', '--version', '1.0.0'], { env: p.env })).code).toBe(0);
    const run = await runCli(['destroy', 'web', '-e', 'dev', '--set', 'destroy_commands=[[node, -e, "console.error(\'Error: cluster gone\'); process.exit(4)"]]'], { env: p.env }).catch((e) => e);
    // --set is not a destroy flag: a usage error.
    expect(run.code).toBe(2);
    writeFileSync(join(p.dir, 'deployments.yaml'), readFileSync(join(p.dir, 'deployments.yaml'), 'utf8').replace(/destroy_commands: .*\n/, `destroy_commands: [[node, -e, "console.error('Error: cluster gone'); process.exit(4)"]]\n`));
    const failed = await runCli(['destroy', 'web', '-e', 'dev'], { env: p.env });
    expect(failed.code).toBe(3);
    expect(failed.stdout).toContain('destroy of web 1.0.0 in dev failed: destroy command 1/1: node -e');
    expect(failed.stdout).toContain('exit code 4 (Error: cluster gone)');
    expect(failed.stderr).not.toContain('automatic rollback');
    const [record] = await p.records();
    expect(record).toMatchObject({ action: 'destroy', status: 'failed', version: '1.0.0' });
    expect(record!.bad).toBeFalsy();
    expect(JSON.parse((await runCli(['status', 'web', '-e', 'dev', '--json'], { env: p.env })).stdout).targets[0]).toMatchObject({ version: '1.0.0', last: { action: 'destroy', status: 'failed' } });
    expect((await runCli(['destroy', 'nope', '-e', 'dev'], { env: p.env })).code).toBe(2);
    expect((await runCli(['destroy', 'web', '-e', 'nowhere'], { env: p.env })).code).toBe(2);
    expect((await runCli(['destroy', '../x', '-e', 'dev'], { env: p.env })).code).toBe(2);
  });

  it('Ctrl-C stops the destroy command and its children, exit 130, recorded interrupted', async () => {
    const p = project();
    expect((await runCli(['deploy', 'web', '-e', 'dev', '--version', '1.0.0'], { env: p.env })).code).toBe(0);
    const pidFile = join(tempDir(), 'pid');
    const slow = `require('fs').writeFileSync(${JSON.stringify(pidFile)}, String(process.pid)); setInterval(() => {}, 1000);`;
    writeFileSync(join(p.dir, 'deployments.yaml'), readFileSync(join(p.dir, 'deployments.yaml'), 'utf8').replace(/destroy_commands: .*\n/, `destroy_commands: [[node, -e, ${JSON.stringify(slow)}]]\n`));
    let stderr = '';
    const io = { stdout: new PassThrough(), stderr: new Writable({ write: (chunk, _e, cb) => ((stderr += String(chunk)), cb()) }), stdin: new PassThrough(), env: p.env, cwd: p.dir };
    const running = main(['node', 'deployctl', 'destroy', 'web', '-e', 'dev'], io);
    while (!(existsSync(pidFile) && readFileSync(pidFile, 'utf8'))) await new Promise((resolve) => setImmediate(resolve));
    const pid = Number(readFileSync(pidFile, 'utf8'));
    process.emit('SIGINT', 'SIGINT');
    expect(await running).toBe(130);
    expect(isPidAlive(pid)).toBe(false);
    const [record] = await p.records();
    expect(record).toMatchObject({ action: 'destroy', status: 'interrupted', version: '1.0.0' });
    expect(p.locks()).toEqual([]);
    // Interrupted: the version still counts as running.
    expect(JSON.parse((await runCli(['status', 'web', '-e', 'dev', '--json'], { env: p.env })).stdout).targets[0].version).toBe('1.0.0');
  });

  it('tells the team like a deploy: a webhook gets the destroy record (event destroy), and the CI summary says it', async () => {
    const bodies: Array<Record<string, any>> = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        bodies.push(JSON.parse(body));
        res.end('ok');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const p = project();
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
      writeFileSync(join(p.dir, 'deployments.yaml'), `notifications:\n  webhooks:\n    - url: ${url}\n` + readFileSync(join(p.dir, 'deployments.yaml'), 'utf8'));
      expect((await runCli(['deploy', 'web', '-e', 'dev', '--version', '1.0.0'], { env: p.env })).code).toBe(0);
      const summary = join(tempDir(), 'summary.md');
      const gone = await runCli(['destroy', 'web', '-e', 'dev'], { env: { ...p.env, GITHUB_ACTIONS: 'true', GITHUB_STEP_SUMMARY: summary } });
      expect(gone.code, gone.stderr).toBe(0);
      expect(bodies.map((b) => [b.event, b.action, b.version, b.status])).toEqual([
        ['deploy', 'deploy', '1.0.0', 'succeeded'],
        ['destroy', 'destroy', '1.0.0', 'succeeded'],
      ]);
      expect(JSON.stringify(bodies)).not.toContain(SECRET);
      expect(readFileSync(summary, 'utf8')).toContain('destroy web in dev: succeeded');
    } finally {
      server.close();
    }
  });

  it('when a first deploy failed after changing something, and nothing succeeded since, destroy tears down that record', async () => {
    const p = project();
    const yaml = readFileSync(join(p.dir, 'deployments.yaml'), 'utf8');
    // The deploy writes, then fails: it changed something, so it is marked bad.
    writeFileSync(join(p.dir, 'deployments.yaml'), yaml.replace(/(\n    commands: \[.*)\]\n/, '$1, [node, -e, "process.exit(1)"]]\n'));
    const failed = await runCli(['deploy', 'web', '-e', 'dev', '--version', '1.0.0'], { env: p.env });
    expect(failed.code).toBe(3);
    expect(p.ran()).toEqual([`up 1.0.0 ${SECRET}`]);
    const gone = await runCli(['destroy', 'web', '-e', 'dev'], { env: p.env });
    expect(gone.code, gone.stderr).toBe(0);
    expect(p.ran()).toEqual([`up 1.0.0 ${SECRET}`, `down 1.0.0 ${SECRET}`]);
    const again = await runCli(['destroy', 'web', '-e', 'dev'], { env: p.env });
    expect(again.stdout).toContain('web in dev is already destroyed: 1.0.0 was torn down by');
  });

  it("a destroy command past the app's time limit is stopped with its children: exit 3, recorded failed, timed out", async () => {
    const p = project();
    // The time limit of the version running (its stored config), like every other setting but how to destroy.
    writeFileSync(join(p.dir, 'deployments.yaml'), readFileSync(join(p.dir, 'deployments.yaml'), 'utf8').replace(/(destroy_commands: .*\n)/, '$1    timeout: 2s\n'));
    expect((await runCli(['deploy', 'web', '-e', 'dev', '--version', '1.0.0'], { env: p.env })).code).toBe(0);
    const pidFile = join(tempDir(), 'pid');
    // A shell that starts a child which would outlive it: the whole tree goes.
    const slow = `node -e 'require("fs").writeFileSync(process.argv[1], String(process.pid)); setInterval(() => {}, 1000)' ${pidFile}; sleep 600`;
    writeFileSync(join(p.dir, 'deployments.yaml'), readFileSync(join(p.dir, 'deployments.yaml'), 'utf8').replace(/destroy_commands: .*\n/, `destroy_commands: [${JSON.stringify(slow)}]\n`));
    const run = await runCli(['destroy', 'web', '-e', 'dev'], { env: p.env, timeoutMs: 60_000 });
    expect(run.code).toBe(3);
    expect(run.stdout).toMatch(/destroy of web 1\.0\.0 in dev failed: destroy command 1\/1: .*timed out after 2s/);
    const child = Number(readFileSync(pidFile, 'utf8'));
    // The grandchild gets SIGTERM, then SIGKILL after the grace period: give a loaded machine time.
    for (let i = 0; i < 200 && isPidAlive(child); i++) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(isPidAlive(child)).toBe(false);
    const [record] = await p.records();
    expect(record).toMatchObject({ action: 'destroy', status: 'failed', version: '1.0.0' });
    expect(p.locks()).toEqual([]);
  });

  it('a first deploy whose deployctl was killed (kill -9) is torn down from its record; while one runs, exit 5', async () => {
    const p = project();
    const gate = join(tempDir(), 'gate');
    const yaml = readFileSync(join(p.dir, 'deployments.yaml'), 'utf8');
    // The deploy writes, then waits for the gate.
    const wait = `const fs = require('fs'); const t = setInterval(() => { if (fs.existsSync(${JSON.stringify(gate)})) clearInterval(t); }, 20)`;
    writeFileSync(join(p.dir, 'deployments.yaml'), yaml.replace(/(\n    commands: \[.*)\]\n/, `$1, [node, -e, ${JSON.stringify(wait)}]]\n`));
    await runCli(['validate'], { env: p.env }).then((v) => expect(v.code, v.stdout + v.stderr).toBe(0));
    const child = spawn(process.execPath, [cliPath, 'deploy', 'web', '-e', 'dev', '--version', '1.0.0'], { env: p.env, stdio: 'ignore' });
    while (p.ran().length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    const early = await runCli(['destroy', 'web', '-e', 'dev'], { env: p.env });
    expect(early.code).toBe(5);
    expect(early.stderr).toMatch(/error: nothing to destroy yet: deploy of web 1\.0\.0 in dev by \S+ \(record \S+\) has not finished/);
    const exited = new Promise((resolve) => child.on('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    const gone = await runCli(['destroy', 'web', '-e', 'dev'], { env: p.env });
    writeFileSync(gate, '');
    expect(gone.code, gone.stderr).toBe(0);
    expect(p.ran()).toEqual([`up 1.0.0 ${SECRET}`, `down 1.0.0 ${SECRET}`]);
    const records = await p.records();
    expect(records.map((r) => [r.action, r.version, r.status])).toEqual([
      ['destroy', '1.0.0', 'succeeded'],
      ['deploy', '1.0.0', 'interrupted'],
    ]);
  });

  it('an app no longer in deployments.yaml is torn down from its stored config', async () => {
    const p = project();
    expect((await runCli(['deploy', 'web', '-e', 'dev', '--version', '3.1.0'], { env: p.env })).code).toBe(0);
    const yaml = readFileSync(join(p.dir, 'deployments.yaml'), 'utf8');
    writeFileSync(join(p.dir, 'deployments.yaml'), yaml.replace(/  web:\n(    .*\n)+/, ''));
    expect(readFileSync(join(p.dir, 'deployments.yaml'), 'utf8')).not.toContain('web:');
    const gone = await runCli(['destroy', 'web', '-e', 'dev'], { env: p.env });
    expect(gone.code, gone.stderr).toBe(0);
    expect(p.ran()).toEqual([`up 3.1.0 ${SECRET}`, `down 3.1.0 ${SECRET}`]);
    expect((await runCli(['destroy', 'nothing-here', '-e', 'dev'], { env: p.env })).stderr).toContain('unknown app "nothing-here"');
  });

  it('deployments that changed nothing (a failed pre_check) leave nothing to destroy: exit 0, said so', async () => {
    const p = project();
    const yaml = readFileSync(join(p.dir, 'deployments.yaml'), 'utf8');
    writeFileSync(join(p.dir, 'deployments.yaml'), yaml.replace(/(destroy_commands: .*\n)/, '$1    pre_check: { type: command, command: [node, -e, "process.exit(1)"], retries: 0 }\n'));
    const failed = await runCli(['deploy', 'web', '-e', 'dev', '--version', '1.0.0'], { env: p.env });
    expect(failed.code, failed.stderr).toBe(4);
    expect(p.ran()).toEqual([]);
    const run = await runCli(['destroy', 'web', '-e', 'dev'], { env: p.env });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('nothing to destroy: nothing of web runs in dev (no deployment there succeeded or changed anything)\n');
    expect(p.ran()).toEqual([]);
  });
});


describe('bare rollbacks and a destroy (issue 14)', () => {
  it('after 1.0.0, 1.1.0, 1.2.0 they walk 1.1.0, 1.0.0, then nothing older; after a destroy and --to, nothing across it, said as such', async () => {
    const p = project();
    const cli = (...args: string[]) => runCli(args, { env: p.env });
    const running = async () => JSON.parse((await cli('status', 'web', '-e', 'dev', '--json')).stdout).targets[0].version;
    for (const version of ['1.0.0', '1.1.0', '1.2.0']) expect((await cli('deploy', 'web', '-e', 'dev', '--version', version)).code).toBe(0);
    for (const version of ['1.1.0', '1.0.0']) {
      const back = await cli('rollback', 'web', '-e', 'dev');
      expect(back.code, back.stderr).toBe(0);
      expect(await running()).toBe(version);
    }
    const none = await cli('rollback', 'web', '-e', 'dev');
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('error: no good version of web in dev older than 1.0.0, which runs now: there is nothing older to roll back to');

    // Back to 1.2.0, then destroyed: a bare rollback does not bring it back; --to does.
    expect((await cli('rollback', 'web', '-e', 'dev', '--to', '1.2.0')).code).toBe(0);
    expect((await cli('destroy', 'web', '-e', 'dev', '--yes')).code).toBe(0);
    const [destroyed] = await p.records();
    expect((await cli('rollback', 'web', '-e', 'dev')).stderr).toContain('a rollback never goes back across a destroy');
    expect((await cli('rollback', 'web', '-e', 'dev', '--to', '1.2.0')).code).toBe(0);
    expect(await running()).toBe('1.2.0');
    // 1.1.0 and 1.0.0 are good, but before the destroy: the refusal says so, instead of "nothing older".
    const across = await cli('rollback', 'web', '-e', 'dev');
    expect(across.code).toBe(2);
    expect(across.stderr).toContain(`error: no good version of web in dev older than 1.2.0, which runs now, after the destroy of 1.2.0 (record ${destroyed!.id}): a rollback never goes back across a destroy\n`);
    expect(across.stderr).toContain('hint: roll back to any good version with --to');
    expect((await cli('rollback', 'web', '-e', 'dev', '--to', '1.1.0')).code).toBe(0);
    expect(await running()).toBe('1.1.0');
  });
});
