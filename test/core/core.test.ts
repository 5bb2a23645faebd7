// The application core called as the CLI, the board or a server would: a request in, plain data out,
// with a fake runner, the real file state store in a temp folder, and an injected approver.
import { describe, expect, it } from 'vitest';
import { deploy } from '../../src/core/deploy.js';
import { prepareRollback, rollback } from '../../src/core/rollback.js';
import { promote } from '../../src/core/promote.js';
import { boardData, status } from '../../src/core/status.js';
import { history, prune } from '../../src/core/history.js';
import { ApprovalError, UsageError } from '../../src/errors.js';
import { coreWorld, type CoreWorld } from './support.js';

async function deployed(world: CoreWorld, env: string, ...versions: string[]) {
  for (const version of versions) {
    const outcome = await deploy({ app: 'svc', env, version }, world.core);
    expect(outcome.exitCode, outcome.record.error?.message).toBe(0);
  }
}

const summary = async (world: CoreWorld, env = 'dev') =>
  (await history({ app: 'svc', env, limit: 50 }, world.core)).records.map((r) => `${r.action} ${r.version} ${r.status}${r.bad ? ' bad' : ''}`);

describe('rollback walks back from what runs', () => {
  it('1.2.0 -> 1.1.0 -> 1.0.0, then refuses: nothing older; --to goes forward again', async () => {
    const world = await coreWorld();
    await deployed(world, 'dev', '1.0.0', '1.1.0', '1.2.0');
    expect((await rollback({ app: 'svc', env: 'dev' }, world.core)).record).toMatchObject({ action: 'rollback', version: '1.1.0', status: 'succeeded' });
    expect((await rollback({ app: 'svc', env: 'dev' }, world.core)).record).toMatchObject({ version: '1.0.0', status: 'succeeded' });
    const none = rollback({ app: 'svc', env: 'dev' }, world.core);
    await expect(none).rejects.toThrow(UsageError);
    await expect(none).rejects.toThrow('no good version of svc in dev older than 1.0.0, which runs now');
    expect((await rollback({ app: 'svc', env: 'dev', to: '1.2.0' }, world.core)).record).toMatchObject({ version: '1.2.0', status: 'succeeded' });
    expect(world.ran).toEqual(['1.0.0', '1.1.0', '1.2.0', '1.1.0', '1.0.0', '1.2.0']);
  });

  it('history prune keeps the record the next rollback walks back to', async () => {
    const world = await coreWorld();
    await deployed(world, 'dev', '0.9.0', '1.0.0', '1.1.0', '1.2.0');
    await rollback({ app: 'svc', env: 'dev' }, world.core);
    const { deleted } = await prune({ keep: 1, app: 'svc', env: 'dev' }, world.core);
    // Kept: the rollback (newest, running), where 1.1.0 was deployed, and 1.0.0, where the walk goes next.
    expect(await summary(world)).toEqual(['rollback 1.1.0 succeeded', 'deploy 1.2.0 succeeded', 'deploy 1.1.0 succeeded', 'deploy 1.0.0 succeeded']);
    expect(deleted.length).toBe(1);
    expect((await rollback({ app: 'svc', env: 'dev' }, world.core)).record).toMatchObject({ version: '1.0.0', status: 'succeeded' });
  });

  it('the preview (what the board offers) names the version it would go back to', async () => {
    const world = await coreWorld();
    await deployed(world, 'dev', '1.0.0', '1.1.0');
    expect((await prepareRollback({ app: 'svc', env: 'dev' }, world.core)).target.version).toBe('1.0.0');
    await rollback({ app: 'svc', env: 'dev' }, world.core);
    await expect(prepareRollback({ app: 'svc', env: 'dev' }, world.core)).rejects.toThrow('nothing older to roll back to');
  });
});

describe('a rollback that fails the same way as the deployment', () => {
  it('stops after that attempt, marks neither it nor older versions bad; after the fix --to 1.0.0 goes', async () => {
    const world = await coreWorld();
    await deployed(world, 'dev', '1.0.0', '1.1.0');
    world.failAll.line = 'ERROR! Attempting to decrypt but no vault secrets found';
    const failed = await deploy({ app: 'svc', env: 'dev', version: '1.2.0' }, world.core);
    expect(failed.exitCode).toBe(3);
    expect(failed.rollbacks.map((r) => `${r.version} ${r.status}`)).toEqual(['1.1.0 failed']);
    expect(failed.stopped).toContain('the rollback to 1.1.0 failed the same way as 1.2.0 did: the cause is not the version');
    // 1.0.0 was never run again.
    expect(world.ran).toEqual(['1.0.0', '1.1.0', '1.2.0', '1.1.0']);
    expect(await summary(world)).toEqual(['rollback 1.1.0 failed', 'deploy 1.2.0 failed bad', 'deploy 1.1.0 succeeded', 'deploy 1.0.0 succeeded']);

    world.failAll.line = undefined;
    expect((await rollback({ app: 'svc', env: 'dev', to: '1.0.0' }, world.core)).exitCode).toBe(0);
    expect((await rollback({ app: 'svc', env: 'dev', to: '1.1.0' }, world.core)).exitCode).toBe(0);
  });

  it('a manual rollback whose attempts fail the same way: stops at the second, and neither version is marked bad', async () => {
    const world = await coreWorld();
    await deployed(world, 'dev', '1.0.0', '1.1.0', '1.2.0');
    world.failAll.line = 'ansible-playbook: command not found';
    const failed = await rollback({ app: 'svc', env: 'dev' }, world.core);
    expect(failed.exitCode).toBe(3);
    expect(failed.stopped).toContain('the rollback to 1.0.0 failed the same way as 1.1.0 did');
    expect((await summary(world)).slice(0, 2)).toEqual(['rollback 1.0.0 failed', 'rollback 1.1.0 failed']);
    world.failAll.line = undefined;
    expect((await rollback({ app: 'svc', env: 'dev', to: '1.1.0' }, world.core)).exitCode).toBe(0);
    expect((await rollback({ app: 'svc', env: 'dev', to: '1.0.0' }, world.core)).exitCode).toBe(0);
  });

  it('a rollback failing for its own version goes on to the next older one, which is then marked bad when it fails', async () => {
    const world = await coreWorld();
    await deployed(world, 'dev', '1.0.0', '1.1.0');
    world.broken.add('1.2.0').add('1.1.0');
    const failed = await deploy({ app: 'svc', env: 'dev', version: '1.2.0' }, world.core);
    expect(failed.stopped).toBeUndefined();
    expect(failed.rollbacks.map((r) => `${r.version} ${r.status}`)).toEqual(['1.1.0 failed', '1.0.0 succeeded']);
    expect((await summary(world))[1]).toBe('rollback 1.1.0 failed bad');
  });
});

describe('approval, through the injected approver', () => {
  const environments = 'environments:\n  dev: {}\n  prod: { protected: true }\n';

  it('nobody to ask and no --yes: refused with exit 6 and the way out, nothing run', async () => {
    const world = await coreWorld({ environments });
    const refused = deploy({ app: 'svc', env: 'prod', version: '1.0.0' }, world.core);
    await expect(refused).rejects.toThrow(ApprovalError);
    await expect(refused).rejects.toMatchObject({ exitCode: 6, hint: expect.stringContaining('pass --yes') });
    expect(world.ran).toEqual([]);
  });

  it('asked, and the answer decides; approved up front, nothing is asked', async () => {
    const no = await coreWorld({ environments, approver: { canAsk: true, answer: false } });
    await expect(deploy({ app: 'svc', env: 'prod', version: '1.0.0' }, no.core)).rejects.toThrow('not approved');
    expect(no.asked).toEqual(['prod is protected. Deploy svc 1.0.0 to prod?']);
    const yes = await coreWorld({ environments, approver: { canAsk: true, answer: true } });
    expect((await deploy({ app: 'svc', env: 'prod', version: '1.0.0' }, yes.core)).exitCode).toBe(0);
    const given = await coreWorld({ environments, approver: { approved: true } });
    expect((await deploy({ app: 'svc', env: 'prod', version: '1.0.0' }, given.core)).exitCode).toBe(0);
    expect(given.asked).toEqual([]);
  });
});

describe('what runs now, one definition for status, the board and promote', () => {
  it('a failed deploy leaves the version before it running, in status and on the board', async () => {
    const world = await coreWorld();
    await deployed(world, 'dev', '1.0.0');
    world.broken.add('2.0.0');
    await deploy({ app: 'svc', env: 'dev', version: '2.0.0', noRollback: true }, world.core);
    const { targets } = await status({}, world.core);
    expect(targets.map((t) => [t.env, t.version, t.last.version, t.last.status])).toEqual([['dev', '1.0.0', '2.0.0', 'failed']]);
    const grid = await boardData(world.core);
    expect(grid.cells.svc!.dev).toMatchObject({ version: '1.0.0', status: 'failed', lastVersion: '2.0.0', by: 'ana' });
    expect(grid.cells.svc!.prod).toMatchObject({ version: null, status: null });
  });

  it('promote carries the version that runs in the source to the next environment', async () => {
    const world = await coreWorld();
    await deployed(world, 'dev', '1.4.0');
    const outcome = await promote({ app: 'svc' }, world.core);
    expect(outcome.record).toMatchObject({ action: 'promote', env: 'prod', version: '1.4.0', status: 'succeeded', from: { env: 'dev' } });
    await expect(promote({ app: 'svc' }, world.core)).rejects.toThrow('nothing to promote');
  });

  it('the audit log and the record name the identity the core was given', async () => {
    const world = await coreWorld();
    await deployed(world, 'dev', '1.0.0');
    const state = await world.core.state();
    expect((await state.audit.read({ limit: 1 }))[0]).toMatchObject({ action: 'deploy', user: 'ana', host: 'laptop' });
    expect((await state.history.list({ limit: 1 }))[0]).toMatchObject({ user: 'ana', host: 'laptop' });
  });
});
