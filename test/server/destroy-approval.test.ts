// `destroy --approval slack` from CI: the request in Slack says destroy, and the teardown runs once an
// approver clicks (deployctl serve takes the click and records it in the shared state).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { start, startServeWithSlack, type ServeWithSlack } from '../support/serve-approval.js';

describe('destroy --approval slack from CI, decided through serve', () => {
  let served: ServeWithSlack;
  let slack: ServeWithSlack['slack'];
  let dir: string;
  let home: string;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    served = await startServeWithSlack(`    type: shell
    commands:
      - [sh, -c, 'echo "up $DEPLOY_VERSION" >> "$MARKER"']
    destroy_commands:
      - [sh, -c, 'echo "down $DEPLOY_VERSION" >> "$MARKER"']
`);
    ({ slack, dir, home, env } = served);
  });
  afterAll(async () => {
    await served?.close();
  });
  const click = (user: string, action: 'approve' | 'reject', id: string) => served.click(user, action, id);
  const ran = () => served.ran();

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
