// The approval of a CI run in Slack: `deploy --approval slack` in one process posts the request and
// waits; `deployctl serve` in another takes the click and records the decision in the shared state.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { start, startServeWithSlack, type ServeWithSlack } from '../support/serve-approval.js';

describe('deploy --approval slack from CI, decided through serve', () => {
  let served: ServeWithSlack;
  let slack: ServeWithSlack['slack'];
  let dir: string;
  let home: string;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    served = await startServeWithSlack(`    type: shell
    commands:
      - [sh, -c, 'echo "$DEPLOY_ENV $DEPLOY_VERSION" >> "$MARKER"']
`);
    ({ slack, dir, home, env } = served);
  });
  afterAll(async () => {
    await served?.close();
  });
  const click = (user: string, action: 'approve' | 'reject', id: string) => served.click(user, action, id);
  const ran = () => served.ran();

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
