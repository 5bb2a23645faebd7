// The executors for real through the built CLI: terraform (offline, terraform_data only), ansible
// against localhost, and kubectl played by a fake first on PATH that records what it was given.
import { execFileSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanEnv, repoRoot, runCli, tempDir } from '../support/cli.js';
import { toolMissing } from '../support/tools.js';

function demoCopy(): string {
  const dir = tempDir('deployctl-demo-');
  for (const f of ['environments.yaml', 'deployments.yaml']) cpSync(join(repoRoot, f), join(dir, f));
  cpSync(join(repoRoot, 'examples'), join(dir, 'examples'), { recursive: true, filter: (src) => !/\.terraform|tfstate/.test(src) });
  return dir;
}

async function records(env: NodeJS.ProcessEnv, app: string, target: string) {
  const run = await runCli(['history', app, '-e', target, '--json'], { env });
  return JSON.parse(run.stdout).records as Array<{ action: string; version: string; status: string; bad?: boolean; artifacts: Record<string, any>; steps: Array<{ command: string[]; output?: string }> }>;
}

describe.skipIf(toolMissing('terraform'))('terraform, for real and offline', () => {
  const dir = demoCopy();
  const tmp = tempDir();
  const env = cleanEnv({ DEPLOYCTL_HOME: tempDir(), DEPLOYCTL_CONFIG_DIR: dir, CHECKPOINT_DISABLE: '1', TF_PLUGIN_CACHE_DIR: '', TMPDIR: tmp });
  /** Plan files hold the variables' values: none outlives its run. */
  const planFilesLeft = () => readdirSync(tmp).filter((f) => f.endsWith('.tfplan') || f.startsWith('deployctl-tf-'));

  it('deploys, deploys a new version, rolls back, with the outputs in each record', async () => {
    for (const version of ['1.0.0', '1.1.0']) {
      const run = await runCli(['deploy', 'infra', '-e', 'dev', '--version', version], { env, timeoutMs: 120_000 });
      expect(run.stderr).toContain('terraform apply');
      expect(run.code).toBe(0);
    }
    const back = await runCli(['rollback', 'infra', '-e', 'dev'], { env, timeoutMs: 120_000 });
    expect(back.code).toBe(0);
    const history = await records(env, 'infra', 'dev');
    expect(history.map((r) => [r.action, r.version, r.artifacts.outputs])).toEqual([
      ['rollback', '1.0.0', { environment: 'dev', replicas: 1, version: '1.0.0' }],
      ['deploy', '1.1.0', { environment: 'dev', replicas: 1, version: '1.1.0' }],
      ['deploy', '1.0.0', { environment: 'dev', replicas: 1, version: '1.0.0' }],
    ]);
    expect(planFilesLeft()).toEqual([]);
  });

  it('a dry run creates no workspace and selects none; it asks for approval where auto_approve is off (exit 6, nothing run)', async () => {
    const folder = join(dir, 'examples/terraform');
    const workspaces = () => execFileSync('terraform', ['workspace', 'list'], { cwd: folder, env, encoding: 'utf8' });
    const selected = () => execFileSync('terraform', ['workspace', 'show'], { cwd: folder, env, encoding: 'utf8' }).trim();
    // The first test deployed dev: its workspace is there, and selected.
    const before = workspaces();
    expect(before).toMatch(/^\* dev$/m);
    expect(before).not.toMatch(/qa/);

    // qa has no workspace yet: planning it would create it, so the dry run stops after init, and says why.
    const dry = await runCli(['deploy', 'infra', '-e', 'qa', '--version', '2.0.0', '--dry-run'], { env, timeoutMs: 120_000 });
    expect(dry.code, dry.stderr).toBe(0);
    expect(workspaces()).toBe(before);
    expect(dry.stderr).toContain('dry run: could not plan: workspace qa does not exist yet, and planning it would create it; only terraform init ran. A real deploy creates it (workspace select -or-create) and plans from its empty state');
    expect(dry.stdout).toContain('not verified: could not plan: workspace qa does not exist yet');
    expect(dry.stderr).toMatch(/would run terraform workspace select -no-color -or-create qa/);
    expect(dry.stderr).toMatch(/would run terraform plan/);
    expect(planFilesLeft()).toEqual([]);

    const refused = await runCli(['deploy', 'infra', '-e', 'qa', '--version', '2.0.0'], { env });
    expect(refused.code).toBe(6);
    expect(refused.stderr).toContain('terraform apply for infra in qa needs approval');
    expect(await records(env, 'infra', 'qa')).toEqual([]);
    const approved = await runCli(['deploy', 'infra', '-e', 'qa', '--version', '2.0.0', '--yes'], { env, timeoutMs: 120_000 });
    expect(approved.code).toBe(0);
    expect((await records(env, 'infra', 'qa'))[0]?.artifacts.outputs).toEqual({ environment: 'qa', replicas: 1, version: '2.0.0' });

    // dev is there: the dry run plans it as it stands (1.0.0, after the rollback), without selecting it.
    const after = workspaces();
    expect(after).toMatch(/^\* qa$/m);
    const plans = await runCli(['deploy', 'infra', '-e', 'dev', '--version', '3.0.0', '--dry-run'], { env, timeoutMs: 120_000 });
    expect(plans.code, plans.stderr).toBe(0);
    expect(plans.stderr).toContain('plan reads workspace dev through TF_WORKSPACE, without selecting it');
    expect(plans.stderr).toMatch(/│ +~ version += "1\.0\.0" -> "3\.0\.0"/);
    expect(plans.stderr).toMatch(/would run terraform apply/);
    expect([workspaces(), selected()]).toEqual([after, 'qa']);
    expect(planFilesLeft()).toEqual([]);
  });
});

describe.skipIf(toolMissing('ansible-playbook'))('ansible, for real against localhost', () => {
  it('writes the version, and a rollback writes the previous one back', async () => {
    const dir = demoCopy();
    const releaseDir = tempDir();
    const env = cleanEnv({ DEPLOYCTL_HOME: tempDir(), DEPLOYCTL_CONFIG_DIR: dir, RELEASE_DIR: releaseDir, ANSIBLE_LOCAL_TEMP: join(releaseDir, '.tmp') });
    for (const version of ['1.0.0', '2.0.0']) {
      const run = await runCli(['deploy', 'config-mgmt', '-e', 'dev', '--version', version], { env, timeoutMs: 180_000 });
      expect(run.code, run.stderr).toBe(0);
      expect(readFileSync(join(releaseDir, 'VERSION'), 'utf8')).toBe(`${version}\n`);
    }
    const back = await runCli(['rollback', 'config-mgmt', '-e', 'dev'], { env, timeoutMs: 180_000 });
    expect(back.code).toBe(0);
    expect(readFileSync(join(releaseDir, 'VERSION'), 'utf8')).toBe('1.0.0\n');
    const [latest] = await records(env, 'config-mgmt', 'dev');
    expect(latest?.artifacts.recap).toEqual({ localhost: expect.objectContaining({ failed: 0, unreachable: 0 }) });

    // A dry run is ansible's own --check --diff: it shows the change and makes none.
    const dry = await runCli(['deploy', 'config-mgmt', '-e', 'dev', '--version', '3.0.0', '--dry-run'], { env, timeoutMs: 180_000 });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.stderr).toMatch(/\$ ansible-playbook .* -e version=3\.0\.0 -e @\S+vars\.yml --check --diff\n/);
    expect(dry.stderr).toMatch(/│ -1\.0\.0\n.*│ \+3\.0\.0\n/s);
    expect(readFileSync(join(releaseDir, 'VERSION'), 'utf8')).toBe('1.0.0\n');
    expect(await records(env, 'config-mgmt', 'dev')).toHaveLength(3);
  });

  it('keeps the PLAY RECAP of a failed run in the record (exit 3)', async () => {
    const dir = demoCopy();
    const blocker = join(tempDir(), 'a-file');
    writeFileSync(blocker, '');
    // The release folder cannot be made under a file: the task fails on localhost.
    const env = cleanEnv({ DEPLOYCTL_HOME: tempDir(), DEPLOYCTL_CONFIG_DIR: dir, RELEASE_DIR: join(blocker, 'release'), ANSIBLE_LOCAL_TEMP: join(tempDir(), '.tmp') });
    const run = await runCli(['deploy', 'config-mgmt', '-e', 'dev', '--version', '1.0.0'], { env, timeoutMs: 180_000 });
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('ansible-playbook: exit code 2');
    const [failed] = await records(env, 'config-mgmt', 'dev');
    expect(failed?.status).toBe('failed');
    expect(failed?.artifacts.recap).toEqual({ localhost: expect.objectContaining({ ok: 0, failed: 1 }) });
  });
});

describe('kubernetes with a fake kubectl first on PATH', () => {
  const fakeBin = join(repoRoot, 'test/fixtures/bin');
  function setup(extra: Record<string, string> = {}) {
    const dir = demoCopy();
    const log = join(tempDir(), 'kubectl.jsonl');
    const env = cleanEnv({ DEPLOYCTL_HOME: tempDir(), DEPLOYCTL_CONFIG_DIR: dir, FAKE_KUBECTL_LOG: log, PATH: `${fakeBin}${delimiter}${process.env.PATH}`, ...extra });
    const calls = () => readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { args: string[]; stdin: string });
    return { dir, env, calls };
  }

  it('applies the rendered manifests, waits for the rollout, and a rollback re-applies the stored text byte for byte', async () => {
    const { dir, env, calls } = setup();
    const first = await runCli(['deploy', 'shop', '-e', 'prod', '--version', '1.0.0', '--yes'], { env });
    expect(first.code).toBe(0);
    // kubectl's output, streamed line by line with a prefix, and kept in the record's steps.
    expect(first.stderr).toMatch(/ {2}│ deployment\.apps\/shop configured\n/);
    expect((await records(env, 'shop', 'prod'))[0]!.steps.map((step) => step.output)).toEqual([
      'deployment.apps/shop configured\nservice/shop configured\n',
      expect.stringContaining('deployment "shop" successfully rolled out'),
    ]);
    // Today's files change after 1.0.0: the rollback must not pick that up.
    writeFileSync(join(dir, 'examples/kubernetes/service.yaml'), readFileSync(join(dir, 'examples/kubernetes/service.yaml'), 'utf8').replace('port: 80', 'port: 81'));
    expect((await runCli(['deploy', 'shop', '-e', 'prod', '--version', '1.1.0', '--yes'], { env })).code).toBe(0);
    expect((await runCli(['rollback', 'shop', '-e', 'prod', '--yes'], { env })).code).toBe(0);
    const all = calls();
    expect(all.map((c) => c.args)).toEqual([
      ['--context', 'prod', '-n', 'shop', 'apply', '-f', '-'],
      ['--context', 'prod', '-n', 'shop', 'rollout', 'status', 'deployment/shop', '--timeout=120s'],
      ['--context', 'prod', '-n', 'shop', 'apply', '-f', '-'],
      ['--context', 'prod', '-n', 'shop', 'rollout', 'status', 'deployment/shop', '--timeout=120s'],
      ['--context', 'prod', '-n', 'shop', 'apply', '-f', '-'],
      ['--context', 'prod', '-n', 'shop', 'rollout', 'status', 'deployment/shop', '--timeout=120s'],
    ]);
    expect(all[0]!.stdin).toContain('image: registry.example/shop:1.0.0');
    expect(all[2]!.stdin).toContain('port: 81');
    expect(all[4]!.stdin).toBe(all[0]!.stdin);
  });

  it('fails with exit 3 when the rollout fails, and rolls back to the previous manifests', async () => {
    const { env, calls } = setup();
    expect((await runCli(['deploy', 'shop', '-e', 'dev', '--version', '1.0.0'], { env })).code).toBe(0);
    const failing = { ...env, FAKE_KUBECTL_ROLLOUT: 'fail' };
    const run = await runCli(['deploy', 'shop', '-e', 'dev', '--version', '2.0.0'], { env: failing });
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('exceeded its progress deadline');
    expect(run.stdout).toContain('rollout status deployment/shop: exit code 1');
    const applied = calls().filter((c) => c.args.includes('apply'));
    expect(applied.map((c) => /shop:(\S+)/.exec(c.stdin)?.[1])).toEqual(['1.0.0', '2.0.0', '1.0.0']);
  });

  it('stops a hanging rollout at the time limit (exit 3, record failed, lock released)', async () => {
    const { env } = setup({ FAKE_KUBECTL_ROLLOUT: 'hang' });
    const run = await runCli(['deploy', 'shop', '-e', 'dev', '--version', '1.0.0', '--timeout', '2s'], { env });
    expect(run.code).toBe(3);
    expect(run.stdout).toContain('timed out after 2s');
    const status = JSON.parse((await runCli(['status', 'shop', '--json'], { env })).stdout);
    expect(status.targets[0].last.status).toBe('failed');
    expect((await runCli(['unlock', 'shop', '-e', 'dev'], { env })).stdout).toContain('is not locked');
  });

  /** A kustomize app beside the demo's: an overlay setting the namespace and the image tag to ${version}. */
  function kustomizeApp(dir: string) {
    const overlay = join(dir, 'examples/kustomize');
    mkdirSync(overlay, { recursive: true });
    writeFileSync(
      join(overlay, 'kustomization.yaml'),
      'namespace: catalog\nresources: [workloads.yaml]\nimages:\n  - { name: catalog, newName: registry.example/catalog, newTag: "${version}" }\n',
    );
    const workload = (kind: string, name: string, image: string) =>
      `apiVersion: apps/v1\nkind: ${kind}\nmetadata:\n  name: ${name}\nspec:\n  template:\n    spec:\n      containers:\n        - { name: ${name}, image: ${image} }\n`;
    writeFileSync(
      join(overlay, 'workloads.yaml'),
      [workload('Deployment', 'catalog', 'catalog'), workload('DaemonSet', 'agent', 'registry.example/agent:7'), workload('StatefulSet', 'db', 'postgres:16')].join('---\n'),
    );
    appendFileSync(join(dir, 'deployments.yaml'), '\n  catalog:\n    type: kubernetes\n    kustomize: examples/kustomize\n    timeout: 45s\n');
    return overlay;
  }

  it('kustomize: renders with kubectl kustomize, applies the text, waits for every workload with the timeout, and a rollback re-applies the stored text', async () => {
    const { dir, env, calls } = setup();
    const overlay = kustomizeApp(dir);
    const first = await runCli(['deploy', 'catalog', '-e', 'dev', '--version', '1.0.0'], { env });
    expect(first.code, first.stderr).toBe(0);
    expect(first.stderr).toContain('kubectl kustomize (3 workload(s)); the text is kept in the record');
    const rendered = calls()[1]!.stdin;
    expect(rendered).toContain('image: registry.example/catalog:1.0.0');
    expect(calls().map((c) => c.args)).toEqual([
      ['kustomize', overlay],
      ['--context', 'kind-dev', '-n', 'shop-dev', 'apply', '-f', '-'],
      ['--context', 'kind-dev', '-n', 'catalog', 'rollout', 'status', 'deployment/catalog', '--timeout=45s'],
      ['--context', 'kind-dev', '-n', 'catalog', 'rollout', 'status', 'daemonset/agent', '--timeout=45s'],
      ['--context', 'kind-dev', '-n', 'catalog', 'rollout', 'status', 'statefulset/db', '--timeout=45s'],
    ]);
    expect((await records(env, 'catalog', 'dev'))[0]!.artifacts.manifests).toBe(rendered);
    expect((await runCli(['deploy', 'catalog', '-e', 'dev', '--version', '1.1.0'], { env })).code).toBe(0);
    // The overlay changes after 1.1.0: the rollback must not render it again.
    writeFileSync(join(overlay, 'kustomization.yaml'), 'namespace: elsewhere\nresources: [workloads.yaml]\n');
    const before = calls().length;
    expect((await runCli(['rollback', 'catalog', '-e', 'dev'], { env })).code).toBe(0);
    const rollback = calls().slice(before);
    expect(rollback.map((c) => c.args[4])).toEqual(['apply', 'rollout', 'rollout', 'rollout']);
    expect(rollback[0]!.stdin).toBe(rendered);
  });

  it('kustomize: a folder kubectl cannot render stops before anything is applied (exit 3, no rollback, version not marked bad)', async () => {
    const { dir, env, calls } = setup();
    kustomizeApp(dir);
    mkdirSync(join(dir, 'empty'));
    const run = await runCli(['deploy', 'catalog', '-e', 'dev', '--version', '1.0.0', '--set', 'kustomize=empty'], { env });
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(`kubectl kustomize ${join(dir, 'empty')} failed, nothing was applied: exit code 1 (error: unable to find one of 'kustomization.yaml'`);
    expect(calls().map((c) => c.args[0])).toEqual(['kustomize']);
    expect((await records(env, 'catalog', 'dev')).map((r) => [r.status, r.bad])).toEqual([['failed', false]]);
    const dry = await runCli(['deploy', 'catalog', '-e', 'dev', '--version', '1.0.0', '--set', 'kustomize=empty', '--dry-run'], { env });
    expect(dry.code).toBe(3);
    expect(dry.stdout).toMatch(/^dry run: deploy catalog 1\.0\.0 to dev failed: kubectl kustomize \S+ failed, nothing was applied: exit code 1 \(error: unable to find .*\); nothing was changed\n$/);
  });

  it('kustomize: a dry run renders (read-only) and shows the apply and every rollout it would run', async () => {
    const { dir, env, calls } = setup();
    kustomizeApp(dir);
    const run = await runCli(['deploy', 'catalog', '-e', 'dev', '--version', '1.0.0', '--dry-run'], { env });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('would run kubectl --context kind-dev -n shop-dev apply -f -');
    expect(run.stderr).toContain('would run kubectl --context kind-dev -n catalog rollout status daemonset/agent --timeout=45s');
    // kubectl kustomize, then kubectl diff of the rendered text against the cluster: both read-only.
    expect(calls().map((c) => c.args.filter((a) => ['kustomize', 'diff', 'apply'].includes(a)))).toEqual([['kustomize'], ['diff']]);
    expect(await records(env, 'catalog', 'dev')).toEqual([]);
  });

  it('says kubectl is missing before anything runs (exit 2), and where tools.kubectl points to nothing', async () => {
    const { dir, env, calls } = setup();
    const run = await runCli(['deploy', 'shop', '-e', 'dev', '--version', '1.0.0'], { env: { ...env, PATH: '/usr/bin/nonexistent' } });
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('error: kubectl not found on PATH: install it or set tools.kubectl in deployments.yaml\n');
    writeFileSync(join(dir, 'deployments.yaml'), `tools: { kubectl: /opt/nowhere/kubectl }\n${readFileSync(join(dir, 'deployments.yaml'), 'utf8')}`);
    const wrong = await runCli(['deploy', 'shop', '-e', 'dev', '--version', '1.0.0'], { env });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toBe('error: kubectl not found at /opt/nowhere/kubectl: install it there or fix tools.kubectl in deployments.yaml\n');
    expect(calls).toThrow(/ENOENT/);
    expect(await records(env, 'shop', 'dev')).toEqual([]);
  });
});
