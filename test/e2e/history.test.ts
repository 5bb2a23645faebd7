// The commands that read state, as a user runs them: status, list, history (filters, show, prune),
// retention, damaged files, a lost index, and bad input.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, runCli, tempDir } from '../support/cli.js';

interface Rec {
  id: string;
  app: string;
  env: string;
  version: string;
  action: string;
  status: string;
}

function setup(extra = '') {
  const dir = tempDir('deployctl-history-');
  writeFileSync(join(dir, 'environments.yaml'), 'environments:\n  dev: {}\n  prod: {}\n');
  // A version with "bad" in it fails its deploy command.
  writeFileSync(
    join(dir, 'deployments.yaml'),
    `deployments:\n  svc:\n    type: shell\n    commands:\n      - [sh, -c, 'case "$DEPLOY_VERSION" in *bad*) echo broken; exit 1;; esac']\n${extra}  other:\n    type: shell\n    commands: [[node, -e, "0"]]\n`,
  );
  const home = tempDir('deployctl-home-');
  const env = cleanEnv({ DEPLOYCTL_HOME: home, DEPLOYCTL_CONFIG_DIR: dir });
  const cli = (...args: string[]) => runCli(args, { env });
  const json = async (...args: string[]) => {
    const run = await cli(...args, '--json');
    expect(run.code, run.stderr).toBe(0);
    return JSON.parse(run.stdout);
  };
  const files = () => readdirSync(join(home, 'history')).filter((f) => f.endsWith('.json')).sort();
  return { dir, home, env, cli, json, files };
}

const summary = (records: Rec[]) => records.map((r) => `${r.action} ${r.version} ${r.status}`);

describe('status, list and history', () => {
  const s = setup();
  let ids: Rec[] = [];

  beforeAll(async () => {
    for (const v of ['1.0.0', '1.1.0', '2.0.0-bad']) await s.cli('deploy', 'svc', '-e', 'dev', '--version', v, '-q');
    await s.cli('deploy', 'svc', '-e', 'prod', '--version', '1.0.0', '-q');
    await s.cli('deploy', 'svc', '-e', 'prod', '--version', '3.0.0-bad', '--no-rollback', '-q');
    ids = (await s.json('history', '--limit', '100')).records;
  });

  it('history: newest first across targets, with --limit, --status, -e and --since', async () => {
    expect(summary(ids)).toEqual([
      'deploy 3.0.0-bad failed',
      'deploy 1.0.0 succeeded',
      'rollback 1.1.0 succeeded',
      'deploy 2.0.0-bad rolled_back',
      'deploy 1.1.0 succeeded',
      'deploy 1.0.0 succeeded',
    ]);
    expect(summary((await s.json('history', 'svc', '-e', 'dev', '--limit', '2')).records)).toEqual(['rollback 1.1.0 succeeded', 'deploy 2.0.0-bad rolled_back']);
    expect(summary((await s.json('history', '--status', 'failed')).records)).toEqual(['deploy 3.0.0-bad failed']);
    expect(summary((await s.json('history', '-e', 'prod')).records)).toEqual(['deploy 3.0.0-bad failed', 'deploy 1.0.0 succeeded']);
    expect((await s.json('history', '--since', '1h')).records).toHaveLength(6);
    expect((await s.json('history', '--since', '2999-01-01')).records).toEqual([]);
    const text = await s.cli('history', 'svc', '-e', 'prod');
    expect(text.stdout).toMatch(/^ID +APP +ENV +VERSION +ACTION +STATUS +STARTED +DURATION +BY\nsvc_prod_\S+ +svc +prod +3\.0\.0-bad +deploy +✗ failed +(?:\d+s ago|just now)/);
  });

  it('history show: the steps with their output, the error, the links', async () => {
    const failed = ids.find((r) => r.status === 'rolled_back')!;
    const show = await s.cli('history', 'show', failed.id);
    expect(show.code).toBe(0);
    const rollback = ids.find((r) => r.action === 'rollback')!;
    expect(show.stdout).toContain(`${failed.id}\n  deploy svc 2.0.0-bad to dev: ↺ rolled_back\n`);
    expect(show.stdout).toContain(`  rolled back by ${rollback.id}\n`);
    expect(show.stdout).toContain('  error: command 1/1: sh -c');
    expect(show.stdout).toMatch(/ {4}✗ command 1\/1: .* \(exit 1, \d+ms\)\n {6}\$ sh -c 'case "\$DEPLOY_VERSION" in \*bad\*\) echo broken; exit 1;; esac'/);
    expect((await s.json('history', 'show', rollback.id)).record).toMatchObject({ action: 'rollback', version: '1.1.0', triggeredBy: failed.id });
  });

  it('status: what runs where and how the last deployment ended; list: apps × environments', async () => {
    const status = await s.json('status');
    expect(status.targets.map((t: { app: string; env: string; version: string; last: Rec }) => `${t.app}/${t.env} ${t.version} ${t.last.status} ${t.last.version}`)).toEqual([
      'svc/dev 1.1.0 succeeded 1.1.0',
      'svc/prod 1.0.0 failed 3.0.0-bad',
    ]);
    const text = await s.cli('status', 'svc', '-e', 'prod');
    expect(text.stdout).toMatch(/^APP +ENV +VERSION +SINCE +BY +LAST DEPLOYMENT\nsvc +prod +1\.0\.0 +(?:\d+s ago|just now) +\S+ +✗ failed deploy 3\.0\.0-bad in \S+: command 1\/1: .*exit code 1 \(last output: broken\)\n$/);
    expect((await s.cli('status', 'other')).stdout).toBe('nothing deployed of other yet: try deployctl deploy other -e <env>\n');
    const list = await s.json('list');
    expect(list.apps).toEqual([
      { app: 'svc', environments: { dev: { version: '1.1.0', status: 'succeeded', lastVersion: '1.1.0' }, prod: { version: '1.0.0', status: 'failed', lastVersion: '3.0.0-bad' } } },
      { app: 'other', environments: { dev: { version: null, status: null, lastVersion: null }, prod: { version: null, status: null, lastVersion: null } } },
    ]);
    expect((await s.cli('list')).stdout).toMatch(/^APP +DEV +PROD\nsvc +1\.1\.0 +1\.0\.0 ✗3\.0\.0-bad\nother +- +-\n$/);
  });

  it.each([
    [['status', 'nope'], 'unknown app "nope"', 'known apps: svc, other (from deployments.yaml and the history)'],
    [['status', '-e', 'moon'], 'unknown environment "moon"', 'known environments: dev, prod'],
    [['history', 'nope'], 'unknown app "nope"', 'known apps: svc, other'],
    [['history', 'svc', '-e', 'moon'], 'unknown environment "moon"', 'known environments: dev, prod'],
    [['history', '--limit', '0'], '--limit 0 is not a positive whole number', 'for example --limit 50'],
    [['history', '--limit', 'ten'], '--limit ten is not a positive whole number', 'for example --limit 50'],
    [['history', '--since', 'yesterday'], '--since yesterday is neither a duration nor a date', 'for example --since 2h'],
    [['history', '--status', 'done'], 'unknown status "done"', 'use one of: pending, running, succeeded, failed, rolled_back, interrupted'],
    [['history', 'show', 'svc_dev_nope'], 'no record with the id "svc_dev_nope"', 'deployctl history'],
    [['history', 'prune', 'nope', '--keep', '1'], 'unknown app "nope"', 'known apps'],
    [['history', 'prune', '--keep', '-1'], '--keep -1 is not a whole number', 'for example --keep 50'],
    [['history', 'prune', '--keep', '1', '--older-than', 'old'], '--older-than old is not a duration', 'for example --older-than 30d'],
    [['unlock', 'nope', '-e', 'dev'], 'unknown app "nope"', 'known apps'],
    [['unlock', 'svc', '-e', 'moon'], 'unknown environment "moon"', 'known environments'],
    [['rollback', 'nope', '-e', 'dev'], 'unknown app "nope"', 'deployments.yaml defines: svc, other'],
    [['rollback', 'svc', '-e', 'moon'], 'unknown environment "moon"', 'environments.yaml defines: dev, prod'],
    [['health', 'nope', '-e', 'dev'], 'unknown app "nope"', 'deployments.yaml defines: svc, other'],
    [['health', 'svc', '-e', 'moon'], 'unknown environment "moon"', 'environments.yaml defines: dev, prod'],
    [['status', '../x'], 'invalid app name "../x"', "app names use lower-case letters"],
  ])('deployctl %j: exit 2, "%s", and the way out; history and locks untouched', async (args, message, hint) => {
    const before = s.files();
    const run = await s.cli(...args);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`error: ${message}`);
    expect(run.stderr).toContain(hint);
    expect(run.stderr).not.toMatch(/\n\s+at /);
    expect(s.files()).toEqual(before);
    expect(readdirSync(join(s.home, 'index')).sort()).toEqual(['_summary.json', 'svc_dev.json', 'svc_prod.json']);
    expect(readdirSync(join(s.home, 'locks'))).toEqual([]);
  });
});

describe('damaged and lost state files', () => {
  it('a damaged record is reported and skipped; a lost or damaged index is rebuilt; nothing fails', async () => {
    const s = setup();
    for (const v of ['1.0.0', '1.1.0', '1.2.0']) await s.cli('deploy', 'svc', '-e', 'dev', '--version', v, '-q');
    await s.cli('deploy', 'other', '-e', 'dev', '--version', '1', '-q');
    const [first, , newest] = s.files().filter((f) => f.startsWith('svc_'));
    writeFileSync(join(s.home, 'history', newest!), '{"schemaVersion": 1, "id": "svc_dev_');
    writeFileSync(join(s.home, 'history', `.${first}.1a2b3c.tmp`), '{"half": ');
    // status reads the summary of every target's head, no record: the damaged file is not in its way.
    const status = await s.cli('status', '--json');
    expect(status.code).toBe(0);
    expect(status.stderr).toBe('');
    expect(JSON.parse(status.stdout).targets.map((t: { app: string; version: string }) => `${t.app} ${t.version}`)).toEqual(['other 1', 'svc 1.2.0']);
    const history = await s.cli('history', 'svc', '-e', 'dev', '--json');
    expect(history.code).toBe(0);
    expect(history.stderr).toContain('is damaged (not JSON): skipped');
    expect(JSON.parse(history.stdout).records.map((r: Rec) => r.version)).toEqual(['1.1.0', '1.0.0']);

    rmSync(join(s.home, 'index', 'svc_dev.json'));
    writeFileSync(join(s.home, 'index', 'other_dev.json'), 'not json');
    writeFileSync(join(s.home, 'index', '_summary.json'), 'not json');
    const rebuilt = await s.cli('status', '--json');
    expect(rebuilt.code).toBe(0);
    expect(rebuilt.stderr).toContain('warning: the summary of targets in index/_summary.json was damaged: rebuilt from the indexes');
    expect(rebuilt.stderr).toContain('warning: the index of svc in dev was missing: rebuilt from the records');
    expect(rebuilt.stderr).toContain('warning: the index of other in dev was damaged: rebuilt from the records');
    expect(JSON.parse(rebuilt.stdout).targets.map((t: { app: string }) => t.app)).toEqual(['other', 'svc']);

    rmSync(join(s.home, 'index'), { recursive: true });
    // A process of its own: the state folder's subfolders are made once per process (state/paths.ts).
    const fromScratch = await runCli(['history', '--json'], { env: s.env, spawn: true });
    expect(fromScratch.code).toBe(0);
    expect(fromScratch.stderr).toContain('warning: the history index was missing: rebuilt from the records');
    expect(JSON.parse(fromScratch.stdout).records.map((r: Rec) => `${r.app} ${r.version}`)).toEqual(['other 1', 'svc 1.1.0', 'svc 1.0.0']);
    // and a deploy still works on top of it
    expect((await s.cli('deploy', 'svc', '-e', 'dev', '--version', '1.3.0', '-q')).code).toBe(0);
  });
});

describe('warnings of the commands that read state', () => {
  it('are JSON lines with --log-format json, in status, list, history, history show and prune', async () => {
    const s = setup();
    for (const v of ['1.0.0', '1.1.0']) await s.cli('deploy', 'svc', '-e', 'dev', '--version', v, '-q');
    const newest = s.files().filter((f) => f.startsWith('svc_')).pop()!;
    writeFileSync(join(s.home, 'history', newest), '{"schemaVersion": 1, "id": "svc_dev_');
    const damaged = { level: 'warn', event: 'history', message: `${join(s.home, 'history', newest)} is damaged (not JSON): skipped` };
    const summary = { level: 'warn', event: 'history', message: 'the summary of targets in index/_summary.json was damaged: rebuilt from the indexes' };
    const lines = (stderr: string) => stderr.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    // status, list and prune read no record: a damaged summary is what they warn about.
    for (const [args, expected] of [[['status'], [summary]], [['list'], [summary]], [['history'], [summary, damaged]], [['history', 'prune', '--keep', '5'], [summary]]] as const) {
      writeFileSync(join(s.home, 'index', '_summary.json'), 'not json');
      const run = await s.cli(...args, '--log-format', 'json');
      expect(run.code, args.join(' ')).toBe(0);
      expect(lines(run.stderr), args.join(' ')).toEqual(expected.map((e) => expect.objectContaining(e)));
    }
    const show = await s.cli('history', 'show', newest.slice(0, -'.json'.length), '--log-format', 'json');
    expect(show.code).toBe(2);
    expect(lines(show.stderr)).toEqual([expect.objectContaining(damaged), expect.objectContaining({ level: 'error', code: 'usage', message: `no record with the id "${newest.slice(0, -'.json'.length)}"` })]);
  });

  it('of deploy, rollback and promote come with their progress, in --log-format json too', async () => {
    const s = setup();
    for (const v of ['1.0.0', '1.1.0']) await s.cli('deploy', 'svc', '-e', 'dev', '--version', v, '-q');
    const rebuilt = { level: 'warn', event: 'log', message: 'the index of svc in dev was damaged: rebuilt from the records' };
    const lines = (stderr: string) => stderr.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    for (const args of [['deploy', 'svc', '-e', 'dev', '--version', '1.2.0'], ['promote', 'svc'], ['rollback', 'svc', '-e', 'dev']]) {
      writeFileSync(join(s.home, 'index', 'svc_dev.json'), 'not json');
      const run = await s.cli(...args, '--log-format', 'json');
      expect(run.code, run.stderr).toBe(0);
      expect(lines(run.stderr), args.join(' ')).toContainEqual(expect.objectContaining(rebuilt));
    }
  });

  it('stay with -q, which hides progress only: list, and a deploy that takes over a stale lock', async () => {
    const s = setup();
    await s.cli('deploy', 'svc', '-e', 'dev', '--version', '1.0.0', '-q');
    writeFileSync(join(s.home, 'index', '_summary.json'), 'not json');
    const list = await s.cli('list', '-q');
    expect(list.code).toBe(0);
    expect(list.stderr).toBe('warning: the summary of targets in index/_summary.json was damaged: rebuilt from the indexes\n');
    const gone = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' }).stdout.trim();
    const at = new Date().toISOString();
    writeFileSync(
      join(s.home, 'locks', 'svc_dev.lock'),
      JSON.stringify({ app: 'svc', env: 'dev', pid: Number(gone), host: hostname(), user: 'bo', command: 'deployctl deploy svc -e dev', startedAt: at, refreshedAt: at, token: 't' }),
    );
    const deploy = await s.cli('deploy', 'svc', '-e', 'dev', '--version', '1.1.0', '-q');
    expect(deploy.code).toBe(0);
    expect(deploy.stderr.split('\n')).toEqual([
      expect.stringMatching(/^\d\d:\d\d:\d\d warning: took over a stale lock of bo@\S+ \(pid \d+, since .*\): that process is gone$/),
      '',
    ]);
    expect(deploy.stdout).toMatch(/^deployed svc 1\.1\.0 to dev \(record \S+\)\n$/);
  });
});

describe('history prune and retention.keep', () => {
  it('prune --keep 0 deletes all but the newest, the current and the last good record of each target', async () => {
    const s = setup();
    for (const v of ['1.0.0', '1.1.0', '1.2.0', '2.0.0-bad']) await s.cli('deploy', 'svc', '-e', 'dev', '--version', v, '-q', '--no-rollback');
    const before = (await s.json('history', 'svc', '-e', 'dev')).records as Rec[];
    const prune = await s.cli('history', 'prune', 'svc', '-e', 'dev', '--keep', '0');
    expect(prune.code).toBe(0);
    expect(prune.stdout).toBe(`deleted 1 record:\n${before.find((r) => r.version === '1.0.0')!.id}\n`);
    // kept: 2.0.0-bad (the newest), 1.2.0 (what runs), 1.1.0 (where a rollback would go)
    expect(summary((await s.json('history', 'svc', '-e', 'dev')).records)).toEqual(['deploy 2.0.0-bad failed', 'deploy 1.2.0 succeeded', 'deploy 1.1.0 succeeded']);
    expect((await s.cli('rollback', 'svc', '-e', 'dev', '-q')).code).toBe(0);
    expect((await s.cli('history', 'prune', '--keep', '5', '--older-than', '1d')).stdout).toBe('nothing to delete\n');
    const audit = readFileSync(join(s.home, 'audit.log'), 'utf8');
    expect(audit).toContain('"action":"prune","app":"svc","env":"dev","result":"deleted 1"');
  });

  it('retention.keep applies after each deployment', async () => {
    const s = setup('    retention: { keep: 2 }\n');
    for (const v of ['1.0.0', '1.1.0', '1.2.0', '1.3.0']) await s.cli('deploy', 'svc', '-e', 'dev', '--version', v, '-q');
    expect(summary((await s.json('history', 'svc', '-e', 'dev')).records)).toEqual(['deploy 1.3.0 succeeded', 'deploy 1.2.0 succeeded']);
    await s.cli('deploy', 'svc', '-e', 'dev', '--version', '2.0.0-bad', '-q');
    // the failure, its rollback to 1.3.0, and 1.2.0 (where the next rollback would go) stay
    expect(summary((await s.json('history', 'svc', '-e', 'dev')).records)).toEqual(['rollback 1.3.0 succeeded', 'deploy 2.0.0-bad rolled_back', 'deploy 1.2.0 succeeded']);
  });
});
