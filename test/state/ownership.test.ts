// A state folder that belongs to another user: making it writable is not the caller's to do, so the
// advice names the folder's owner and the user running deployctl, and the three ways that work (the
// owner hands it over, run as the owner, a folder of one's own). The message from the facts, then the
// facts read from a real folder, then real runs of the built CLI as another user (when the tests run
// as root, as CI does).
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { diskFix, foreignOwner, ownershipFix } from '../../src/state/write-error.js';
import { cleanEnv, repoRoot, tempDir } from '../support/cli.js';

describe('the advice for a state folder owned by another user', () => {
  it.each([
    [
      'both names known',
      { path: '/srv/deployctl', owner: { uid: 1001, name: 'bo' }, me: { uid: 1000, name: 'ana' } },
      '/srv/deployctl belongs to bo (uid 1001), and deployctl runs as ana (uid 1000): only its owner (or root) can change who may write in it. ' +
        'Ask bo to hand it over (sudo chown -R ana /srv/deployctl), or run deployctl as bo, or pass --home DIR (or set DEPLOYCTL_HOME) to a folder you own',
    ],
    [
      'uids without a name (a container without a passwd entry)',
      { path: '/state', owner: { uid: 0, name: 'root' }, me: { uid: 4242 } },
      '/state belongs to root (uid 0), and deployctl runs as uid 4242: only its owner (or root) can change who may write in it. ' +
        'Ask root to hand it over (sudo chown -R 4242 /state), or run deployctl as root, or pass --home DIR (or set DEPLOYCTL_HOME) to a folder you own',
    ],
  ])('%s', (_what, facts, advice) => {
    expect(ownershipFix(facts)).toBe(advice);
    expect(ownershipFix(facts)).not.toMatch(/writable/);
  });

  describe('the facts, read from a real folder', () => {
    afterEach(() => vi.restoreAllMocks());

    it('a folder of another user (here root\'s, seen as uid 4242): its owner by name, the nearest existing folder for one not made yet', () => {
      if (process.getuid?.() !== 0) return expect(foreignOwner(tempDir())).toBeUndefined();
      const dir = tempDir('deployctl-owned-');
      vi.spyOn(process, 'getuid').mockReturnValue(4242);
      expect(foreignOwner(dir)).toEqual({ path: dir, owner: { uid: 0, name: 'root' }, me: { uid: 4242 } });
      expect(foreignOwner(join(dir, 'history', 'x'))).toMatchObject({ path: dir });
      expect(diskFix('EPERM', dir)).toBe(ownershipFix({ path: dir, owner: { uid: 0, name: 'root' }, me: { uid: 4242 } }));
      // Another cause keeps its own advice.
      expect(diskFix('ENOSPC', dir)).toMatch(/^free space on the disk that holds/);
    });

    it('a folder of one\'s own, or root running deployctl: the advice stays about the folder\'s mode', () => {
      const dir = tempDir('deployctl-mine-');
      expect(foreignOwner(dir)).toBeUndefined();
      expect(diskFix('EACCES', dir)).toBe(`make ${dir} writable for the user running deployctl (ls -ld ${dir}), or point --home (or DEPLOYCTL_HOME) at a folder on another disk`);
    });
  });
});

const OTHER_USER = 'deployctl-other';

/** uid and gid of a system user other than root, made once (the tests run as root in CI). */
function otherUser(): { uid: number; gid: number } {
  const lookup = () => {
    const uid = spawnSync('id', ['-u', OTHER_USER], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', OTHER_USER], { encoding: 'utf8' });
    return uid.status === 0 && gid.status === 0 ? { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) } : undefined;
  };
  const found = lookup();
  if (found) return found;
  spawnSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', OTHER_USER]);
  const made = lookup();
  if (!made) throw new Error(`cannot create the system user ${OTHER_USER} to run deployctl as`);
  return made;
}

let cliCopy: string | undefined;

/**
 * The built CLI where the other user can read it: the checkout may be in a folder only root can enter
 * (a CI runner's clone in a private temporary folder). The bundles need nothing from node_modules.
 */
function cliForOther(): string {
  if (cliCopy) return cliCopy;
  const dir = tempDir('deployctl-cli-copy-');
  for (const part of ['bin', 'dist', 'package.json']) cpSync(join(repoRoot, part), join(dir, part), { recursive: true });
  execFileSync('chmod', ['-R', 'a+rX', dir]);
  cliCopy = join(dir, 'bin', 'deployctl.cjs');
  return cliCopy;
}

/** The built CLI run as the other user, with a home of root's. */
function runAsOther(args: string[], home: string): { code: number | null; stderr: string } {
  const { uid, gid } = otherUser();
  const config = tempDir('deployctl-owned-config-');
  chmodSync(config, 0o755);
  execFileSync('sh', ['-c', `printf 'environments:\\n  dev: {}\\n' > "$0/environments.yaml" && printf 'deployments:\\n  svc:\\n    type: shell\\n    version: "1.0.0"\\n    commands: [["true"]]\\n' > "$0/deployments.yaml" && chmod 644 "$0"/*.yaml`, config]);
  const run = spawnSync(process.execPath, [cliForOther(), ...args], { uid, gid, encoding: 'utf8', env: cleanEnv({ HOME: '/tmp', DEPLOYCTL_HOME: home, DEPLOYCTL_CONFIG_DIR: config }) });
  return { code: run.status, stderr: run.stderr };
}

describe.skipIf(process.getuid?.() !== 0)('deployctl as another user, with a state folder of root\'s (real runs)', () => {
  /** A state folder of root's, with mode `mode`, in a folder everyone may pass through. */
  function rootsHome(mode: number): string {
    const parent = tempDir('deployctl-shared-');
    chmodSync(parent, 0o755);
    const home = join(parent, 'state');
    mkdirSync(home, { mode });
    chmodSync(home, mode);
    return home;
  }

  it('open to read (0755): the mode cannot be set to 0700; exit 2, naming both users and the ways out, not "make it writable"', () => {
    const home = rootsHome(0o755);
    const run = runAsOther(['status'], home);
    expect(run.code, run.stderr).toBe(2);
    const { uid } = otherUser();
    expect(run.stderr).toContain(`error: cannot set mode 0700 on the state folder ${home}: operation not permitted`);
    expect(run.stderr).toContain(
      `hint: ${home} belongs to root (uid 0), and deployctl runs as ${OTHER_USER} (uid ${uid}): only its owner (or root) can change who may write in it. ` +
        `Ask root to hand it over (sudo chown -R ${OTHER_USER} ${home}), or run deployctl as root, or pass --home DIR (or set DEPLOYCTL_HOME) to a folder you own`,
    );
    expect(run.stderr).not.toMatch(/writable/);
  });

  it('closed (0700): its folders cannot be made in it; a deploy exits 2 before anything runs, with the same advice', () => {
    const home = rootsHome(0o700);
    const run = runAsOther(['deploy', 'svc', '-e', 'dev'], home);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toMatch(new RegExp(`error: .*${home}/history: permission denied`));
    expect(run.stderr).toContain(`hint: ${home} belongs to root (uid 0), and deployctl runs as ${OTHER_USER}`);
    expect(run.stderr).toContain('or pass --home DIR (or set DEPLOYCTL_HOME) to a folder you own');
    expect(run.stderr).not.toMatch(/writable/);
  });
});
