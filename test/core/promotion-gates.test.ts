import { describe, expect, it } from 'vitest';
import { checkPromotionGates, planPromotion, promotedArtifacts } from '../../src/core/promotion-gates.js';
import { unifiedDiff } from '../../src/engine/text-diff.js';
import type { EnvironmentConfig } from '../../src/config/types.js';
import type { DeployRecord } from '../../src/state/types.js';
import { MemoryHistory } from '../support/fakes.js';

const order = ['dev', 'qa', 'staging', 'prod'];
const running = (entries: Record<string, string>) => new Map(order.map((e) => [e, entries[e]]));

describe('planPromotion', () => {
  it.each([
    [{ to: 'prod' }, { from: 'staging', to: 'prod' }],
    [{ from: 'dev' }, { from: 'dev', to: 'qa' }],
    [{ from: 'dev', to: 'staging' }, { from: 'dev', to: 'staging' }],
    [{}, { from: 'qa', to: 'staging' }],
  ])('%j goes %j', (flags, route) => {
    expect(planPromotion({ app: 'web', order, running: running({ dev: '2', qa: '2', staging: '1' }), ...flags })).toEqual(route);
  });

  it.each([
    [{ to: 'dev' }, 'dev is the first environment: nothing comes before it'],
    [{ from: 'prod' }, 'prod is the last environment: there is nothing to promote to'],
    [{ from: 'prod', to: 'dev' }, 'dev does not come after prod'],
    [{ to: 'moon' }, 'unknown environment "moon" in --to'],
    [{}, 'nothing to promote: web runs the same version everywhere it is deployed, or nowhere yet'],
  ])('refuses %j: %s', (flags, message) => {
    expect(() => planPromotion({ app: 'web', order, running: running({ dev: '1', qa: '1', staging: '1', prod: '1' }), ...flags })).toThrow(message);
  });
});

const env = (extra: Partial<EnvironmentConfig> = {}): EnvironmentConfig => ({ name: 'prod', protected: false, requires: [], variables: {}, settings: {}, ...extra });
const rec = (extra: Partial<DeployRecord>): DeployRecord =>
  ({ schemaVersion: 1, id: 'web_staging_1', app: 'web', env: 'staging', version: '1.4.2', action: 'deploy', status: 'succeeded', startedAt: '2026-11-24T10:00:00.000Z', finishedAt: '2026-11-24T10:00:00.000Z', user: 'ana', host: 'h', pid: 1, command: '', config: {}, artifacts: {}, steps: [], ...extra }) as DeployRecord;

describe('checkPromotionGates', () => {
  const base = { app: 'web', route: { from: 'staging', to: 'prod' }, targetRunning: '1.4.1', history: new MemoryHistory(), now: new Date('2026-11-24T12:00:00Z'), force: false };

  it('passes a version that succeeded in the source', async () => {
    expect((await checkPromotionGates({ ...base, source: rec({}), toEnv: env() })).version).toBe('1.4.2');
  });

  it.each([
    [{ source: undefined }, 'web has never been deployed to staging: there is nothing to promote'],
    [{ source: rec({ status: 'failed' }) }, 'the last deployment of web to staging (1.4.2, web_staging_1) ended failed'],
    [{ source: rec({ status: 'rolled_back' }) }, 'ended rolled_back'],
    [{ source: rec({}), targetRunning: '1.4.2' }, 'prod already runs web 1.4.2'],
    [{ source: rec({}), toEnv: env({ requires: ['qa'] }) }, 'prod requires web 1.4.2 to have succeeded in qa first, and it has not'],
    [{ source: rec({}), toEnv: env({ soak: 3 * 3600_000 }) }, 'prod needs web 1.4.2 to have run in staging for 3h; it has run for 2h'],
  ])('refuses %#: %s', async (extra, message) => {
    await expect(checkPromotionGates({ ...base, toEnv: env(), ...extra } as Parameters<typeof checkPromotionGates>[0])).rejects.toThrow(message);
  });

  it('refuses a source whose last deployment was rolled back, automatically or by hand', async () => {
    const history = new MemoryHistory();
    await history.write(rec({ id: 'web_staging_2', version: '1.5.0', status: 'rolled_back' }));
    const automatic = rec({ id: 'web_staging_3', action: 'rollback', version: '1.4.2', triggeredBy: 'web_staging_2' });
    await expect(checkPromotionGates({ ...base, history, source: automatic, toEnv: env() })).rejects.toThrow(
      'the last deployment of web to staging (1.5.0, web_staging_2) was rolled back: staging runs 1.4.2 again',
    );
    const byHand = rec({ id: 'web_staging_4', action: 'rollback', version: '1.4.2' });
    await expect(checkPromotionGates({ ...base, history, source: byHand, toEnv: env() })).rejects.toThrow('web in staging was rolled back by hand to 1.4.2 (web_staging_4)');
  });

  it('carries the exact image of the source, not the manifests rendered for it', () => {
    const image = `registry.example/web@sha256:${'a'.repeat(64)}`;
    expect(promotedArtifacts(rec({ artifacts: { image, manifests: 'kind: Deployment' } }))).toEqual({ image });
    expect(promotedArtifacts(rec({ artifacts: { manifests: 'kind: Deployment' } }))).toBeUndefined();
  });

  it('lets --force deploy the same version again', async () => {
    await expect(checkPromotionGates({ ...base, source: rec({}), targetRunning: '1.4.2', force: true, toEnv: env() })).resolves.toBeDefined();
  });
});

describe('unifiedDiff', () => {
  it('prints hunks with context, and nothing when equal', () => {
    const a = 'a\nb\nc\nd\ne\nf\ng\nh\n';
    const b = 'a\nb\nC\nd\ne\nf\ng\nh\ni\n';
    expect(unifiedDiff(a, b, { fromLabel: 'prod', toLabel: 'staging', context: 1 })).toBe(
      ['--- prod', '+++ staging', '@@ -2,3 +2,3 @@', ' b', '-c', '+C', ' d', '@@ -8,2 +8,3 @@', ' h', '+i', ' ', ''].join('\n'),
    );
    expect(unifiedDiff(a, a, { fromLabel: 'x', toLabel: 'y' })).toBe('');
  });
});
