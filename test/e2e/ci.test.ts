// deployctl as a CI step: the built CLI under GitHub Actions, with a Slack webhook played by a local
// server, and a secret that must appear nowhere.
import { createServer, type Server } from 'node:http';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, runCli, tempDir } from '../support/cli.js';

const SECRET = 'sk-live-5f0c2e9a';

describe('under GitHub Actions, with Slack and a secret', () => {
  const dir = tempDir('deployctl-ci-');
  const home = tempDir('deployctl-home-');
  const summary = join(tempDir(), 'summary.md');
  const outputs = join(tempDir(), 'outputs.txt');
  const payloads: string[] = [];
  let statuses: Array<number | 'hang'> = [];
  let server: Server;
  let env: NodeJS.ProcessEnv;
  const runs: string[] = [];
  const cli = async (...args: string[]) => {
    const run = await runCli(args, { env });
    runs.push(run.stdout, run.stderr);
    return run;
  };

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        payloads.push(body);
        const status = statuses.shift() ?? 200;
        if (status !== 'hang') res.writeHead(status).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    writeFileSync(join(dir, 'environments.yaml'), 'environments:\n  staging: {}\n  prod: { protected: true }\n');
    writeFileSync(
      join(dir, 'deployments.yaml'),
      [
        'secrets: [API_TOKEN]',
        'notifications:',
        `  slack: { webhook_url: "http://127.0.0.1:${port}/slack", channel: "#deploys" }`,
        'deployments:',
        '  web:',
        '    type: shell',
        '    variables: { MODE: ok }',
        '    commands:',
        '      - "echo using token $API_TOKEN; test \\"$MODE\\" = ok"',
        '',
      ].join('\n'),
    );
    env = cleanEnv({
      DEPLOYCTL_HOME: home,
      DEPLOYCTL_CONFIG_DIR: dir,
      API_TOKEN: SECRET,
      CI: 'true',
      GITHUB_ACTIONS: 'true',
      GITHUB_STEP_SUMMARY: summary,
      GITHUB_OUTPUT: outputs,
      GITHUB_SERVER_URL: 'https://github.example',
      GITHUB_REPOSITORY: 'acme/web',
      GITHUB_RUN_ID: '42',
      GITHUB_SHA: 'abc123',
      GITHUB_ACTOR: 'ana',
    });
  });

  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  it('writes the step summary and outputs, records the CI run, and tells Slack', async () => {
    const run = await cli('deploy', 'web', '-e', 'staging', '--version', '1.0.0', '--json');
    expect(run.code).toBe(0);
    const doc = JSON.parse(run.stdout);
    expect(doc).toMatchObject({ schemaVersion: 1, ok: true, exitCode: 0, record: { app: 'web', env: 'staging', version: '1.0.0', status: 'succeeded', user: 'ana' } });
    expect(readFileSync(summary, 'utf8')).toContain('### ✅ deploy web to staging: succeeded');
    expect(readFileSync(outputs, 'utf8')).toBe(`version=1.0.0\nstatus=succeeded\nrecord_id=${doc.record.id}\n`);
    const record = JSON.parse(readFileSync(join(home, 'history', `${doc.record.id}.json`), 'utf8'));
    expect(record.ci).toEqual({ provider: 'github-actions', runUrl: 'https://github.example/acme/web/actions/runs/42', commit: 'abc123', actor: 'ana' });
    const slack = JSON.parse(payloads.at(-1)!);
    expect(slack).toMatchObject({ channel: '#deploys', text: ':white_check_mark: deploy web to staging: succeeded' });
  });

  it('keeps the exit code of a failed deploy when Slack fails too, and annotates the failure', async () => {
    statuses = [500, 500, 500];
    const run = await cli('deploy', 'web', '-e', 'staging', '--version', '1.1.0', '--set', 'variables.MODE=broken', '--no-rollback');
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/warn: slack notification failed after 3 attempts: status 500 \(the deployment result is unchanged\)/);
    expect(run.stderr).toContain('::error title=deploy web 1.1.0 to staging failed::command 1/1');
    expect(readFileSync(summary, 'utf8')).toContain('### ❌ deploy web to staging: failed');
  });

  it('never prompts in CI: a protected environment needs --yes (exit 6), JSON error on stdout', async () => {
    const run = await cli('deploy', 'web', '-e', 'prod', '--version', '1.0.0', '--json');
    expect(run.code).toBe(6);
    expect(JSON.parse(run.stdout)).toEqual({
      schemaVersion: 1,
      error: { code: 'approval_needed', exitCode: 6, message: 'prod is protected: deploy web 1.0.0 to prod needs approval', hint: expect.stringContaining('--yes') },
    });
    expect(run.stderr).toContain('::error::prod is protected');
  });

  it('shows the secret nowhere: output, records, audit log, notifications, summary', async () => {
    await cli('config', 'web', '-e', 'staging');
    await cli('history', '--json');
    await cli('audit', '--json');
    const everything = [
      ...runs,
      ...payloads,
      readFileSync(summary, 'utf8'),
      readFileSync(outputs, 'utf8'),
      readFileSync(join(home, 'audit.log'), 'utf8'),
      ...readdirSync(join(home, 'history')).map((f) => readFileSync(join(home, 'history', f), 'utf8')),
    ].join('\n');
    expect(everything).toContain('using token ***');
    expect(everything).not.toContain(SECRET);
  });

  it('keeps an audit line per action', async () => {
    const run = await cli('audit', '--json');
    expect(JSON.parse(run.stdout).entries.map((e: { action: string; result: string; version: string }) => [e.action, e.version, e.result])).toEqual([
      ['deploy', '1.1.0', 'failed'],
      ['deploy', '1.0.0', 'succeeded'],
    ]);
  });
});
