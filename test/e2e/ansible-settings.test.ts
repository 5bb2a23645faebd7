// ansible's run settings, for real against localhost (issue 14): what a user sees of limit, skip_tags and
// tags (one deploy narrowed, the rollback runs everything), become and become_user (the tasks run as that
// user), verbosity (-vv: the task paths and results) and diff (the change of a file, shown). Two hosts
// in the inventory, both this machine through a local connection. The argv of each is in
// test/executors/realworld-argv.test.ts.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanEnv, runCli, tempDir } from '../support/cli.js';
import { toolMissing } from '../support/tools.js';

const PLAYBOOK = `# A release on each web host: who ran it, and a cache warmed by a slow task.
- hosts: web
  gather_facts: false
  # su from root to an account without a login shell (nobody) needs one given.
  become_method: su
  become_flags: "-s /bin/sh"
  tasks:
    - name: Who runs the tasks
      ansible.builtin.command: id -un
      register: who
      changed_when: false
    - name: Write the release file
      ansible.builtin.copy:
        dest: "{{ out }}/{{ inventory_hostname }}.release"
        content: "{{ version }} by {{ who.stdout }}\\n"
        mode: "0644"
      become: false
    - name: Warm the cache
      ansible.builtin.copy:
        dest: "{{ out }}/{{ inventory_hostname }}.cache"
        content: "{{ version }}\\n"
        mode: "0644"
      become: false
      tags: [slow]
`;

/** Who runs the tests, and so the playbook when it does not become another user. */
const me = userInfo().username;
/** su to another account without a password needs root: as root (as in CI and here), become is run for real. */
const notRoot = process.getuid?.() !== 0 && 'become needs root here (su to nobody without a password)';
if (notRoot) console.warn(`skipping the become test: ${notRoot}`);

interface Rec {
  action: string;
  version: string;
  status: string;
  artifacts: { recap?: Record<string, { failed: number }> };
}

describe.skipIf(toolMissing('ansible-playbook'))('ansible settings, for real against localhost', () => {
  const dir = tempDir('deployctl-ansible-settings-');
  const out = tempDir('deployctl-ansible-out-');
  mkdirSync(join(dir, 'release'));
  writeFileSync(join(dir, 'release', 'site.yml'), PLAYBOOK);
  writeFileSync(join(dir, 'release', 'hosts.ini'), '[web]\nweb1 ansible_connection=local ansible_python_interpreter=auto_silent\nweb2 ansible_connection=local ansible_python_interpreter=auto_silent\n');
  // qa: a list of inventories (a third host in the second), and its variables in a list of var files.
  const qaOut = tempDir('deployctl-ansible-qa-');
  writeFileSync(join(dir, 'release', 'more.ini'), '[web]\nweb3 ansible_connection=local ansible_python_interpreter=auto_silent\n');
  mkdirSync(join(dir, 'release', 'vars'));
  writeFileSync(join(dir, 'release', 'vars', 'qa.yml'), `out: ${qaOut}\n`);
  writeFileSync(join(dir, 'environments.yaml'), 'environments:\n  dev: {}\n  qa: {}\n');
  writeFileSync(
    join(dir, 'deployments.yaml'),
    [
      'deployments:',
      '  release:',
      '    type: ansible',
      '    path: release',
      '    playbook: site.yml',
      '    inventory: hosts.ini',
      `    extra_vars: { out: "${out}" }`,
      '    environments:',
      '      qa: { inventory: [hosts.ini, more.ini], extra_vars: [vars/qa.yml] }',
      '',
    ].join('\n'),
  );
  const env = cleanEnv({ DEPLOYCTL_HOME: tempDir(), DEPLOYCTL_CONFIG_DIR: dir, ANSIBLE_LOCAL_TEMP: join(tempDir(), '.tmp') });
  const deploy = async (version: string, ...set: string[]) => {
    const run = await runCli(['deploy', 'release', '-e', 'dev', '--version', version, ...set.flatMap((s) => ['--set', s])], { env, timeoutMs: 300_000 });
    expect(run.code, run.stderr).toBe(0);
    return run;
  };
  const files = () =>
    Object.fromEntries(['web1.release', 'web1.cache', 'web2.release', 'web2.cache'].map((f) => [f, readFileSync(join(out, f), 'utf8').trim()]));
  const history = async (): Promise<Rec[]> => JSON.parse((await runCli(['history', 'release', '-e', 'dev', '--json'], { env })).stdout).records;
  let plain = '';

  it('limit and skip_tags narrow one deploy; a rollback to it runs the whole playbook on every host; tags runs only the tagged tasks', async () => {
    plain = (await deploy('1.0.0')).stderr;
    expect(files()).toEqual({ 'web1.release': `1.0.0 by ${me}`, 'web1.cache': '1.0.0', 'web2.release': `1.0.0 by ${me}`, 'web2.cache': '1.0.0' });

    const narrowed = await deploy('2.0.0', 'limit=web1', 'skip_tags=slow');
    expect(narrowed.stderr).toMatch(/\$ ansible-playbook .* --limit web1 --skip-tags slow\n/);
    // web2 was left alone, and web1's slow task did not run.
    expect(files()).toEqual({ 'web1.release': `2.0.0 by ${me}`, 'web1.cache': '1.0.0', 'web2.release': `1.0.0 by ${me}`, 'web2.cache': '1.0.0' });
    expect(Object.keys((await history())[0]!.artifacts.recap!)).toEqual(['web1']);

    await deploy('3.0.0');
    const back = await runCli(['rollback', 'release', '-e', 'dev'], { env, timeoutMs: 300_000 });
    expect(back.code, back.stderr).toBe(0);
    expect(back.stderr).toContain('limit, skip_tags narrowed the deploy; this rollback runs the whole playbook');
    expect(back.stderr).not.toMatch(/--limit|--skip-tags/);
    expect(files()).toEqual({ 'web1.release': `2.0.0 by ${me}`, 'web1.cache': '2.0.0', 'web2.release': `2.0.0 by ${me}`, 'web2.cache': '2.0.0' });
    expect((await history()).map((r) => [r.action, r.version, r.status, Object.keys(r.artifacts.recap ?? {})])).toEqual([
      ['rollback', '2.0.0', 'succeeded', ['web1', 'web2']],
      ['deploy', '3.0.0', 'succeeded', ['web1', 'web2']],
      ['deploy', '2.0.0', 'succeeded', ['web1']],
      ['deploy', '1.0.0', 'succeeded', ['web1', 'web2']],
    ]);

    // tags: only the tagged task runs (the release file stays as it was).
    const tagged = await deploy('2.1.0', 'tags=slow');
    expect(tagged.stderr).toMatch(/\$ ansible-playbook .* --tags slow\n/);
    expect(files()).toEqual({ 'web1.release': `2.0.0 by ${me}`, 'web1.cache': '2.1.0', 'web2.release': `2.0.0 by ${me}`, 'web2.cache': '2.1.0' });
  }, 900_000);

  it.skipIf(notRoot)('become with become_user: the tasks run as that user (nobody), not as the one deploying (root)', async () => {
    const run = await deploy('4.0.0', 'become=true', 'become_user=nobody');
    expect(run.stderr).toMatch(/\$ ansible-playbook .* --become --become-user nobody\n/);
    expect(files()['web1.release']).toBe('4.0.0 by nobody');
    expect(files()['web2.release']).toBe('4.0.0 by nobody');
  }, 300_000);

  it('verbosity: 2 shows what -vv shows (the task paths and each result); without it, none of that', async () => {
    const run = await deploy('5.0.0', 'verbosity=2');
    expect(run.stderr).toMatch(/\$ ansible-playbook .* -vv\n/);
    expect(run.stderr).toContain(`task path: ${join(dir, 'release', 'site.yml')}:`);
    expect(run.stderr).toContain(`"stdout": "${me}"`);
    expect(run.stderr).toMatch(/ok: \[web1\] => \{.*"cmd": \["id", "-un"\]/);
    expect(plain).not.toContain('task path:');
    expect(plain).not.toContain('"cmd": ["id", "-un"]');
  }, 300_000);

  it('diff: the change of each file is shown, before and after', async () => {
    const run = await deploy('6.0.0', 'diff=true');
    expect(run.stderr).toMatch(/\$ ansible-playbook .* --diff\n/);
    expect(run.stderr).toContain(`--- before: ${join(out, 'web1.release')}`);
    expect(run.stderr).toContain(`│ -5.0.0 by ${me}\n`);
    expect(run.stderr.indexOf(`│ +6.0.0 by ${me}\n`)).toBeGreaterThan(run.stderr.indexOf(`│ -5.0.0 by ${me}\n`));
    expect(plain).not.toContain('--- before:');
  }, 300_000);

  it('a list of inventories and extra_vars as a list of var files: every host of both, the variables of the file', async () => {
    const run = await runCli(['deploy', 'release', '-e', 'qa', '--version', '1.0.0'], { env, timeoutMs: 300_000 });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/\$ ansible-playbook -i \S+\/hosts\.ini -i \S+\/more\.ini \S+\/site\.yml -e version=1\.0\.0 -e @\S+\/vars\/qa\.yml\n/);
    expect(readdirSync(qaOut).sort()).toEqual(['web1.cache', 'web1.release', 'web2.cache', 'web2.release', 'web3.cache', 'web3.release']);
    expect(readFileSync(join(qaOut, 'web3.release'), 'utf8')).toBe(`1.0.0 by ${me}\n`);
  }, 300_000);
});

describe.skipIf(toolMissing('ansible-playbook') || toolMissing('ansible-vault'))('ansible: a vault password that no longer opens the vault (issue 14)', () => {
  it('the automatic rollback fails the same way, stops there and condemns no older version; after the fix, rollback --to 1.0.0 goes', async () => {
    const dir = tempDir('deployctl-ansible-vault-');
    const out = tempDir('deployctl-ansible-vault-out-');
    mkdirSync(join(dir, 'app'));
    const pass = join(dir, 'app', '.vault_pass');
    writeFileSync(pass, 'right-password\n');
    // A vaulted variable, as the roles that keep their secrets in the repository have.
    const vaulted = execFileSync('ansible-vault', ['encrypt_string', '--vault-password-file', pass, 'the-db-password', '--name', 'db_password'], { encoding: 'utf8' });
    writeFileSync(join(dir, 'app', 'secrets.yml'), vaulted);
    writeFileSync(
      join(dir, 'app', 'site.yml'),
      [
        '- hosts: all',
        '  connection: local',
        '  gather_facts: false',
        '  vars_files: [secrets.yml]',
        '  tasks:',
        '    - ansible.builtin.copy: { dest: "{{ out }}/running", content: "{{ version }} {{ db_password | length }}\\n", mode: "0600" }',
        '',
      ].join('\n'),
    );
    writeFileSync(join(dir, 'environments.yaml'), 'environments:\n  dev: {}\n');
    writeFileSync(
      join(dir, 'deployments.yaml'),
      ['deployments:', '  app:', '    type: ansible', '    path: app', '    playbook: site.yml', '    inventory: "localhost,"', '    vault_password_file: .vault_pass', `    extra_vars: { out: "${out}", ansible_python_interpreter: auto_silent }`, ''].join('\n'),
    );
    const env = cleanEnv({ DEPLOYCTL_HOME: tempDir(), DEPLOYCTL_CONFIG_DIR: dir, ANSIBLE_LOCAL_TEMP: join(tempDir(), '.tmp') });
    const cli = (...args: string[]) => runCli(args, { env, timeoutMs: 300_000 });
    const running = () => readFileSync(join(out, 'running'), 'utf8').trim();
    const summary = async () =>
      (JSON.parse((await cli('history', 'app', '-e', 'dev', '--json')).stdout).records as Array<{ action: string; version: string; status: string; bad?: boolean }>).map(
        (r) => `${r.action} ${r.version} ${r.status}${r.bad ? ' bad' : ''}`,
      );
    for (const version of ['1.0.0', '1.1.0']) expect((await cli('deploy', 'app', '-e', 'dev', '--version', version)).code).toBe(0);
    expect(running()).toBe('1.1.0 15');

    // The password file now holds another password: every version fails the same way.
    writeFileSync(pass, 'wrong-password\n');
    const failed = await cli('deploy', 'app', '-e', 'dev', '--version', '1.2.0');
    expect(failed.code).toBe(3);
    // The summary quotes ansible's fatal: line, not its recap.
    expect(failed.stdout).toContain('deploy of app 1.2.0 to dev failed: ansible-playbook: exit code 2 (fatal: [localhost]: FAILED! => {"msg": "Decryption failed (no vault secrets were found that could decrypt)"})\n');
    expect(failed.stderr).toContain('the rollback to 1.1.0 failed the same way as 1.2.0 did');
    expect(failed.stdout).toContain('no older version was tried and none is marked bad');
    expect(await summary()).toEqual(['rollback 1.1.0 failed', 'deploy 1.2.0 failed bad', 'deploy 1.1.0 succeeded', 'deploy 1.0.0 succeeded']);

    // The real fix: the right password. 1.0.0 was not condemned.
    writeFileSync(pass, 'right-password\n');
    const back = await cli('rollback', 'app', '-e', 'dev', '--to', '1.0.0');
    expect(back.code, back.stderr).toBe(0);
    expect(running()).toBe('1.0.0 15');
  }, 600_000);
});
