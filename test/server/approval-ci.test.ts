// The approval of a CI run in Slack: `deploy --approval slack` in one process posts the request and
// waits; `deployctl serve` in another takes the click and records the decision in the shared state.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, cliPath, runCli, tempDir } from '../support/cli.js';
import { signedHeaders, startFakeSlack, type FakeSlack } from '../support/fake-slack.js';

const SECRET = 'ci-signing-secret';

function start(args: string[], env: NodeJS.ProcessEnv): { child: ChildProcess; out: () => string; err: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [cliPath, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, out: () => out, err: () => err, exited };
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('deploy --approval slack from CI, decided through serve', () => {
  let slack: FakeSlack;
  let dir: string;
  let home: string;
  let marker: string;
  let env: NodeJS.ProcessEnv;
  let serve: ReturnType<typeof start>;
  let url: string;

  beforeAll(async () => {
    slack = await startFakeSlack();
    dir = tempDir();
    home = join(tempDir(), 'state');
    marker = join(dir, 'ran.txt');
    writeFileSync(join(dir, 'environments.yaml'), 'environments:\n  dev: {}\n  prod:\n    protected: true\n');
    writeFileSync(
      join(dir, 'deployments.yaml'),
      `chatops:
  channel: C0DEPLOY
  approvers: { prod: [U3, U4] }
deployments:
  web:
    type: shell
    commands:
      - [sh, -c, 'echo "$DEPLOY_ENV $DEPLOY_VERSION" >> "$MARKER"']
`,
    );
    env = cleanEnv({ SLACK_SIGNING_SECRET: SECRET, SLACK_BOT_TOKEN: 'xoxb-test', DEPLOYCTL_SLACK_API_URL: `${slack.url}/api/`, MARKER: marker, CI: 'true', DEPLOYCTL_USER: 'ci-bot' });
    serve = start(['serve', '--port', '0', '--config-dir', dir, '--home', home], env);
    await waitFor(() => /listening on http:\/\/127\.0\.0\.1:\d+/.test(serve.err()), 'serve to listen');
    url = `http://127.0.0.1:${/listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(serve.err())![1]}`;
  });
  afterAll(async () => {
    serve?.child.kill('SIGTERM');
    await serve?.exited;
    await slack?.close();
  });

  const click = async (user: string, action: 'approve' | 'reject', id: string) => {
    const payload = JSON.stringify({ type: 'block_actions', user: { id: user, username: user.toLowerCase() }, actions: [{ action_id: action, value: id }], response_url: slack.responseUrl(`click-${id}`) });
    const body = new URLSearchParams({ payload }).toString();
    return (await fetch(`${url}/slack/interactions`, { method: 'POST', body, headers: signedHeaders(SECRET, body) })).status;
  };
  const ran = () => (existsSync(marker) ? readFileSync(marker, 'utf8') : '');

  it('waits for the decision, and deploys once an approver approves', async () => {
    const run = start(['deploy', 'web', '-e', 'prod', '--version', '1.0.0', '--approval', 'slack', '--wait-approval', '2m', '--json', '--config-dir', dir, '--home', home], env);
    const request = await slack.waitFor((c) => c.method === 'chat.postMessage' && /deploy web 1\.0\.0 to prod, asked by ci-bot/.test(c.body.text));
    expect(request.body.channel).toBe('C0DEPLOY');
    expect(ran()).toBe('');
    expect(await click('U3', 'approve', request.body.blocks[1].elements[0].value)).toBe(200);
    expect(await run.exited).toBe(0);
    expect(JSON.parse(run.out()).record).toMatchObject({ version: '1.0.0', env: 'prod', status: 'succeeded', user: 'ci-bot' });
    expect(run.err()).toContain('approved by u3 in Slack');
    expect(ran()).toContain('prod 1.0.0');
    await slack.waitFor((c) => c.method === 'chat.update' && c.body.ts === request.ts && /approved by <@U3>/.test(c.body.text));
  });

  it('a rejection exits 6 and runs nothing', async () => {
    const run = start(['deploy', 'web', '-e', 'prod', '--version', '2.0.0', '--approval', 'slack', '--json', '--config-dir', dir, '--home', home], env);
    const request = await slack.waitFor((c) => c.method === 'chat.postMessage' && /deploy web 2\.0\.0 to prod/.test(c.body.text));
    await click('U4', 'reject', request.body.blocks[1].elements[0].value);
    expect(await run.exited).toBe(6);
    expect(JSON.parse(run.out()).error.message).toContain('rejected by u4 in Slack');
    expect(ran()).not.toContain('prod 2.0.0');
  });

  it('no decision in time exits 6, says so in Slack, and runs nothing', async () => {
    const run = start(['deploy', 'web', '-e', 'prod', '--version', '3.0.0', '--approval', 'slack', '--wait-approval', '1s', '--config-dir', dir, '--home', home], env);
    expect(await run.exited).toBe(6);
    expect(run.err()).toContain('no decision in Slack within 1s');
    const request = await slack.waitFor((c) => c.method === 'chat.postMessage' && /deploy web 3\.0\.0 to prod/.test(c.body.text));
    await slack.waitFor((c) => c.method === 'chat.update' && c.body.ts === request.ts && /expired/.test(c.body.text));
    expect(ran()).not.toContain('prod 3.0.0');
  });

  it('refuses a bad --approval before anything runs', async () => {
    const run = await runCli(['deploy', 'web', '-e', 'prod', '--version', '4.0.0', '--approval', 'email', '--config-dir', dir, '--home', home], { env });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('the one way to approve elsewhere is slack');
  });
});
