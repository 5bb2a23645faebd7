// `destroy --approval slack` from CI: the request in Slack says destroy, and the teardown runs once an
// approver clicks (deployctl serve takes the click and records it in the shared state).
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

describe('destroy --approval slack from CI, decided through serve', () => {
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
      - [sh, -c, 'echo "up $DEPLOY_VERSION" >> "$MARKER"']
    destroy_commands:
      - [sh, -c, 'echo "down $DEPLOY_VERSION" >> "$MARKER"']
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

  it('a rejection exits 6 and tears nothing down; an approval destroys', async () => {
    expect((await runCli(['deploy', 'web', '-e', 'prod', '--version', '1.0.0', '--yes', '--config-dir', dir, '--home', home], { env })).code).toBe(0);
    const rejected = start(['destroy', 'web', '-e', 'prod', '--approval', 'slack', '--json', '--config-dir', dir, '--home', home], env);
    const first = await slack.waitFor((c) => c.method === 'chat.postMessage' && /destroy web 1\.0\.0 in prod, asked by ci-bot/.test(c.body.text));
    await click('U4', 'reject', first.body.blocks[1].elements[0].value);
    expect(await rejected.exited).toBe(6);
    expect(JSON.parse(rejected.out()).error.message).toBe('destroy web 1.0.0 in prod: rejected by u4 in Slack (' + first.body.blocks[1].elements[0].value + ')');
    expect(ran()).toBe('up 1.0.0\n');

    const run = start(['destroy', 'web', '-e', 'prod', '--approval', 'slack', '--wait-approval', '2m', '--json', '--config-dir', dir, '--home', home], env);
    const request = await slack.waitFor((c) => c.method === 'chat.postMessage' && c.ts !== first.ts && /destroy web 1\.0\.0 in prod, asked by ci-bot/.test(c.body.text));
    expect(ran()).toBe('up 1.0.0\n');
    expect(await click('U3', 'approve', request.body.blocks[1].elements[0].value)).toBe(200);
    expect(await run.exited).toBe(0);
    expect(JSON.parse(run.out()).record).toMatchObject({ action: 'destroy', version: '1.0.0', env: 'prod', status: 'succeeded', user: 'ci-bot' });
    expect(run.err()).toContain('destroy web 1.0.0 in prod: approved by u3 in Slack');
    expect(ran()).toBe('up 1.0.0\ndown 1.0.0\n');
  });
});
