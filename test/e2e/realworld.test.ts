// Public projects nobody here wrote, deployed as their authors wrote them (issue 14), through the built
// CLI: each is deployed, deployed again at a new version, rolled back (and destroyed, once `destroy`
// exists). The projects are in test/fixtures/realworld/, each with its license and a README naming
// its source and commit; every test works on a copy.
//   - cloudposse/terraform-null-label: real terraform, offline (no provider, CHECKPOINT_DISABLE=1)
//   - geerlingguy.dotfiles: real ansible-playbook against localhost, local connection
//   - the Kubernetes guestbook: the fake kubectl of test/fixtures/bin records what it is given
//   - awesome-compose flask: the compose v2 plugin on the Docker engine the tests start, the image
//     built from the local busybox image (nothing pulled), through an override file as users adapt it
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, repoRoot, runCli, tempDir } from '../support/cli.js';
import { importBusyboxImage, startDockerEngine, type DockerEngine } from '../support/docker-engine.js';
import { composePluginMissing, composePluginPath, toolMissing } from '../support/tools.js';

const fixtures = join(repoRoot, 'test/fixtures/realworld');

interface Rec {
  id: string;
  action: string;
  version: string;
  status: string;
  error?: { message: string };
  artifacts: Record<string, any>;
  steps: Array<{ label: string; command: string[]; output?: string; exitCode: number | null }>;
}

/** A config folder with a copy of the fixture in it, and the environment to run the CLI there. */
function project(fixture: string, folder: string, deployments: string, extra: Record<string, string> = {}) {
  const dir = tempDir('deployctl-realworld-');
  cpSync(join(fixtures, fixture), join(dir, folder), { recursive: true });
  writeFileSync(join(dir, 'environments.yaml'), 'environments:\n  dev: {}\n');
  writeFileSync(join(dir, 'deployments.yaml'), deployments);
  const env = cleanEnv({ DEPLOYCTL_HOME: tempDir(), DEPLOYCTL_CONFIG_DIR: dir, CHECKPOINT_DISABLE: '1', ...extra });
  const history = async (app: string): Promise<Rec[]> => JSON.parse((await runCli(['history', app, '-e', 'dev', '--json'], { env })).stdout).records;
  return { dir, env, history };
}

/** `destroy` is another engineer's; its step runs once it exists. */
async function destroyExists(env: NodeJS.ProcessEnv): Promise<boolean> {
  const help = await runCli(['destroy', '--help'], { env });
  return help.code === 0 && help.stdout.includes('destroy');
}

describe.skipIf(toolMissing('terraform'))('terraform: cloudposse/terraform-null-label, for real and offline', () => {
  const { dir, env, history } = project(
    'terraform-null-label',
    'label',
    [
      'deployments:',
      '  label:',
      '    type: terraform',
      '    path: label',
      '    auto_approve: true',
      '    var_files: [labels.tfvars]',
      '    vars:',
      '      namespace: eg',
      '      stage: ${env}',
      '      name: guestbook',
      '      attributes: [blue]',
      '      tags: { Version: "${version}", Team: ops }',
      '    hooks:',
      '      post_deploy:',
      '        - \'echo "$DEPLOY_VERSION $TF_OUTPUT_id $TF_OUTPUT_tags" >> ../outputs.log\'',
      '',
    ].join('\n'),
  );
  const folder = join(dir, 'label');
  const output = (name: string) => JSON.parse(execFileSync('terraform', ['output', '-json', name], { cwd: folder, env, encoding: 'utf8' }));

  it('deploys a module with no version variable, redeploys, and rolls back with the var file of that version; outputs reach post_deploy hooks', async () => {
    writeFileSync(join(folder, 'labels.tfvars'), 'delimiter = "-"\n');
    const first = await runCli(['deploy', 'label', '-e', 'dev', '--version', '1.0.0'], { env, timeoutMs: 180_000 });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain('the version is not passed to terraform (no app_version variable declared, or version_var: false)');
    expect(output('id')).toBe('eg-dev-guestbook-blue');

    // Today's var file changes with the new version.
    writeFileSync(join(folder, 'labels.tfvars'), 'delimiter = "_"\n');
    const second = await runCli(['deploy', 'label', '-e', 'dev', '--version', '2.0.0'], { env, timeoutMs: 180_000 });
    expect(second.code, second.stderr).toBe(0);
    expect(output('id')).toBe('eg_dev_guestbook_blue');
    expect(output('tags')).toMatchObject({ Version: '2.0.0', Team: 'ops' });

    const back = await runCli(['rollback', 'label', '-e', 'dev'], { env, timeoutMs: 180_000 });
    expect(back.code, back.stderr).toBe(0);
    expect(back.stderr).toContain('planning with the var files stored in the record: labels.tfvars');
    // The var file of 1.0.0, from the record, not today's.
    expect(output('id')).toBe('eg-dev-guestbook-blue');
    expect(output('tags')).toMatchObject({ Version: '1.0.0' });

    const records = await history('label');
    expect(records.map((r) => [r.action, r.version, r.status, r.artifacts.outputs?.id])).toEqual([
      ['rollback', '1.0.0', 'succeeded', 'eg-dev-guestbook-blue'],
      ['deploy', '2.0.0', 'succeeded', 'eg_dev_guestbook_blue'],
      ['deploy', '1.0.0', 'succeeded', 'eg-dev-guestbook-blue'],
    ]);
    expect(records[2]!.artifacts.var_files).toEqual([{ name: 'labels.tfvars', content: 'delimiter = "-"\n' }]);
    // Values went through TF_VAR_: no command line holds them.
    const argv = records.flatMap((r) => r.steps.map((s) => s.command.join(' ')));
    expect(argv.filter((a) => a.includes('guestbook') || a.includes('-var '))).toEqual([]);
    const planned = records[0]!.steps.find((s) => s.label === 'terraform plan')!.command;
    expect(planned.find((a) => a.startsWith('-out='))).toMatch(/deployctl-tf-\w{6}\/deploy\.tfplan$/);

    expect(readFileSync(join(dir, 'outputs.log'), 'utf8').split('\n').filter(Boolean)).toEqual([
      '1.0.0 eg-dev-guestbook-blue {"Attributes":"blue","Name":"eg-dev-guestbook-blue","Namespace":"eg","Stage":"dev","Team":"ops","Version":"1.0.0"}',
      '2.0.0 eg_dev_guestbook_blue {"Attributes":"blue","Name":"eg_dev_guestbook_blue","Namespace":"eg","Stage":"dev","Team":"ops","Version":"2.0.0"}',
      '1.0.0 eg-dev-guestbook-blue {"Attributes":"blue","Name":"eg-dev-guestbook-blue","Namespace":"eg","Stage":"dev","Team":"ops","Version":"1.0.0"}',
    ]);

    if (await destroyExists(env)) {
      // The module makes no resource: what its state holds is its outputs.
      const outputs = () => JSON.parse(execFileSync('terraform', ['output', '-json'], { cwd: folder, env, encoding: 'utf8' }));
      expect(Object.keys(outputs())).toContain('id');
      const gone = await runCli(['destroy', 'label', '-e', 'dev', '--yes'], { env, timeoutMs: 180_000 });
      expect(gone.code, gone.stderr).toBe(0);
      // terraform destroy ran with the variables of the version running (1.0.0, its stored var file), and nothing is left in the state.
      expect(outputs()).toEqual({});
      expect(execFileSync('terraform', ['state', 'list'], { cwd: folder, env, encoding: 'utf8' }).trim()).toBe('');
      expect(gone.stderr).toContain('terraform destroy with the variables of 1.0.0 and the var files stored in its record: labels.tfvars');
      const [destroyed] = await history('label');
      expect(destroyed).toMatchObject({ action: 'destroy', version: '1.0.0', status: 'succeeded' });
      expect(destroyed!.steps.map((s) => s.label)).toEqual(['terraform init', 'terraform plan -destroy', 'terraform destroy']);
      expect(destroyed!.steps.find((s) => s.label === 'terraform destroy')!.command.slice(1, 3)).toEqual(['destroy', '-auto-approve']);
      const status = JSON.parse((await runCli(['status', 'label', '-e', 'dev', '--json'], { env })).stdout).targets[0];
      expect(status).toMatchObject({ version: null, destroyed: { version: '1.0.0' } });
    }
  }, 600_000);

  it('a dry run on a workspace that is not there yet says it could not plan, and ends as not verified', async () => {
    const text = await runCli(['deploy', 'label', '-e', 'dev', '--version', '3.0.0', '--set', 'workspace=qa', '--dry-run'], { env, timeoutMs: 180_000 });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stderr).toContain('dry run: could not plan: workspace qa does not exist yet');
    expect(text.stdout + text.stderr).toContain('dry run: deploy label 3.0.0 to dev not verified: could not plan: workspace qa does not exist yet');
    const json = await runCli(['deploy', 'label', '-e', 'dev', '--version', '3.0.0', '--set', 'workspace=qa', '--dry-run', '--json'], { env, timeoutMs: 180_000 });
    expect(JSON.parse(json.stdout)).toMatchObject({ dryRun: true, verified: false, unverified: 'could not plan: workspace qa does not exist yet' });
    expect(execFileSync('terraform', ['workspace', 'list'], { cwd: folder, env, encoding: 'utf8' })).not.toContain('qa');
  }, 300_000);

  it("a failed plan is summed up by terraform's error line, not the last line it printed", async () => {
    writeFileSync(join(folder, 'labels.tfvars'), 'delimiter = \n');
    const run = await runCli(['deploy', 'label', '-e', 'dev', '--version', '4.0.0', '--no-rollback'], { env, timeoutMs: 180_000 });
    writeFileSync(join(folder, 'labels.tfvars'), 'delimiter = "-"\n');
    expect(run.code).toBe(3);
    const [failed] = await history('label');
    expect(failed!.error!.message).toMatch(/^terraform plan: exit code 1 \(Error: /);
  }, 300_000);
});

describe.skipIf(toolMissing('ansible-playbook') || toolMissing('git'))('ansible: the geerlingguy.dotfiles role against localhost', () => {
  const work = tempDir('deployctl-dotfiles-');
  const repo = join(work, 'dotfiles.git');
  const { dir, env, history } = project(
    'ansible-dotfiles',
    'dotfiles',
    [
      'deployments:',
      '  dotfiles:',
      '    type: ansible',
      '    path: dotfiles',
      '    playbook: site.yml',
      '    inventory: "localhost,"',
      '    version_var: dotfiles_repo_version',
      '    destroy_playbook: teardown.yml',
      '    extra_vars:',
      `      dotfiles_repo: ${repo}`,
      `      dotfiles_repo_local_destination: ${join(work, 'clone')}`,
      `      dotfiles_home: ${join(work, 'home')}`,
      '      dotfiles_files: [.vimrc, .inputrc]',
      '      ansible_python_interpreter: auto_silent',
      '',
    ].join('\n'),
  );
  // The role has no teardown: ours undoes what it did (its links and its clone), with the same extra vars.
  writeFileSync(
    join(dir, 'dotfiles', 'teardown.yml'),
    [
      '- hosts: all',
      '  connection: local',
      '  gather_facts: false',
      '  tasks:',
      '    - name: Unlink the dotfiles.',
      '      file: { path: "{{ dotfiles_home }}/{{ item }}", state: absent }',
      '      with_items: "{{ dotfiles_files }}"',
      '    - name: Remove the clone.',
      '      file: { path: "{{ dotfiles_repo_local_destination }}", state: absent }',
      '    - name: Say which version was torn down.',
      '      copy: { content: "{{ dotfiles_repo_version }}\\n", dest: "{{ dotfiles_home }}/.destroyed" }',
      '',
    ].join('\n'),
  );
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.email=ci@example.com', '-c', 'user.name=ci', ...args], { cwd: repo, env, stdio: 'pipe' });
  const vimrc = () => readFileSync(join(work, 'home', '.vimrc'), 'utf8');

  beforeAll(() => {
    mkdirSync(repo);
    git('init', '-q');
    for (const version of ['1.0.0', '2.0.0']) {
      writeFileSync(join(repo, '.vimrc'), `" dotfiles ${version}\nset number\n`);
      writeFileSync(join(repo, '.inputrc'), `# ${version}\n`);
      git('add', '-A');
      git('commit', '-qm', version);
      git('tag', version);
    }
  });

  it('deploys the version given (as dotfiles_repo_version), redeploys, rolls back; narrowing settings are not carried into the rollback', async () => {
    const first = await runCli(['deploy', 'dotfiles', '-e', 'dev', '--version', '1.0.0', '--set', 'limit=localhost'], { env, timeoutMs: 300_000 });
    expect(first.code, first.stderr).toBe(0);
    expect(vimrc()).toBe('" dotfiles 1.0.0\nset number\n');
    const second = await runCli(['deploy', 'dotfiles', '-e', 'dev', '--version', '2.0.0'], { env, timeoutMs: 300_000 });
    expect(second.code, second.stderr).toBe(0);
    expect(vimrc()).toBe('" dotfiles 2.0.0\nset number\n');
    const back = await runCli(['rollback', 'dotfiles', '-e', 'dev'], { env, timeoutMs: 300_000 });
    expect(back.code, back.stderr).toBe(0);
    expect(vimrc()).toBe('" dotfiles 1.0.0\nset number\n');
    expect(back.stderr).toContain('limit narrowed the deploy; this rollback runs the whole playbook');

    const records = await history('dotfiles');
    const commands = records.map((r) => r.steps.find((s) => s.label === 'ansible-playbook')!.command);
    // The inline inventory as written; the version by its name; the rest in a private file.
    expect(commands[2]!.slice(1, 6)).toEqual(['-i', 'localhost,', join(dir, 'dotfiles/site.yml'), '-e', 'dotfiles_repo_version=1.0.0']);
    expect(commands[2]).toContain('--limit');
    expect(commands[0]).not.toContain('--limit');
    expect(commands.every((c) => !c.join(' ').includes(repo))).toBe(true);
    expect(records.map((r) => [r.action, r.version, r.status, r.artifacts.recap])).toEqual([
      ['rollback', '1.0.0', 'succeeded', { localhost: expect.objectContaining({ failed: 0 }) }],
      ['deploy', '2.0.0', 'succeeded', { localhost: expect.objectContaining({ failed: 0 }) }],
      ['deploy', '1.0.0', 'succeeded', { localhost: expect.objectContaining({ failed: 0 }) }],
    ]);

    if (await destroyExists(env)) {
      const gone = await runCli(['destroy', 'dotfiles', '-e', 'dev', '--yes'], { env, timeoutMs: 300_000 });
      expect(gone.code, gone.stderr).toBe(0);
      // The destroy playbook ran for real, with the version running (1.0.0, after the rollback).
      expect(existsSync(join(work, 'home', '.vimrc'))).toBe(false);
      expect(existsSync(join(work, 'home', '.inputrc'))).toBe(false);
      expect(existsSync(join(work, 'clone'))).toBe(false);
      expect(readFileSync(join(work, 'home', '.destroyed'), 'utf8')).toBe('1.0.0\n');
      const [destroyed] = await history('dotfiles');
      expect(destroyed).toMatchObject({ action: 'destroy', version: '1.0.0', status: 'succeeded' });
      const step = destroyed!.steps.find((s) => s.label === 'destroy playbook')!;
      expect(step.command.slice(1, 6)).toEqual(['-i', 'localhost,', join(dir, 'dotfiles/teardown.yml'), '-e', 'dotfiles_repo_version=1.0.0']);
      // Put 1.0.0 back for the tests below: rollback --to goes across a destroy.
      const back = await runCli(['rollback', 'dotfiles', '-e', 'dev', '--to', '1.0.0'], { env, timeoutMs: 300_000 });
      expect(back.code, back.stderr).toBe(0);
      expect(vimrc()).toBe('" dotfiles 1.0.0\nset number\n');
    }
  }, 900_000);

  it('check: true runs with --check --diff and is not recorded as a deploy', async () => {
    const before = (await history('dotfiles')).length;
    const run = await runCli(['deploy', 'dotfiles', '-e', 'dev', '--version', '2.0.0', '--set', 'check=true'], { env, timeoutMs: 300_000 });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/ansible-playbook .*--check --diff/);
    expect((await history('dotfiles')).length).toBe(before);
    expect(vimrc()).toBe('" dotfiles 1.0.0\nset number\n');
  }, 300_000);

  it('a play that matched no host is a failed deploy, not a success; ansible\'s ERROR! line sums up a run it refused', async () => {
    // An empty inventory: ansible skips the play ("no hosts matched") and exits 0.
    const run = await runCli(['deploy', 'dotfiles', '-e', 'dev', '--version', '2.0.0', '--set', 'inventory=","', '--no-rollback'], { env, timeoutMs: 300_000 });
    expect(run.code, run.stderr).toBe(3);
    const [failed] = await history('dotfiles');
    expect(failed).toMatchObject({ version: '2.0.0', status: 'failed' });
    expect(failed!.error!.message).toMatch(/^verify: the playbook ran on no host \(provided hosts list is empty/);
    const status = await runCli(['status', 'dotfiles', '-e', 'dev', '--json'], { env });
    // status never says 2.0.0 runs there.
    expect(JSON.parse(status.stdout).targets[0].version).not.toBe('2.0.0');

    const limited = await runCli(['deploy', 'dotfiles', '-e', 'dev', '--version', '2.0.0', '--set', 'limit=webservers', '--no-rollback'], { env, timeoutMs: 300_000 });
    expect(limited.code).toBe(3);
    const [refused] = await history('dotfiles');
    expect(refused!.error!.message).toBe('ansible-playbook: exit code 1 (ERROR! Specified inventory, host pattern and/or --limit leaves us with no hosts to target.)');
  }, 300_000);

  it('a working folder that is not there says so, not "command not found"', async () => {
    const run = await runCli(['deploy', 'dotfiles', '-e', 'dev', '--version', '3.0.0', '--set', 'path=gone', '--no-rollback'], { env, timeoutMs: 120_000 });
    expect([2, 3]).toContain(run.code);
    expect(run.stdout + run.stderr).toContain(join(dir, 'gone'));
    expect(run.stdout + run.stderr).toMatch(/does not exist/);
    expect(run.stdout + run.stderr).not.toContain('command not found');
  }, 120_000);
});

describe('kubernetes: the guestbook, with the fake kubectl', () => {
  const log = join(tempDir(), 'kubectl.jsonl');
  const { dir, env, history } = project(
    'guestbook',
    'guestbook',
    ['tools:', '  kubectl: bin/kubectl', 'deployments:', '  guestbook:', '    type: kubernetes', '    manifests: guestbook', '    namespace: guestbook', ''].join('\n'),
    { FAKE_KUBECTL_LOG: log },
  );
  // tools: relative to deployments.yaml's folder, whatever folder deployctl runs in.
  mkdirSync(join(dir, 'bin'));
  symlinkSync(join(repoRoot, 'test/fixtures/bin/kubectl'), join(dir, 'bin', 'kubectl'));
  const calls = () =>
    existsSync(log)
      ? readFileSync(log, 'utf8')
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as { args: string[]; stdin: string })
      : [];
  const elsewhere = tempDir();

  it('a dry run shows the rendered manifests (text and --json) and diffs them against the cluster', async () => {
    const text = await runCli(['deploy', 'guestbook', '-e', 'dev', '--version', '1.0.0', '--dry-run'], { env, cwd: elsewhere });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stderr).toContain('rendered manifests:');
    expect(text.stderr).toContain('image: gcr.io/google-samples/gb-frontend:1.0.0');
    expect(calls().map((c) => c.args)).toEqual([['-n', 'guestbook', 'diff', '-f', '-']]);
    const json = await runCli(['deploy', 'guestbook', '-e', 'dev', '--version', '1.0.0', '--dry-run', '--json'], { env: { ...env, FAKE_KUBECTL_CLUSTER: 'down' }, cwd: elsewhere });
    // No cluster answers: the diff says so, and the dry run still shows the rest.
    expect(json.code, json.stderr).toBe(0);
    const doc = JSON.parse(json.stdout);
    expect(doc.preview).toContain('image: gcr.io/google-samples/gb-frontend:1.0.0');
    expect(doc.preview).toContain('# If your cluster config does not include a dns service');
    expect(json.stderr).toContain('The connection to the server localhost:8080 was refused');
  });

  it('deploys, redeploys, rolls back to the stored rendered text; the record holds it', async () => {
    for (const version of ['1.0.0', '2.0.0']) {
      const run = await runCli(['deploy', 'guestbook', '-e', 'dev', '--version', version], { env, cwd: elsewhere });
      expect(run.code, run.stderr).toBe(0);
    }
    const back = await runCli(['rollback', 'guestbook', '-e', 'dev'], { env, cwd: elsewhere });
    expect(back.code, back.stderr).toBe(0);
    const applied = calls().filter((c) => c.args.includes('apply'));
    expect(applied.map((c) => /gb-frontend:(\S+)/.exec(c.stdin)?.[1])).toEqual(['1.0.0', '2.0.0', '1.0.0']);
    expect(applied[2]!.stdin).toBe(applied[0]!.stdin);
    // Upstream's comments and notes are left as they are.
    expect(applied[0]!.stdin).toContain('apiVersion: apps/v1 #  for k8s versions before 1.9.0 use apps/v1beta2');
    const rollouts = calls().filter((c) => c.args.includes('rollout')).slice(0, 3);
    expect(rollouts.map((c) => c.args[4])).toEqual(['deployment/frontend', 'deployment/redis-master', 'deployment/redis-replica']);
    const records = await history('guestbook');
    expect(records.map((r) => [r.action, r.version])).toEqual([
      ['rollback', '1.0.0'],
      ['deploy', '2.0.0'],
      ['deploy', '1.0.0'],
    ]);
    expect(records[2]!.artifacts.manifests).toBe(applied[0]!.stdin);

    if (await destroyExists(env)) {
      // Today's files change: the destroy deletes what the running version applied, not these.
      writeFileSync(join(dir, 'guestbook', 'zz-today.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: only-today\n');
      const gone = await runCli(['destroy', 'guestbook', '-e', 'dev', '--yes'], { env, cwd: elsewhere });
      expect(gone.code, gone.stderr).toBe(0);
      const deleted = calls().filter((c) => c.args.includes('delete'));
      expect(deleted.map((c) => c.args)).toEqual([['-n', 'guestbook', 'delete', '--ignore-not-found', '-f', '-']]);
      // The rendered text stored in the record of the version running (the rollback to 1.0.0), byte for byte.
      expect(deleted[0]!.stdin).toBe(applied[2]!.stdin);
      expect(deleted[0]!.stdin).not.toContain('only-today');
      expect(gone.stderr).toContain('deployment.apps "frontend" deleted');
      const [destroyed] = await history('guestbook');
      expect(destroyed).toMatchObject({ action: 'destroy', version: '1.0.0', status: 'succeeded' });
      rmSync(join(dir, 'guestbook', 'zz-today.yaml'));
    }
  });

  it('a missing manifests path is a config error (exit 2) before the lock, and nothing is recorded', async () => {
    const before = (await history('guestbook')).length;
    const run = await runCli(['deploy', 'guestbook', '-e', 'dev', '--version', '3.0.0', '--set', 'manifests=nowhere'], { env, cwd: elsewhere });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`${join(dir, 'nowhere')} does not exist`);
    expect(run.stderr).not.toContain('internal error');
    expect((await history('guestbook')).length).toBe(before);
    expect(readdirSync(join(env.DEPLOYCTL_HOME!, 'locks')).filter((f) => f.endsWith('.lock'))).toEqual([]);
  });
});

describe('kubernetes: validate checks what deploy checks', () => {
  const log = join(tempDir(), 'kubectl.jsonl');
  const { dir, env } = project('guestbook', 'guestbook', ['deployments:', '  guestbook:', '    type: kubernetes', '    manifests: guestbook', ''].join('\n'), {
    FAKE_KUBECTL_LOG: log,
    PATH: `${join(repoRoot, 'test/fixtures/bin')}:${process.env.PATH}`,
    HOSTNAME: 'the-ci-runner',
  });

  it('a shell ${HOSTNAME} and ${POD_NAME:-unknown} pass validate and reach kubectl as written; a manifest no value can be filled into safely fails both', async () => {
    writeFileSync(
      join(dir, 'guestbook', 'probe-configmap.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: probe\ndata:\n  run.sh: |\n    echo "${HOSTNAME} ${POD_NAME:-unknown} ${version}"\n',
    );
    const valid = await runCli(['validate'], { env });
    expect(valid.code, valid.stdout + valid.stderr).toBe(0);
    const run = await runCli(['deploy', 'guestbook', '-e', 'dev', '--version', '1.0.0'], { env });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain("left as written (not deployctl's names: app, env, version, namespace, variables): ${HOSTNAME}, ${POD_NAME:-unknown}");
    const applied = readFileSync(log, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((c) => c.args.includes('apply'));
    expect(applied.stdin).toContain('echo "${HOSTNAME} ${POD_NAME:-unknown} 1.0.0"');

    writeFileSync(join(dir, 'guestbook', 'broken.yaml'), 'kind: ConfigMap\nmetadata: { name: broken }\ndata: { v: ${version} }\n');
    const invalid = await runCli(['validate'], { env });
    expect(invalid.code).toBe(2);
    expect(invalid.stdout + invalid.stderr).toContain('broken.yaml: not valid YAML, so its ${...} cannot be filled in safely');
    const refused = await runCli(['deploy', 'guestbook', '-e', 'dev', '--version', '2.0.0'], { env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('broken.yaml: not valid YAML, so its ${...} cannot be filled in safely');
  });
});

const dockerMissing = toolMissing('dockerd') || toolMissing('docker') || toolMissing('busybox') || composePluginMissing();

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describe.skipIf(dockerMissing)('docker compose: the awesome-compose flask sample on a real engine', () => {
  let engine: DockerEngine;
  let env: NodeJS.ProcessEnv;
  let port: number;
  let dir: string;
  let history: (app: string) => Promise<Rec[]>;
  const served = async () => (await (await fetch(`http://127.0.0.1:${port}/app.py`)).text()).trim();

  beforeAll(async () => {
    engine = await startDockerEngine();
    port = await freePort();
    const withPlugin = tempDir('deployctl-docker-config-');
    mkdirSync(join(withPlugin, 'cli-plugins'));
    symlinkSync(composePluginPath(), join(withPlugin, 'cli-plugins', 'docker-compose'));
    const made = project(
      'compose-flask',
      'flask',
      [
        'deployments:',
        '  flask:',
        '    type: docker-compose',
        '    path: flask',
        '    compose_file: [compose.yaml, deployctl/override.yaml]',
        `    env_vars: { PORT: "${port}" }`,
        `    health_check: { url: "http://127.0.0.1:${port}/app.py", retries: 20, interval: 250ms }`,
        '',
      ].join('\n'),
      { ...engine.env, DOCKER_CONFIG: withPlugin, TMPDIR: tempDir() },
    );
    ({ dir, env, history } = made);
    importBusyboxImage(engine.env);
  }, 120_000);

  afterAll(async () => {
    await engine?.stop();
  }, 60_000);

  it('a dry run checks the files with compose config -q and shows the services and the image it will tag', async () => {
    const run = await runCli(['deploy', 'flask', '-e', 'dev', '--version', '1.0.0', '--dry-run'], { env, timeoutMs: 120_000 });
    expect(run.code, run.stderr).toBe(0);
    // The files as given, then the override that names the built image after the version.
    expect(run.stderr).toMatch(/\$ docker compose -f \S+\/flask\/compose\.yaml -f \S+\/flask\/deployctl\/override\.yaml -f \S+\/pinned-images\.yml -p flask-dev config -q\n.*✓ docker compose config -q/);
    expect(run.stderr).toMatch(/would run docker compose .* up -d --remove-orphans --wait --build\n/);
    expect(run.stderr).toContain('compose services:\n');
    expect(run.stderr).toContain('web: flask-dev-web:1.0.0 (built)');
  }, 120_000);

  it('deploys the sample (build, no image), redeploys new code, and rolls back to the image of that version, not today\'s code', async () => {
    const first = await runCli(['deploy', 'flask', '-e', 'dev', '--version', '1.0.0'], { env, timeoutMs: 300_000 });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain('built without an image name, tagged with the version: flask-dev-web:1.0.0');
    expect(await served()).toContain('return "Hello World!"');

    const app = join(dir, 'flask/app/app.py');
    writeFileSync(app, readFileSync(app, 'utf8').replace('Hello World!', 'Hello from 2.0.0!'));
    const second = await runCli(['deploy', 'flask', '-e', 'dev', '--version', '2.0.0'], { env, timeoutMs: 300_000 });
    expect(second.code, second.stderr).toBe(0);
    expect(await served()).toContain('Hello from 2.0.0!');

    const back = await runCli(['rollback', 'flask', '-e', 'dev'], { env, timeoutMs: 300_000 });
    expect(back.code, back.stderr).toBe(0);
    expect(back.stderr).toContain('pinning the images of the record: flask-dev-web:1.0.0');
    expect(await served()).toContain('return "Hello World!"');

    const records = await history('flask');
    expect(records.map((r) => [r.action, r.version, r.status, r.artifacts.images])).toEqual([
      ['rollback', '1.0.0', 'succeeded', { web: 'flask-dev-web:1.0.0' }],
      ['deploy', '2.0.0', 'succeeded', { web: 'flask-dev-web:2.0.0' }],
      ['deploy', '1.0.0', 'succeeded', { web: 'flask-dev-web:1.0.0' }],
    ]);
    const images = execFileSync('docker', ['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}'], { env, encoding: 'utf8' });
    expect(images).toContain('flask-dev-web:1.0.0');
    expect(images).toContain('flask-dev-web:2.0.0');

    if (await destroyExists(env)) {
      const containers = () => execFileSync('docker', ['ps', '--all', '--quiet', '--filter', 'label=com.docker.compose.project=flask-dev'], { env, encoding: 'utf8' }).trim();
      expect(containers()).not.toBe('');
      const gone = await runCli(['destroy', 'flask', '-e', 'dev', '--yes'], { env, timeoutMs: 300_000 });
      expect(gone.code, gone.stderr).toBe(0);
      expect(gone.stderr).toMatch(/\$ docker compose -f \S+\/flask\/compose\.yaml -f \S+\/flask\/deployctl\/override\.yaml -p flask-dev down --remove-orphans\n/);
      // Gone on the engine: no container of the project, nothing served; the images a rollback --to needs are kept.
      expect(containers()).toBe('');
      await expect(served()).rejects.toThrow();
      const kept = execFileSync('docker', ['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}'], { env, encoding: 'utf8' });
      expect(kept).toContain('flask-dev-web:1.0.0');
      const [destroyed] = await history('flask');
      expect(destroyed).toMatchObject({ action: 'destroy', version: '1.0.0', status: 'succeeded' });
      expect(destroyed!.steps.map((s) => [s.label, s.exitCode])).toEqual([['docker compose down', 0]]);
    }
  }, 900_000);

  it('finds compose.yaml itself (no compose_file), reads services through include:, and pins them on a rollback', async () => {
    const app = join(dir, 'included');
    const includedPort = await freePort();
    mkdirSync(join(app, 'web'), { recursive: true });
    // validate and deploy find the same file: none yet is a config error for both.
    writeFileSync(
      join(dir, 'deployments.yaml'),
      readFileSync(join(dir, 'deployments.yaml'), 'utf8') + `  included:\n    type: docker-compose\n    path: included\n    env_vars: { PORT: "${includedPort}" }\n`,
    );
    const none = await runCli(['validate'], { env });
    expect(none.code).toBe(2);
    const missing = `deployments.included.compose_file: ${join(app, 'compose.yaml')} (or compose.yml, docker-compose.yaml, docker-compose.yml) does not exist: create it, or set compose_file:`;
    expect(none.stdout + none.stderr).toContain(missing);
    const refused = await runCli(['deploy', 'included', '-e', 'dev', '--version', '1.0.0'], { env });
    expect(refused.code).toBe(2);
    // The same words from validate and deploy, at the same line, before the lock.
    expect(refused.stderr).toContain(missing);

    writeFileSync(join(app, 'compose.yaml'), 'include:\n  - web/compose.yaml\n');
    // A docker-compose.yml next to it is not what compose takes: compose.yaml comes first.
    writeFileSync(join(app, 'docker-compose.yml'), 'services:\n  wrong: { image: nothing-here }\n');
    writeFileSync(
      join(app, 'web', 'compose.yaml'),
      'services:\n  web:\n    build: { context: ., network: host }\n    network_mode: host\n    environment: [PORT]\n',
    );
    const serve = (text: string) =>
      writeFileSync(join(app, 'web', 'Dockerfile'), `FROM deployctl-test/busybox:base\nRUN mkdir -p /www && echo ${text} > /www/version\nCMD ["sh", "-c", "exec httpd -f -p 127.0.0.1:\${PORT} -h /www"]\n`);
    const version = async () => (await (await fetch(`http://127.0.0.1:${includedPort}/version`)).text()).trim();
    expect((await runCli(['validate'], { env })).code).toBe(0);
    for (const v of ['1.0.0', '2.0.0']) {
      serve(`code-of-${v}`);
      const run = await runCli(['deploy', 'included', '-e', 'dev', '--version', v], { env, timeoutMs: 300_000 });
      expect(run.code, run.stderr).toBe(0);
      expect(run.stderr).toMatch(new RegExp(`\\$ docker compose -f ${app}/compose\\.yaml -f \\S+ -p included-dev up`));
    }
    expect(await version()).toBe('code-of-2.0.0');
    const back = await runCli(['rollback', 'included', '-e', 'dev'], { env, timeoutMs: 300_000 });
    expect(back.code, back.stderr).toBe(0);
    expect(back.stderr).toContain('pinning the images of the record: included-dev-web:1.0.0');
    expect(await version()).toBe('code-of-1.0.0');
  }, 900_000);
});
