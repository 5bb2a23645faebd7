// deployctl as a CI step: the built CLI under GitHub Actions, with Slack's webhook endpoint played by a
// local server (answering 500 then 200, or never), per-environment and per-app notification settings,
// the audit log, and a secret that must appear nowhere.
import { createServer, type Server } from 'node:http';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, runCli, tempDir } from '../support/cli.js';

const SECRET = 'sk-live-5f0c2e9a';

interface Delivery {
  path: string;
  body: string;
}

describe('under GitHub Actions, with Slack, a webhook and a secret', () => {
  const dir = tempDir('deployctl-ci-');
  const home = tempDir('deployctl-home-');
  const summary = join(tempDir(), 'summary.md');
  const outputs = join(tempDir(), 'outputs.txt');
  const deliveries: Delivery[] = [];
  let statuses: Array<number | 'hang'> = [];
  let server: Server;
  let env: NodeJS.ProcessEnv;
  const runs: string[] = [];
  const cli = async (...args: string[]) => {
    const run = await runCli(args, { env });
    runs.push(run.stdout, run.stderr);
    return run;
  };
  const slack = () => deliveries.filter((d) => d.path === '/slack').map((d) => JSON.parse(d.body));
  const hook = () => deliveries.filter((d) => d.path === '/hook').map((d) => JSON.parse(d.body));

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        deliveries.push({ path: req.url!, body });
        const status = req.url === '/slack' ? (statuses.shift() ?? 200) : 200;
        if (status !== 'hang') res.writeHead(status).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    // prod overrides the top-level settings: Slack only hears about its failures there.
    writeFileSync(join(dir, 'environments.yaml'), 'environments:\n  staging: {}\n  prod:\n    protected: true\n    notifications: { slack: { on: [failure] } }\n');
    writeFileSync(
      join(dir, 'deployments.yaml'),
      [
        'secrets: [API_TOKEN]',
        'notifications:',
        '  timeout: 2s',
        `  slack: { webhook_url: "http://127.0.0.1:${port}/slack", channel: "#deploys" }`,
        'deployments:',
        '  web:',
        '    type: shell',
        '    variables: { MODE: ok }',
        '    notifications:',
        `      webhooks: [{ url: "http://127.0.0.1:${port}/hook", headers: { Authorization: "Bearer \${API_TOKEN}" }, on: [rollback] }]`,
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
    expect(run.code, run.stderr).toBe(0);
    const doc = JSON.parse(run.stdout);
    expect(doc).toMatchObject({ schemaVersion: 1, ok: true, exitCode: 0, record: { app: 'web', env: 'staging', version: '1.0.0', status: 'succeeded', user: 'ana' } });
    const text = readFileSync(summary, 'utf8');
    expect(text).toContain('### ✅ deploy web to staging: succeeded');
    expect(text).toContain('| version | 1.0.0 |');
    expect(text).toMatch(/\| duration \| \S+ \|/);
    expect(readFileSync(outputs, 'utf8')).toBe(`version=1.0.0\nstatus=succeeded\nrecord_id=${doc.record.id}\n`);
    const record = JSON.parse(readFileSync(join(home, 'history', `${doc.record.id}.json`), 'utf8'));
    expect(record.ci).toEqual({ provider: 'github-actions', runUrl: 'https://github.example/acme/web/actions/runs/42', commit: 'abc123', actor: 'ana' });
    expect(slack()).toHaveLength(1);
    const message = slack()[0];
    expect(message).toMatchObject({ channel: '#deploys', text: ':white_check_mark: deploy web to staging: succeeded' });
    expect(message.blocks[1].fields.map((f: { text: string }) => f.text)).toEqual([
      '*App*\nweb',
      '*Environment*\nstaging',
      '*Version*\n1.0.0',
      '*Result*\nsucceeded',
      expect.stringMatching(/^\*Duration\*\n\S+$/),
      expect.stringMatching(/^\*By\*\nana@/),
    ]);
    expect(JSON.stringify(message)).toContain('<https://github.example/acme/web/actions/runs/42|CI run>');
    expect(run.stderr).toContain('✓ notify done: slack sent');
    // The webhook only wants rollbacks.
    expect(hook()).toHaveLength(0);
  });

  it('a failed deploy keeps its exit code when Slack fails too: the failing step in the message, a warning, annotations', async () => {
    statuses = [500, 500, 500];
    const before = deliveries.length;
    const run = await cli('deploy', 'web', '-e', 'staging', '--version', '1.1.0', '--set', 'variables.MODE=broken');
    expect(run.code).toBe(3);
    expect(run.stdout).toContain('rolled back automatically to 1.0.0');
    expect(run.stderr).toMatch(/warning: slack notification failed after 3 attempts: status 500 \(the deployment result is unchanged\)/);
    expect(run.stderr).toContain('::warning::slack notification failed after 3 attempts');
    expect(run.stderr).toContain('::error title=deploy web 1.1.0 to staging rolled_back::command 1/1');
    const text = readFileSync(summary, 'utf8');
    expect(text).toContain('### ↩️ deploy web to staging: rolled_back');
    expect(text).toContain('| version | 1.0.0 → 1.1.0 |');
    expect(text).toContain('Failing step: command 1/1');
    // Three tries of the failed deploy's message, then the rollback's (Slack answers 200 again).
    const tries = deliveries.slice(before).filter((d) => d.path === '/slack');
    expect(tries).toHaveLength(4);
    expect(tries[1]!.body).toBe(tries[0]!.body);
    expect(tries[2]!.body).toBe(tries[0]!.body);
    const failedMessage = JSON.parse(tries[0]!.body);
    expect(failedMessage.text).toBe(':leftwards_arrow_with_hook: deploy web to staging: rolled_back');
    expect(JSON.parse(tries[3]!.body).text).toBe(':white_check_mark: rollback web to staging: succeeded');
    expect(JSON.stringify(failedMessage)).toContain('*Version*\\n1.0.0 → 1.1.0');
    expect(JSON.stringify(failedMessage)).toContain('using token ***');
    expect(hook().map((h) => [h.event, h.version, h.status])).toEqual([
      ['deploy', '1.1.0', 'rolled_back'],
      ['rollback', '1.0.0', 'succeeded'],
    ]);
  });

  it('retries a 500 and delivers on the second try', async () => {
    statuses = [500, 200];
    const before = slack().length;
    const run = await cli('deploy', 'web', '-e', 'staging', '--version', '1.2.0');
    expect(run.code).toBe(0);
    expect(slack().slice(before)).toHaveLength(2);
    expect(slack()[before]).toEqual(slack()[before + 1]);
    expect(JSON.stringify(slack()[before])).toContain('*Version*\\n1.0.0 → 1.2.0');
    expect(run.stderr).not.toContain('notification failed');
  });

  it('gives up on a Slack that never answers within notifications.timeout, and the deploy still succeeds', async () => {
    statuses = ['hang'];
    const run = await cli('deploy', 'web', '-e', 'staging', '--version', '1.3.0', '--json');
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ ok: true, record: { version: '1.3.0', status: 'succeeded' } });
    expect(run.stderr).toMatch(/warning: slack notification failed after 1 attempt: .* \(the deployment result is unchanged\)/);
    expect(run.stderr).toContain('::warning::slack notification failed');
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

  it('prod tells Slack only about failures: a promotion there sends nothing', async () => {
    const before = slack().length;
    const run = await cli('promote', 'web', '--to', 'prod', '--yes');
    expect(run.code).toBe(0);
    expect(slack()).toHaveLength(before);
  });

  it('keeps an audit line per deploy, rollback, promotion, unlock and prune; audit --limit', async () => {
    expect((await cli('rollback', 'web', '-e', 'staging')).code).toBe(0);
    writeFileSync(join(home, 'locks', 'web_staging.lock'), JSON.stringify({ app: 'web', env: 'staging', pid: 999999, host: 'elsewhere', user: 'bo', command: 'deployctl deploy web -e staging', startedAt: new Date().toISOString(), refreshedAt: new Date().toISOString(), token: 't' }));
    expect((await cli('unlock', 'web', '-e', 'staging', '--force')).code).toBe(0);
    expect((await cli('history', 'prune', '--keep', '3')).code).toBe(0);
    const lines = readFileSync(join(home, 'audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((e) => [e.action, e.app, e.env, e.version, e.result])).toEqual([
      ['deploy', 'web', 'staging', '1.0.0', 'succeeded'],
      ['deploy', 'web', 'staging', '1.1.0', 'rolled_back'],
      ['rollback', 'web', 'staging', '1.0.0', 'succeeded'],
      ['deploy', 'web', 'staging', '1.2.0', 'succeeded'],
      ['deploy', 'web', 'staging', '1.3.0', 'succeeded'],
      ['promote', 'web', 'prod', '1.3.0', 'succeeded'],
      ['rollback', 'web', 'staging', '1.2.0', 'succeeded'],
      ['unlock', 'web', 'staging', undefined, 'removed'],
      ['prune', undefined, undefined, undefined, expect.stringMatching(/^deleted \d+$/)],
    ]);
    expect(lines.every((e) => e.user === 'ana' && typeof e.at === 'string' && typeof e.host === 'string')).toBe(true);
    const limited = JSON.parse((await cli('audit', '--limit', '2', '--json')).stdout).entries;
    expect(limited.map((e: { action: string }) => e.action)).toEqual(['prune', 'unlock']);
    expect((await cli('audit', '--limit', '3')).stdout).toMatch(/^WHEN\s+ACTION\s+APP\s+ENV\s+VERSION\s+RESULT\s+WHO\n\S+\s+prune\s/);
  });

  it('shows the secret nowhere: output, records, audit log, notifications, summary, outputs', async () => {
    await cli('config', 'web', '-e', 'staging');
    await cli('history', '--json');
    await cli('audit', '--json');
    const everything = [
      ...runs,
      ...deliveries.map((d) => d.body),
      readFileSync(summary, 'utf8'),
      readFileSync(outputs, 'utf8'),
      readFileSync(join(home, 'audit.log'), 'utf8'),
      ...readdirSync(join(home, 'history')).map((f) => readFileSync(join(home, 'history', f), 'utf8')),
    ].join('\n');
    expect(everything).toContain('using token ***');
    expect(everything).not.toContain(SECRET);
  });
});
