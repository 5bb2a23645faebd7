// deployctl serve, end to end: the real server on 127.0.0.1, a fake Slack recording what it is sent,
// real deployctl processes deploying a shell app into a temp state folder.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, cliPath, runCli, tempDir } from '../support/cli.js';
import { signedHeaders, startFakeSlack, type FakeSlack } from '../support/fake-slack.js';

const SECRET = 'test-signing-secret';

interface Served {
  url: string;
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<number | null>;
}

function writeConfig(dir: string, timeout = '1h'): void {
  writeFileSync(
    join(dir, 'environments.yaml'),
    'environments:\n  dev: {}\n  prod:\n    protected: true\n',
  );
  writeFileSync(
    join(dir, 'deployments.yaml'),
    `chatops:
  channel: C0DEPLOY
  allow: { "*": [U1, U2], prod: [U1] }
  approvers: { prod: [U1, U3, U4] }
  approval_timeout: ${timeout}
deployments:
  web:
    type: shell
    secrets: [API_TOKEN]
    commands:
      - [sh, -c, 'echo "$DEPLOY_ENV $DEPLOY_VERSION" >> "$MARKER"; while [ -n "$HOLD" ] && [ ! -f "$HOLD" ]; do sleep 0.05; done']
`,
  );
}

function startServe(configDir: string, home: string, env: NodeJS.ProcessEnv, args: string[] = []): Promise<Served> {
  const child = spawn(process.execPath, [cliPath, 'serve', '--port', '0', '--config-dir', configDir, '--home', home, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      const port = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(stderr)?.[1];
      if (port) resolve({ url: `http://127.0.0.1:${port}`, child, stderr: () => stderr, exited });
    });
    void exited.then((code) => reject(new Error(`serve exited ${code} before listening:\n${stderr}`)));
  });
}

async function slash(served: Served, fields: Record<string, string>, headers?: Record<string, string>) {
  const body = new URLSearchParams(fields).toString();
  const response = await fetch(`${served.url}/slack/commands`, { method: 'POST', body, headers: headers ?? signedHeaders(SECRET, body) });
  const text = await response.text();
  return { status: response.status, json: text ? JSON.parse(text) : undefined };
}

async function click(served: Served, user: string, action: 'approve' | 'reject', approvalId: string, responseUrl: string) {
  const payload = JSON.stringify({ type: 'block_actions', user: { id: user, username: user.toLowerCase() }, actions: [{ action_id: action, value: approvalId }], response_url: responseUrl });
  const body = new URLSearchParams({ payload }).toString();
  const response = await fetch(`${served.url}/slack/interactions`, { method: 'POST', body, headers: signedHeaders(SECRET, body) });
  return response.status;
}

/** Waits for a condition the test cannot be told about (a file a deployment writes), checking every 20 ms. */
async function until(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const lines = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n').filter(Boolean) : []);

describe('deployctl serve', () => {
  let slack: FakeSlack;
  let served: Served;
  let dir: string;
  let home: string;
  let marker: string;
  let env: NodeJS.ProcessEnv;
  let n = 0;
  const cmd = (user: string, text: string) => ({ user_id: user, user_name: user.toLowerCase(), text, channel_id: 'C0ASKED', response_url: slack.responseUrl(`r${++n}`), command: '/deploy' });

  beforeAll(async () => {
    slack = await startFakeSlack();
    dir = tempDir();
    home = join(tempDir(), 'state');
    marker = join(dir, 'ran.txt');
    writeConfig(dir);
    env = cleanEnv({ SLACK_SIGNING_SECRET: SECRET, SLACK_BOT_TOKEN: 'xoxb-test', DEPLOYCTL_SLACK_API_URL: `${slack.url}/api/`, MARKER: marker, API_TOKEN: 'tok-s3cr3t-value', DEPLOYCTL_API_TOKEN: 'api-bearer' });
    served = await startServe(dir, home, env);
  });
  afterAll(async () => {
    served?.child.kill('SIGTERM');
    await served?.exited;
    await slack?.close();
  });

  it('refuses unsigned, forged, replayed, oversized and malformed requests, and runs nothing for them', async () => {
    const fields = cmd('U1', 'deploy web dev 9.9.9');
    const body = new URLSearchParams(fields).toString();
    const post = (b: string, headers: Record<string, string>) => fetch(`${served.url}/slack/commands`, { method: 'POST', body: b, headers }).then((r) => r.status);
    expect(await post(body, { 'content-type': 'application/x-www-form-urlencoded' })).toBe(401);
    expect(await post(body, { ...signedHeaders('another-secret', body) })).toBe(401);
    expect(await post(body, signedHeaders(SECRET, body, Math.floor(Date.now() / 1000) - 600))).toBe(401);
    const tampered = body.replace('dev', 'prod');
    expect(await post(tampered, signedHeaders(SECRET, body))).toBe(401);
    const big = `text=${'x'.repeat(70 * 1024)}`;
    expect(await post(big, signedHeaders(SECRET, big))).toBe(413);
    const noUser = 'text=list';
    expect(await post(noUser, signedHeaders(SECRET, noUser))).toBe(400);
    const badPayload = 'payload=%7Bnot-json';
    expect(await fetch(`${served.url}/slack/interactions`, { method: 'POST', body: badPayload, headers: signedHeaders(SECRET, badPayload) }).then((r) => r.status)).toBe(400);
    expect(lines(marker)).toEqual([]);
    expect(slack.calls.filter((c) => c.method.startsWith('chat.'))).toEqual([]);
  });

  it('answers help and bad commands at once, ephemerally, and takes no option from Slack', async () => {
    expect((await slash(served, cmd('U1', 'help'))).json.text).toContain('`deploy <app> <env> <version>`');
    const flag = await slash(served, cmd('U1', 'deploy web dev 1.0.0 --set commands=x'));
    expect(flag.json).toMatchObject({ response_type: 'ephemeral' });
    expect(flag.json.text).toContain('options are not taken from Slack (--set');
    expect((await slash(served, cmd('U1', 'deploy web dev 1.0;rm'))).json.text).toContain('is not a version');
    expect((await slash(served, cmd('U1', 'deploy ../x dev 1.0.0'))).json.text).toContain('invalid app name');
    expect(lines(marker)).toEqual([]);
  });

  it('deploys to dev for an allowed user: acknowledges, posts in the channel, updates it with the outcome and record', async () => {
    const asked = cmd('U2', 'deploy web dev 1.0.0');
    const started = performance.now();
    const ack = await slash(served, asked);
    expect(performance.now() - started).toBeLessThan(3000);
    expect(ack.json.text).toContain('started');
    const done = await slack.waitFor((c) => c.method === 'chat.update' && /✅ deploy web 1\.0\.0 to dev: succeeded/.test(c.body.text));
    expect(done.body.channel).toBe('C0DEPLOY');
    expect(done.body.text).toMatch(/asked by <@U2>.*record web_dev_/);
    expect(lines(marker)).toEqual(['dev 1.0.0']);
    const status = await runCli(['status', '--json', '--config-dir', dir, '--home', home], { env });
    const target = JSON.parse(status.stdout).targets.find((t: any) => t.env === 'dev');
    expect(target).toMatchObject({ app: 'web', version: '1.0.0', by: 'u2 (slack U2)' });
    const audit = JSON.parse((await runCli(['audit', '--json', '--home', home], { env })).stdout).entries;
    expect(audit.find((e: any) => e.action === 'chatops')).toMatchObject({ user: 'u2', result: 'succeeded', details: { slackUserId: 'U2' } });
  });

  it('answers reads through response_url, with the same text as the CLI', async () => {
    const asked = cmd('U9', 'status web');
    await slash(served, asked);
    const answer = await slack.waitFor((c) => c.method === `response/r${n}`);
    expect(answer.body.text).toContain('web');
    expect(answer.body.text).toContain('1.0.0');
  });

  it('refuses a user not allowed in an environment, naming where they may act', async () => {
    const refused = await slash(served, cmd('U2', 'deploy web prod 1.0.0'));
    expect(refused.json.response_type).toBe('ephemeral');
    expect(refused.json.text).toContain('you may not deploy in prod');
    expect(refused.json.text).toContain('You may deploy, promote and roll back in: dev');
  });

  it('asks for approval in prod: the requester cannot approve, a stranger cannot, an approver can, and then it deploys', async () => {
    const asked = cmd('U1', 'deploy web prod 1.0.0');
    const ack = await slash(served, asked);
    expect(ack.json.text).toContain('approval requested from <@U3>, <@U4>');
    const request = await slack.waitFor((c) => c.method === 'chat.postMessage' && /approval needed: deploy web 1\.0\.0 to prod/.test(c.body.text));
    const id = request.body.blocks[1].elements[0].value as string;
    expect(lines(marker)).not.toContain('prod 1.0.0');

    expect(await click(served, 'U1', 'approve', id, slack.responseUrl('self'))).toBe(200);
    expect((await slack.waitFor((c) => c.method === 'response/self')).body.text).toContain('four eyes');
    expect(await click(served, 'U7', 'approve', id, slack.responseUrl('stranger'))).toBe(200);
    expect((await slack.waitFor((c) => c.method === 'response/stranger')).body.text).toContain('only <@U3>, <@U4> may decide on prod');

    expect(await click(served, 'U3', 'approve', id, slack.responseUrl('ok'))).toBe(200);
    await slack.waitFor((c) => c.method === 'chat.update' && c.body.ts === request.ts && /deploy web 1\.0\.0 to prod.*: approved by <@U3>/.test(c.body.text));
    await slack.waitFor((c) => c.method === 'chat.update' && /✅ deploy web 1\.0\.0 to prod: succeeded/.test(c.body.text) && /approved by <@U3>/.test(c.body.text));
    expect(lines(marker)).toContain('prod 1.0.0');
    // A second click after the decision changes nothing.
    expect(await click(served, 'U4', 'reject', id, slack.responseUrl('late'))).toBe(200);
    expect((await slack.waitFor((c) => c.method === 'response/late')).body.text).toContain('already approved by u3');
    const audit = JSON.parse((await runCli(['audit', '--json', '--home', home], { env })).stdout).entries.filter((e: any) => e.action === 'approval');
    expect(audit.map((e: any) => e.result)).toEqual(expect.arrayContaining(['requested', 'refused self-approval', 'approved']));
  });

  it('a rejected request runs nothing', async () => {
    await slash(served, cmd('U1', 'deploy web prod 2.0.0'));
    const request = await slack.waitFor((c) => c.method === 'chat.postMessage' && /deploy web 2\.0\.0 to prod/.test(c.body.text));
    await click(served, 'U4', 'reject', request.body.blocks[1].elements[0].value, slack.responseUrl('rej'));
    await slack.waitFor((c) => c.method === 'chat.update' && /rejected by <@U4>/.test(c.body.text));
    expect(lines(marker)).not.toContain('prod 2.0.0');
  });

  it('two deployments of one target at once: the second is refused with the lock holder named', async () => {
    const hold = join(dir, 'release-1');
    served.child.kill('SIGTERM');
    await served.exited;
    served = await startServe(dir, home, { ...env, HOLD: hold });
    await slash(served, cmd('U1', 'deploy web dev 3.0.0'));
    await until(() => lines(marker).includes('dev 3.0.0'));
    await slash(served, cmd('U2', 'deploy web dev 3.0.1'));
    const refused = await slack.waitFor((c) => c.method === 'chat.update' && /❌ deploy web 3\.0\.1 to dev/.test(c.body.text));
    expect(refused.body.text).toContain('refused (locked)');
    expect(refused.body.text).toMatch(/Lock held by u1 \(slack U1\)@.* deploy web -e dev --version 3\.0\.0/);
    writeFileSync(hold, '');
    await slack.waitFor((c) => c.method === 'chat.update' && /✅ deploy web 3\.0\.0 to dev: succeeded/.test(c.body.text));
  });

  it('serves the read-only API with a bearer token, the same JSON as the CLI', async () => {
    expect((await fetch(`${served.url}/api/v1/status`)).status).toBe(401);
    const auth = { authorization: 'Bearer api-bearer' };
    const status = await (await fetch(`${served.url}/api/v1/status`, { headers: auth })).json();
    const cli = JSON.parse((await runCli(['status', '--json', '--config-dir', dir, '--home', home], { env })).stdout);
    expect(status).toEqual(cli);
    const history = (await (await fetch(`${served.url}/api/v1/history?app=web&env=dev&limit=2`, { headers: auth })).json()) as { records: unknown[] };
    expect(history.records).toHaveLength(2);
    expect((await fetch(`${served.url}/api/v1/history?limit=abc`, { headers: auth })).status).toBe(400);
    expect((await fetch(`${served.url}/api/v1/history?app=../x`, { headers: auth })).status).toBe(400);
    expect((await fetch(`${served.url}/api/v1/status`, { method: 'POST', headers: auth })).status).toBe(405);
    expect(await (await fetch(`${served.url}/healthz`)).json()).toMatchObject({ ok: true });
    const metrics = await (await fetch(`${served.url}/metrics`)).text();
    expect(metrics).toMatch(/deployctl_runs_total\{app="web",env="dev",action="deploy",result="succeeded"\} \d/);
    expect(metrics).toContain('deployctl_approvals_pending 0');
    // No secret in any answer or Slack message.
    const everything = JSON.stringify(slack.calls) + JSON.stringify(status) + JSON.stringify(history) + metrics;
    expect(everything).not.toContain('tok-s3cr3t-value');
    expect(everything).not.toContain('api-bearer');
  });

  it('on SIGTERM, stops taking work, interrupts a deployment still running after the grace period (recorded), and exits 0', async () => {
    served.child.kill('SIGTERM');
    await served.exited;
    const hold = join(dir, 'never');
    served = await startServe(dir, home, { ...env, HOLD: hold }, ['--grace', '300ms']);
    await slash(served, cmd('U1', 'deploy web dev 4.0.0'));
    await until(() => lines(marker).includes('dev 4.0.0'));
    served.child.kill('SIGTERM');
    expect(await served.exited).toBe(0);
    expect(served.stderr()).toContain('taking no new requests');
    const history = JSON.parse((await runCli(['history', 'web', '-e', 'dev', '--json', '--limit', '1', '--home', home, '--config-dir', dir], { env })).stdout);
    expect(history.records[0]).toMatchObject({ version: '4.0.0', status: 'interrupted' });
    served = await startServe(dir, home, env);
  });
});

describe('deployctl serve: an approval nobody decides', () => {
  it('expires after chatops.approval_timeout, says so in Slack, and runs nothing', async () => {
    const slack = await startFakeSlack();
    const dir = tempDir();
    writeConfig(dir, '1s');
    const marker = join(dir, 'ran.txt');
    const env = cleanEnv({ SLACK_SIGNING_SECRET: SECRET, SLACK_BOT_TOKEN: 'xoxb-test', DEPLOYCTL_SLACK_API_URL: `${slack.url}/api/`, MARKER: marker, API_TOKEN: 'x' });
    const served = await startServe(dir, join(tempDir(), 'state'), env);
    try {
      await slash(served, { user_id: 'U1', user_name: 'u1', text: 'deploy web prod 1.0.0', channel_id: 'C1', response_url: slack.responseUrl('a') });
      const request = await slack.waitFor((c) => c.method === 'chat.postMessage');
      await slack.waitFor((c) => c.method === 'chat.update' && /expired/.test(c.body.text));
      expect(await click(served, 'U3', 'approve', request.body.blocks[1].elements[0].value, slack.responseUrl('late'))).toBe(200);
      expect((await slack.waitFor((c) => c.method === 'response/late')).body.text).toContain('already expired');
      expect(existsSync(marker)).toBe(false);
    } finally {
      served.child.kill('SIGTERM');
      await served.exited;
      await slack.close();
    }
  });
});
