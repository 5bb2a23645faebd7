import { createServer, type Server } from 'node:http';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sendNotifications, slackMessage, withoutPassword } from '../../src/notify/notify.js';
import { githubAnnotations, githubOutputs, githubSummary } from '../../src/notify/github.js';
import { appendAudit, readAudit } from '../../src/state/audit.js';
import { detectCi } from '../../src/notify/ci.js';
import type { DeployRecord } from '../../src/state/types.js';
import { repoRoot, tempDir } from '../support/cli.js';

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    s.close();
  }
});

/** A stand-in for Slack's webhook endpoint on 127.0.0.1, answering with `statuses` in turn ('hang' never answers). */
async function webhook(statuses: Array<number | 'hang'>) {
  const bodies: unknown[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      bodies.push(JSON.parse(body));
      const status = statuses[Math.min(bodies.length - 1, statuses.length - 1)]!;
      if (status === 'hang') return;
      res.writeHead(status).end(status === 200 ? 'ok' : 'error');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`, bodies };
}

const record = (extra: Partial<DeployRecord> = {}): DeployRecord => ({
  schemaVersion: 1,
  id: 'web_prod_20261124T100000000Z_abcdef',
  app: 'web',
  env: 'prod',
  version: '1.4.2',
  action: 'deploy',
  status: 'failed',
  startedAt: '2026-11-24T10:00:00.000Z',
  finishedAt: '2026-11-24T10:00:42.000Z',
  durationMs: 42_000,
  user: 'ana',
  host: 'ci-7',
  pid: 1,
  command: 'deployctl deploy web -e prod',
  ci: { provider: 'github-actions', runUrl: 'https://github.example/acme/web/actions/runs/42' },
  config: {},
  artifacts: {},
  steps: [{ label: 'command 1/1: npm run migrate', phase: 'deploy', command: ['npm', 'run', 'migrate'], cwd: '/srv', exitCode: 1, durationMs: 900, output: 'connecting with token tok-SECRET-1\nerror: relation "users" does not exist\n' }],
  error: { code: 'deploy_failed', message: 'command 1/1: npm run migrate: exit code 1' },
  ...extra,
});

describe('notifications', () => {
  it('sends a Slack message with blocks: app, env, old → new version, result, duration, who, CI link, failing step', async () => {
    const hook = await webhook([200]);
    const results = await sendNotifications(record(), { slack: { webhook_url: hook.url, channel: '#deploys' } }, { secretValues: ['tok-SECRET-1'], warn: () => {}, previousVersion: '1.4.1' });
    expect(results).toEqual([{ target: 'slack', ok: true, attempts: 1 }]);
    const body = hook.bodies[0] as { channel: string; text: string; blocks: Array<{ type: string; fields?: Array<{ text: string }>; text?: { text: string }; elements?: Array<{ text: string }> }> };
    expect(body.channel).toBe('#deploys');
    expect(body.text).toBe(':x: deploy web to prod: failed');
    expect(body.blocks[1]!.fields!.map((f) => f.text)).toEqual(['*App*\nweb', '*Environment*\nprod', '*Version*\n1.4.1 → 1.4.2', '*Result*\nfailed', '*Duration*\n42s', '*By*\nana@ci-7']);
    expect(JSON.stringify(body)).toContain('<https://github.example/acme/web/actions/runs/42|CI run>');
    expect(JSON.stringify(body)).toContain('relation \\"users\\" does not exist');
    expect(JSON.stringify(body)).not.toContain('tok-SECRET-1');
  });

  it('retries a 500 and succeeds on the second request', async () => {
    const hook = await webhook([500, 200]);
    const results = await sendNotifications(record({ status: 'succeeded', error: undefined }), { webhooks: [{ url: hook.url, headers: { 'x-token': 'abc' } }] }, { secretValues: [], warn: () => {} });
    expect(results[0]).toMatchObject({ ok: true, attempts: 2 });
    expect(hook.bodies).toHaveLength(2);
    expect(hook.bodies[0]).toMatchObject({ schemaVersion: 1, event: 'deploy', app: 'web', status: 'succeeded' });
  });

  it('names a webhook without the password of its URL (user:password@host), in its result and its warning', async () => {
    const warnings: string[] = [];
    const url = 'http://hooker:hookpw99@127.0.0.1:1/hook';
    const results = await sendNotifications(record(), { webhooks: [{ url }] }, { secretValues: [], warn: (w) => warnings.push(w), timeoutMs: 1500, attemptTimeoutMs: 400 });
    expect(results[0]).toMatchObject({ target: 'webhook http://hooker:***@127.0.0.1:1/hook', ok: false });
    expect(JSON.stringify([results, warnings])).not.toContain('hookpw99');
    expect(withoutPassword('https://hooks.example/deploys')).toBe('https://hooks.example/deploys');
  });

  it('gives up on a server that never answers within the time limit, with a warning and no throw', async () => {
    const hook = await webhook(['hang']);
    const warnings: string[] = [];
    const started = Date.now();
    const results = await sendNotifications(record(), { slack: { webhook_url: hook.url } }, { secretValues: [], warn: (w) => warnings.push(w), timeoutMs: 1500, attemptTimeoutMs: 400 });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(results[0]).toMatchObject({ target: 'slack', ok: false });
    expect(warnings[0]).toMatch(/^slack notification failed after \d attempts?: .*\(the deployment result is unchanged\)$/);
  });

  it('sends only what `on:` asks for', async () => {
    const hook = await webhook([200]);
    await sendNotifications(record({ status: 'succeeded', error: undefined }), { slack: { webhook_url: hook.url, on: ['failure'] } }, { secretValues: [], warn: () => {} });
    await sendNotifications(record({ action: 'rollback', status: 'succeeded', error: undefined }), { slack: { webhook_url: hook.url, on: ['rollback'] } }, { secretValues: [], warn: () => {} });
    expect(hook.bodies).toHaveLength(1);
    expect(slackMessage(record({ action: 'promote', status: 'succeeded' })).text).toContain('promote web to prod: succeeded');
  });
});

describe('GitHub Actions', () => {
  it('writes a summary, step outputs and escaped annotations', () => {
    const r = record({ notes: ['rolled back to 1.4.1 (web_prod_2)'], status: 'rolled_back' });
    const summary = githubSummary([r], '1.4.1');
    expect(summary).toContain('### ↩️ deploy web to prod: rolled_back');
    expect(summary).toContain('| version | 1.4.1 → 1.4.2 |');
    expect(summary).toContain('Failing step: command 1/1: npm run migrate');
    expect(githubOutputs(r)).toBe('version=1.4.2\nstatus=rolled_back\nrecord_id=web_prod_20261124T100000000Z_abcdef\n');
    expect(githubOutputs(record({ version: 'a\nb' }))).toMatch(/^version<<ghadelimiter_[a-f0-9]{16}\na\nb\nghadelimiter_[a-f0-9]{16}\n/);
    expect(githubAnnotations([record({ error: { code: 'x', message: '50% done\nthen: failed' } })])).toEqual([
      '::error title=deploy web 1.4.2 to prod failed::50%25 done%0Athen: failed',
    ]);
  });

  it('detects the CI provider and the run', () => {
    expect(detectCi({ GITHUB_ACTIONS: 'true', GITHUB_SERVER_URL: 'https://github.com', GITHUB_REPOSITORY: 'acme/web', GITHUB_RUN_ID: '7', GITHUB_SHA: 'abc', GITHUB_ACTOR: 'ana' })).toEqual({
      provider: 'github-actions',
      runUrl: 'https://github.com/acme/web/actions/runs/7',
      commit: 'abc',
      actor: 'ana',
      ref: undefined,
    });
    expect(detectCi({ GITLAB_CI: 'true', CI_JOB_URL: 'u', CI_COMMIT_SHA: 's' })).toMatchObject({ provider: 'gitlab', runUrl: 'u', commit: 's' });
    expect(detectCi({ CI: 'true' })).toEqual({ provider: 'ci' });
    expect(detectCi({})).toBeUndefined();
  });
});

describe('audit log', () => {
  it('keeps every line from 20 concurrent writers, and reads newest first from the end', async () => {
    const home = tempDir();
    const script = `import('${join(repoRoot, 'dist/state/audit.js')}').then(async ({ appendAudit }) => { for (let i = 0; i < 50; i++) await appendAudit(process.argv[1], { at: new Date().toISOString(), action: 'deploy', app: 'w' + process.argv[2], version: String(i), result: 'succeeded', user: 'u', host: 'h' }); })`;
    await Promise.all(
      Array.from({ length: 20 }, (_, n) => new Promise((resolve) => spawn(process.execPath, ['-e', script, home, String(n)], { stdio: 'ignore' }).on('close', resolve))),
    );
    const lines = readFileSync(join(home, 'audit.log'), 'utf8').trim().split('\n');
    expect(lines).toHaveLength(1000);
    expect(lines.every((l) => JSON.parse(l).action === 'deploy')).toBe(true);
    await appendAudit(home, { at: 'now', action: 'unlock', app: 'last', result: 'removed', user: 'u', host: 'h' });
    const newest = await readAudit(home, { limit: 3 });
    expect(newest).toHaveLength(3);
    expect(newest[0]).toMatchObject({ action: 'unlock', app: 'last' });
  });
});
