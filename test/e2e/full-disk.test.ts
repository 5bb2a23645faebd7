// A full disk while writing history, for real: the state folder on a small tmpfs, filled up before a
// deploy, or by the deploy's own command while it runs, or turned read-only under it. One clear message,
// the right exit code, no stack trace, history and locks consistent, reading still works, and a deploy
// works again once there is room.
import Ajv from 'ajv';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanEnv, repoRoot, runCli, tempDir } from '../support/cli.js';
import { SmallDisk } from '../support/small-disk.js';
import { tmpfsMissing } from '../support/tools.js';

// Each run appends its version to $MARKER (what ran), then, as the test asks: fills the disk ($FILL),
// turns it read-only ($READ_ONLY), fails ($FAIL). Read from the environment, never spliced in.
const SCRIPT = [
  'echo "$DEPLOY_VERSION" >> "$MARKER"',
  'if [ -n "$FILL" ]; then cat /dev/zero > "$FILL" 2>/dev/null; fi',
  'if [ -n "$READ_ONLY" ]; then mount -o remount,ro "$READ_ONLY"; fi',
  '[ -z "$FAIL" ]',
].join('; ');

const NO_STACK = /^\s+at /m;

const validError = new Ajv.default({ allErrors: true, strict: false }).compile(JSON.parse(readFileSync(join(repoRoot, 'docs/json/error.schema.json'), 'utf8')));
function expectValidError(document: unknown) {
  expect(validError(document), JSON.stringify(validError.errors)).toBe(true);
}

describe.skipIf(tmpfsMissing())('a full disk under the state folder', () => {
  const disks: SmallDisk[] = [];
  afterEach(() => {
    for (const disk of disks.splice(0)) {
      disk.remount('rw');
      disk.unmount();
    }
  });

  function setup() {
    const disk = SmallDisk.mount(1024);
    disks.push(disk);
    const dir = tempDir('deployctl-full-');
    writeFileSync(join(dir, 'environments.yaml'), 'environments:\n  dev: {}\n');
    writeFileSync(join(dir, 'deployments.yaml'), `deployments:\n  svc:\n    type: shell\n    commands:\n      - ${JSON.stringify(['sh', '-c', SCRIPT])}\n`);
    const home = join(disk.dir, 'home');
    const marker = join(dir, 'ran');
    const env = cleanEnv({ DEPLOYCTL_HOME: home, DEPLOYCTL_CONFIG_DIR: dir, MARKER: marker });
    // The built binary: a record left running must belong to a process that has ended, as it does for a
    // user (in-process, its pid would be the test's own, alive).
    const run = (args: string[], extra: Record<string, string> = {}) => runCli(args, { env: { ...env, ...extra }, spawn: true });
    const deploy = (version: string, extra: Record<string, string> = {}, flags: string[] = []) => run(['deploy', 'svc', '-e', 'dev', '--version', version, ...flags], extra);
    const ran = () => (existsSync(marker) ? readFileSync(marker, 'utf8').trim().split('\n') : []);
    const records = () =>
      readdirSync(join(home, 'history'))
        .map((f) => JSON.parse(readFileSync(join(home, 'history', f), 'utf8')) as { id: string; version: string; status: string; action: string })
        .sort((a, b) => (a.id < b.id ? -1 : 1))
        .map((r) => `${r.action} ${r.version} ${r.status}`);
    /** No temp file, no lock and no half-written file anywhere in the state folder; the audit log whole lines. */
    const expectConsistent = () => {
      for (const dir of ['history', 'index', 'locks']) {
        const names = readdirSync(join(home, dir));
        expect(names.filter((n) => !n.endsWith('.json'))).toEqual([]);
        for (const name of names) expect(() => JSON.parse(readFileSync(join(home, dir, name), 'utf8'))).not.toThrow();
      }
      const audit = existsSync(join(home, 'audit.log')) ? readFileSync(join(home, 'audit.log'), 'utf8') : '';
      expect(audit === '' || audit.endsWith('\n')).toBe(true);
      for (const line of audit.split('\n').filter(Boolean)) expect(() => JSON.parse(line)).not.toThrow();
    };
    return { disk, home, run, deploy, ran, records, expectConsistent };
  }

  it('full before the deploy: the lock cannot be made, exit 2, nothing run; status, history and list still work; a deploy works once there is room', async () => {
    const { disk, home, run, deploy, ran, records, expectConsistent } = setup();
    expect((await deploy('1.0.0')).code).toBe(0);
    disk.fill();

    const refused = await deploy('2.0.0');
    expect(refused.code).toBe(2);
    expect(refused.stdout).toBe('');
    const locks = join(home, 'locks');
    expect(refused.stderr).toContain(
      `error: deploy of svc 2.0.0 to dev did not start, nothing was run: cannot create the lock ${join(locks, 'svc_dev.lock')}: no space left on device\n` +
        `hint: free space on the disk that holds ${locks} (df -h ${locks}; df -i ${locks} for inodes), or point --home (or DEPLOYCTL_HOME) at a folder on another disk; then run it again\n`,
    );
    expect(refused.stderr).not.toMatch(NO_STACK);
    expect(ran()).toEqual(['1.0.0']);
    expect(records()).toEqual(['deploy 1.0.0 succeeded']);
    expectConsistent();

    // The stack trace is there with --verbose.
    const verbose = await deploy('2.0.0', {}, ['--verbose']);
    expect(verbose.code).toBe(2);
    expect(verbose.stderr).toMatch(/StateWriteError: deploy of svc 2\.0\.0 to dev did not start[^\n]*\n\s+at /);

    const status = await run(['status']);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/svc\s+dev\s+1\.0\.0/);
    const history = await run(['history', '--json']);
    expect(history.code).toBe(0);
    expect(JSON.parse(history.stdout).records.map((r: { version: string }) => r.version)).toEqual(['1.0.0']);
    const list = await run(['list']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/svc\s+1\.0\.0/);

    disk.free();
    expect((await deploy('2.0.0')).code).toBe(0);
    expect(ran()).toEqual(['1.0.0', '2.0.0']);
    expect(records()).toEqual(['deploy 1.0.0 succeeded', 'deploy 2.0.0 succeeded']);
    expectConsistent();
  });

  it('room for the lock, not for the record: exit 2, nothing run, the lock released (--json)', async () => {
    const { disk, home, deploy, ran, records, expectConsistent } = setup();
    expect((await deploy('1.0.0')).code).toBe(0);
    // One free page: the lock file takes it, the record then finds none.
    disk.fill(1);

    const refused = await deploy('2.0.0', {}, ['--json']);
    expect(refused.code).toBe(2);
    const { error } = JSON.parse(refused.stdout);
    expectValidError(JSON.parse(refused.stdout));
    expect(error).toMatchObject({ code: 'state_write_failed', exitCode: 2, errno: 'ENOSPC' });
    expect(error.path).toMatch(new RegExp(`^${join(home, 'history')}/svc_dev_\\w+\\.json$`));
    expect(error.message).toBe(`deploy of svc 2.0.0 to dev did not start, nothing was run: cannot write the record ${error.path}: no space left on device`);
    expect(error.hint).toContain('or point --home (or DEPLOYCTL_HOME) at a folder on another disk; then run it again');
    expect(refused.stderr).toContain(`error: ${error.message}`);
    expect(refused.stderr).not.toMatch(NO_STACK);
    expect(ran()).toEqual(['1.0.0']);
    expect(records()).toEqual(['deploy 1.0.0 succeeded']);
    expect(readdirSync(join(home, 'locks'))).toEqual([]);
    expectConsistent();

    disk.free();
    expect((await deploy('2.0.0')).code).toBe(0);
    expect(records()).toEqual(['deploy 1.0.0 succeeded', 'deploy 2.0.0 succeeded']);
  });

  it('full while the deploy runs: the commands ran, the record could not be saved: exit 3 saying what ran and what runs; reading still works; the next deploy settles it', async () => {
    const { disk, home, run, deploy, ran, records, expectConsistent } = setup();
    expect((await deploy('1.0.0')).code).toBe(0);

    const filled = await deploy('2.0.0', { FILL: join(disk.dir, 'filler-by-the-deploy') });
    expect(filled.code).toBe(3);
    expect(filled.stdout).toBe('');
    const id = /deploy svc 2\.0\.0 to dev \(record (\S+)\)/.exec(filled.stderr)?.[1];
    expect(id).toBeDefined();
    const history = join(home, 'history');
    // The step's label is the reporter's: "command 1/1: sh -c echo ...".
    const label = /✓ (command 1\/1: .*) \(\d+ms\)/.exec(filled.stderr)?.[1];
    expect(label).toBeDefined();
    expect(filled.stderr).toContain(
      [
        `error: deploy of svc 2.0.0 to dev succeeded, but its record could not be saved: cannot write the record ${join(history, `${id}.json`)}: no space left on device`,
        `ran: ${label} (ok)`,
        'as far as deployctl knows, svc 2.0.0 now runs in dev',
        'the history still shows this deploy as running (read as interrupted once deployctl has exited), and status the version before it',
        `hint: free space on the disk that holds ${history} (df -h ${history}; df -i ${history} for inodes), or point --home (or DEPLOYCTL_HOME) at a folder on another disk; then run \`deployctl deploy svc -e dev --version 2.0.0\` again so that the history says what runs`,
      ].join('\n'),
    );
    expect(filled.stderr).not.toMatch(NO_STACK);
    expect(ran()).toEqual(['1.0.0', '2.0.0']);
    expect(records()).toEqual(['deploy 1.0.0 succeeded', 'deploy 2.0.0 running']);
    expect(readdirSync(join(home, 'locks'))).toEqual([]);
    expectConsistent();

    // Full again (removing the lock gave a page back): status and history read, showing the
    // unfinished deploy as interrupted, which they cannot save.
    disk.fill();
    const status = await run(['status']);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/svc\s+dev\s+1\.0\.0 .*interrupted deploy 2\.0\.0/);
    expect(status.stderr).toContain(`warning: record ${id} is shown as interrupted but could not be saved so: no space left on device`);
    expect(status.stderr).not.toMatch(NO_STACK);
    const listed = await run(['history', 'svc', '-e', 'dev', '--json']);
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout).records.map((r: { version: string; status: string }) => `${r.version} ${r.status}`)).toEqual(['2.0.0 interrupted', '1.0.0 succeeded']);
    expect(records()).toEqual(['deploy 1.0.0 succeeded', 'deploy 2.0.0 running']);
    expectConsistent();

    disk.free();
    const again = await deploy('2.0.0');
    expect(again.code).toBe(0);
    expect(records()).toEqual(['deploy 1.0.0 succeeded', 'deploy 2.0.0 interrupted', 'deploy 2.0.0 succeeded']);
    const settled = JSON.parse(readFileSync(join(history, `${id}.json`), 'utf8'));
    expect(settled.error.message).toContain('stopped before this deployment finished, or could not save how it ended');
    expectConsistent();
  });

  it('a failing deploy that fills the disk keeps its exit code, and is not rolled back automatically (--json)', async () => {
    const { disk, home, deploy, run, ran, records, expectConsistent } = setup();
    expect((await deploy('1.0.0')).code).toBe(0);

    const failed = await deploy('2.0.0', { FILL: join(disk.dir, 'filler-by-the-deploy'), FAIL: '1' }, ['--json']);
    expect(failed.code).toBe(3);
    const { error } = JSON.parse(failed.stdout);
    expectValidError(JSON.parse(failed.stdout));
    expect(error).toMatchObject({ code: 'record_not_saved', exitCode: 3, errno: 'ENOSPC', record: { app: 'svc', env: 'dev', version: '2.0.0', action: 'deploy', status: 'failed' } });
    expect(error.path).toBe(join(home, 'history', `${error.record.id}.json`));
    expect(failed.stderr).toMatch(/error: deploy of svc 2\.0\.0 to dev failed \(command 1\/1: .*: exit code 1\), and its record could not be saved: cannot write the record \S+: no space left on device\n/);
    expect(failed.stderr).toMatch(/\nran: command 1\/1: .* \(exit 1\)\nas far as deployctl knows, dev may run part of svc 2\.0\.0: the deploy stopped before it finished\n/);
    expect(failed.stderr).toContain('not rolled back automatically: what a rollback did could not be recorded either\n');
    expect(failed.stderr).toContain('; then roll back with `deployctl rollback svc -e dev`, or deploy again\n');
    expect(failed.stderr).not.toMatch(NO_STACK);
    // 1.0.0 did not run again: no rollback.
    expect(ran()).toEqual(['1.0.0', '2.0.0']);
    expectConsistent();

    disk.free();
    const rollback = await run(['rollback', 'svc', '-e', 'dev']);
    expect(rollback.code).toBe(0);
    expect(ran()).toEqual(['1.0.0', '2.0.0', '1.0.0']);
    expect(records()).toEqual(['deploy 1.0.0 succeeded', 'deploy 2.0.0 interrupted', 'rollback 1.0.0 succeeded']);
    expectConsistent();
  });

  it('a rollback: refused on a full disk with nothing run (exit 2); one that fills the disk says it ran (exit 3) and how to record it', async () => {
    const { disk, deploy, run, ran, records, expectConsistent } = setup();
    expect((await deploy('1.0.0')).code).toBe(0);
    expect((await deploy('2.0.0')).code).toBe(0);
    disk.fill();

    const refused = await run(['rollback', 'svc', '-e', 'dev']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/error: rollback of svc 1\.0\.0 to dev did not start, nothing was run: cannot create the lock \S+svc_dev\.lock: no space left on device\n/);
    expect(refused.stderr).not.toMatch(NO_STACK);
    expect(ran()).toEqual(['1.0.0', '2.0.0']);
    expectConsistent();

    disk.free();
    const filled = await run(['rollback', 'svc', '-e', 'dev'], { FILL: join(disk.dir, 'filler-by-the-rollback') });
    expect(filled.code).toBe(3);
    expect(filled.stderr).toMatch(/error: rollback of svc 1\.0\.0 to dev succeeded, but its record could not be saved: cannot write the record \S+: no space left on device\n/);
    expect(filled.stderr).toContain('as far as deployctl knows, svc 1.0.0 now runs in dev\n');
    expect(filled.stderr).toContain('; then run `deployctl rollback svc -e dev --to 1.0.0` again so that the history says what runs\n');
    expect(filled.stderr).not.toMatch(NO_STACK);
    expect(ran()).toEqual(['1.0.0', '2.0.0', '1.0.0']);
    expect(records()).toEqual(['deploy 1.0.0 succeeded', 'deploy 2.0.0 succeeded', 'rollback 1.0.0 running']);
    expectConsistent();

    const status = await run(['status', 'svc', '-e', 'dev']);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/svc\s+dev\s+2\.0\.0 .*interrupted rollback 1\.0\.0/);

    disk.free();
    const recorded = await run(['rollback', 'svc', '-e', 'dev', '--to', '1.0.0']);
    expect(recorded.code).toBe(0);
    expect(records()).toEqual(['deploy 1.0.0 succeeded', 'deploy 2.0.0 succeeded', 'rollback 1.0.0 interrupted', 'rollback 1.0.0 succeeded']);
    expectConsistent();
  });

  it('read-only under the deploy: exit 3, the lock it cannot remove is named with the way out, and the next deploy takes it over', async () => {
    const { disk, home, deploy, ran, records, expectConsistent } = setup();
    expect((await deploy('1.0.0')).code).toBe(0);

    const frozen = await deploy('2.0.0', { READ_ONLY: disk.dir });
    expect(frozen.code).toBe(3);
    const lock = join(home, 'locks', 'svc_dev.lock');
    expect(frozen.stderr).toMatch(/error: deploy of svc 2\.0\.0 to dev succeeded, but its record could not be saved: cannot write the record \S+: read-only file system\n/);
    expect(frozen.stderr).toContain(
      `warning: cannot remove the lock ${lock}: read-only file system: the next deploy of svc in dev on this machine takes it over once this process has exited; or remove it with \`deployctl unlock svc -e dev\` (or rm ${lock}) when the disk allows it again\n`,
    );
    expect(frozen.stderr).toContain(`warning: cannot write the audit log ${join(home, 'audit.log')}: read-only file system: the audit log lacks this deploy\n`);
    expect(frozen.stderr).toContain(`hint: make the file system that holds ${join(home, 'history')} writable again (mount -o remount,rw), or point --home (or DEPLOYCTL_HOME) at a folder on another disk`);
    expect(frozen.stderr).not.toMatch(NO_STACK);
    expect(readdirSync(join(home, 'locks'))).toEqual(['svc_dev.lock']);

    disk.remount('rw');
    const next = await deploy('3.0.0');
    expect(next.code).toBe(0);
    expect(next.stderr).toMatch(/warning: took over a stale lock of \S+ \(pid \d+, since .*deployctl deploy svc -e dev --version 2\.0\.0\): that process is gone/);
    expect(ran()).toEqual(['1.0.0', '2.0.0', '3.0.0']);
    expect(records()).toEqual(['deploy 1.0.0 succeeded', 'deploy 2.0.0 interrupted', 'deploy 3.0.0 succeeded']);
    expectConsistent();
  });
});
