// For the tests of a CI run's approval in Slack: the built CLI started as a process of its own, and a
// `deployctl serve` on a config with a protected prod and approvers U3 and U4, whose Approve and
// Reject clicks the tests send signed, as Slack would.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanEnv, cliPath, tempDir } from './cli.js';
import { signedHeaders, startFakeSlack, type FakeSlack } from './fake-slack.js';

const SECRET = 'ci-signing-secret';

export interface Started {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exited: Promise<number | null>;
}

/** The built CLI as a process, its output gathered as it comes. */
export function start(args: string[], env: NodeJS.ProcessEnv): Started {
  const child = spawn(process.execPath, [cliPath, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, out: () => out, err: () => err, exited };
}

export async function waitFor(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface ServeWithSlack {
  slack: FakeSlack;
  dir: string;
  home: string;
  env: NodeJS.ProcessEnv;
  /** An Approve or Reject click on the request `id`; the HTTP status serve answered. */
  click(user: string, action: 'approve' | 'reject', id: string): Promise<number>;
  /** What the app's commands wrote to $MARKER so far. */
  ran(): string;
  close(): Promise<void>;
}

/** serve on a config whose `web` app is given by `app` (its lines under `web:`, 4 spaces in). */
export async function startServeWithSlack(app: string): Promise<ServeWithSlack> {
  const slack = await startFakeSlack();
  const dir = tempDir();
  const home = join(tempDir(), 'state');
  const marker = join(dir, 'ran.txt');
  writeFileSync(join(dir, 'environments.yaml'), 'environments:\n  dev: {}\n  prod:\n    protected: true\n');
  writeFileSync(join(dir, 'deployments.yaml'), `chatops:\n  channel: C0DEPLOY\n  approvers: { prod: [U3, U4] }\ndeployments:\n  web:\n${app}`);
  const env = cleanEnv({ SLACK_SIGNING_SECRET: SECRET, SLACK_BOT_TOKEN: 'xoxb-test', DEPLOYCTL_SLACK_API_URL: `${slack.url}/api/`, MARKER: marker, CI: 'true', DEPLOYCTL_USER: 'ci-bot' });
  const serve = start(['serve', '--port', '0', '--config-dir', dir, '--home', home], env);
  await waitFor(() => /listening on http:\/\/127\.0\.0\.1:\d+/.test(serve.err()), 'serve to listen');
  const url = `http://127.0.0.1:${/listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(serve.err())![1]}`;
  return {
    slack,
    dir,
    home,
    env,
    async click(user, action, id) {
      const payload = JSON.stringify({ type: 'block_actions', user: { id: user, username: user.toLowerCase() }, actions: [{ action_id: action, value: id }], response_url: slack.responseUrl(`click-${id}`) });
      const body = new URLSearchParams({ payload }).toString();
      return (await fetch(`${url}/slack/interactions`, { method: 'POST', body, headers: signedHeaders(SECRET, body) })).status;
    },
    ran: () => (existsSync(marker) ? readFileSync(marker, 'utf8') : ''),
    async close() {
      serve.child.kill('SIGTERM');
      await serve.exited;
      await slack.close();
    },
  };
}
