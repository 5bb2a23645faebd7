// examples/ci/github-actions.yml: a well-formed workflow whose deployctl lines run as written. The
// staging job's and then the prod job's `run:` lines are executed by bash with `npx` answering for the
// built CLI, the ${{ }} expressions filled in as GitHub would, and the state in a real PostgreSQL (the
// DEPLOYCTL_DATABASE_URL secret), shared by the two jobs as by two runners.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { cleanEnv, cliPath, repoRoot, tempDir } from '../support/cli.js';
import { postgresForFile } from '../support/postgres.js';

interface Step {
  id?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
interface Workflow {
  on: Record<string, unknown>;
  env: Record<string, string>;
  jobs: Record<string, { 'runs-on': string; if?: string; steps: Step[] }>;
}

const workflow = parse(readFileSync(join(repoRoot, 'examples/ci/github-actions.yml'), 'utf8')) as Workflow;

describe('the example GitHub Actions workflow', () => {
  it('is well formed: triggers, jobs on a runner, each step one action or one command, outputs deployctl sets', () => {
    expect(Object.keys(workflow.on)).toEqual(['push', 'workflow_dispatch']);
    expect(Object.keys(workflow.jobs)).toEqual(['staging', 'prod']);
    for (const job of Object.values(workflow.jobs)) {
      expect(job['runs-on']).toBe('ubuntu-latest');
      for (const step of job.steps) {
        expect(Boolean(step.uses) !== Boolean(step.run), JSON.stringify(step)).toBe(true);
        if (step.uses) expect(step.uses).toMatch(/^actions\/[a-z-]+(\/[a-z]+)?@v\d+$/);
      }
      const ids = new Set(job.steps.flatMap((s) => (s.id ? [s.id] : [])));
      for (const step of job.steps) {
        for (const [, id, output] of (step.run ?? '').matchAll(/\$\{\{ steps\.([a-z]+)\.outputs\.([a-z_]+) \}\}/g)) {
          expect(ids.has(id!)).toBe(true);
          expect(['version', 'status', 'record_id']).toContain(output);
        }
      }
      // The state outlives the job in the database: no cache to restore or save, and every deployctl
      // line queues for its target's lock rather than failing when another pipeline holds it.
      expect(job.steps.filter((s) => s.uses?.startsWith('actions/cache'))).toEqual([]);
      for (const step of job.steps.filter((s) => /deployctl (deploy|promote|rollback)/.test(s.run ?? ''))) expect(step.run).toContain('--wait-lock');
    }
    expect(workflow.env).toEqual({ DEPLOYCTL_STATE: '${{ secrets.DEPLOYCTL_DATABASE_URL }}' });
    // Per-target locks in the database replace one global concurrency group.
    expect(Object.keys(workflow)).not.toContain('concurrency');
  });
});

const { skip: noPostgres, server } = postgresForFile();

describe.skipIf(noPostgres)('the example GitHub Actions workflow, run', () => {

  it("runs its deployctl lines as written: staging on push, then prod by promotion, on two runners sharing the database", async () => {
    const databaseUrl = server.url(await server.createDatabase('actions'));
    const workspace = tempDir('deployctl-workspace-');
    writeFileSync(join(workspace, 'environments.yaml'), 'environments:\n  staging: {}\n  prod: { protected: true }\n');
    writeFileSync(join(workspace, 'deployments.yaml'), 'deployments:\n  web:\n    type: shell\n    commands: [[node, -e, "console.log(process.env.DEPLOY_VERSION)"]]\n');
    const bin = join(tempDir(), 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'npx'), `#!/bin/sh\n[ "$1" = deployctl ] && shift\nexec '${process.execPath}' '${cliPath}' "$@"\n`);
    chmodSync(join(bin, 'npx'), 0o755);
    const sha = 'f3a1c9e0b7d24c5e8a6f1b2c3d4e5f60718293a4';

    // Each job runs on a fresh runner: nothing on its disk from the job before.
    const runJob = (name: string) => {
      const runnerHome = tempDir('deployctl-runner-');
      const outputs = join(tempDir(), 'outputs');
      const summary = join(tempDir(), 'summary');
      writeFileSync(outputs, '');
      const stepOutputs: Record<string, Record<string, string>> = {};
      const context: Record<string, string> = { 'github.sha': sha, 'github.workspace': workspace, 'github.run_id': '7', 'github.run_attempt': '1', 'secrets.SLACK_WEBHOOK': '', 'secrets.DEPLOYCTL_DATABASE_URL': databaseUrl };
      const fill = (text: string) =>
        text.replace(/\$\{\{ ([a-z_.]+) \}\}/g, (_m, expr: string) => {
          const step = /^steps\.([a-z]+)\.outputs\.([a-z_]+)$/.exec(expr);
          const value = step ? stepOutputs[step[1]!]?.[step[2]!] : context[expr];
          if (value === undefined) throw new Error(`the test does not know \${{ ${expr} }}`);
          return value;
        });
      const printed: string[] = [];
      for (const step of workflow.jobs[name]!.steps) {
        if (!step.run || step.run === 'npm ci') continue;
        const before = readFileSync(outputs, 'utf8');
        const stepEnv = Object.fromEntries(Object.entries({ ...workflow.env, ...step.env }).map(([k, v]) => [k, fill(String(v))]));
        printed.push(
          execFileSync('bash', ['-e', '-c', fill(step.run)], {
            cwd: workspace,
            encoding: 'utf8',
            env: cleanEnv({ ...stepEnv, HOME: runnerHome, PATH: `${bin}:${process.env.PATH}`, CI: 'true', GITHUB_ACTIONS: 'true', GITHUB_OUTPUT: outputs, GITHUB_STEP_SUMMARY: summary }),
          }),
        );
        if (step.id) stepOutputs[step.id] = Object.fromEntries(readFileSync(outputs, 'utf8').slice(before.length).trim().split('\n').map((l) => l.split('=') as [string, string]));
      }
      return { printed, summary: readFileSync(summary, 'utf8') };
    };

    const staging = runJob('staging');
    const deployed = JSON.parse(readFileSync(join(workspace, 'deploy.json'), 'utf8'));
    expect(deployed).toMatchObject({ ok: true, record: { app: 'web', env: 'staging', version: sha, status: 'succeeded' } });
    expect(staging.printed).toContain(`deployed ${sha} (succeeded, record ${deployed.record.id})\n`);
    expect(staging.summary).toContain('### ✅ deploy web to staging: succeeded');

    const prod = runJob('prod');
    expect(JSON.parse(readFileSync(join(workspace, 'promote.json'), 'utf8'))).toMatchObject({ ok: true, record: { action: 'promote', env: 'prod', version: sha, from: { env: 'staging', recordId: deployed.record.id } } });
    expect(prod.printed).toContain(`prod runs ${sha} (succeeded)\n`);
  });
});
