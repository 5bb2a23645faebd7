import { describe, expect, it } from 'vitest';
import { deployTarget, goodRecords, rollbackTarget, type DeployRequest, type Target } from '../../src/engine/deploy.js';
import type { AppConfig, EnvironmentConfig } from '../../src/config/types.js';
import { ApprovalError, InterruptedError, StateWriteError } from '../../src/errors.js';
import type { DeployRecord } from '../../src/state/types.js';
import { deployRequestOf, devEnvironment, echoExecutor, fakeWorld, type FakeWorld } from '../support/fakes.js';
import type { Command, Executor } from '../../src/executors/types.js';

async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

const dev: EnvironmentConfig = devEnvironment;
const prod: EnvironmentConfig = { ...dev, name: 'prod', protected: true };
/** What the engine's events about web in dev say outside any record (the lock, the rollback's choice). */
const webDev = { app: 'web', env: 'dev' };

function config(extra: Partial<AppConfig> = {}): AppConfig {
  return {
    type: 'shell',
    path: '/srv/web',
    variables: { PORT: '8080' },
    secrets: [],
    timeout: 60_000,
    hooks: {},
    health_check: { type: 'http', url: 'http://127.0.0.1:8080/health' },
    rollback: { auto: true, max_attempts: 3 },
    ...extra,
  };
}

function request(version: string, extra: Partial<DeployRequest> = {}, targetExtra: Partial<Target> = {}): DeployRequest {
  return deployRequestOf(config(), version, extra, targetExtra);
}

async function deployed(world: FakeWorld, ...versions: string[]) {
  for (const v of versions) expect((await deployTarget(request(v), world.deps)).exitCode).toBe(0);
}

describe('deployTarget', () => {
  it('runs the plan, checks health, stores a succeeded record and releases the lock', async () => {
    const world = fakeWorld();
    const outcome = await deployTarget(request('1.0.0'), world.deps);
    expect(outcome.exitCode).toBe(0);
    expect(outcome.record).toMatchObject({ app: 'web', env: 'dev', version: '1.0.0', status: 'succeeded', healthy: true, user: 'ana' });
    expect(outcome.record.steps.map((s) => s.command)).toEqual([['deploy-tool', 'up', '1.0.0']]);
    expect(outcome.record.artifacts).toEqual({ rendered: 'v=1.0.0' });
    expect(outcome.record.health?.attempts).toHaveLength(1);
    expect(world.history.records.get(outcome.record.id)?.status).toBe('succeeded');
    expect(world.locks.held.size).toBe(0);
    expect(world.locks.released).toEqual(['web_dev']);
    const env = world.runners[0]!.ran[0]!.env;
    expect(env).toMatchObject({ DEPLOY_APP: 'web', DEPLOY_ENV: 'dev', DEPLOY_VERSION: '1.0.0', DEPLOY_RECORD_ID: outcome.record.id, PORT: '8080' });
  });

  it('writes each record twice: running before its commands, then how it ended', async () => {
    const world = fakeWorld();
    const seen: string[] = [];
    const write = world.history.write.bind(world.history);
    world.history.write = async (r) => (seen.push(`${r.version} ${r.status}`), write(r));
    await deployed(world, '1.0.0');
    world.unhealthy.add('2.0.0');
    await deployTarget(request('2.0.0'), world.deps);
    expect(seen).toEqual([
      '1.0.0 running',
      '1.0.0 succeeded',
      '2.0.0 running',
      '2.0.0 failed',
      '1.0.0 running',
      '1.0.0 succeeded',
      '2.0.0 rolled_back',
    ]);
  });

  it('a preparation that fails: the record is stored pending, then failed, and nothing runs', async () => {
    const world = fakeWorld();
    const seen: string[] = [];
    const write = world.history.write.bind(world.history);
    world.history.write = async (r) => (seen.push(`${r.version} ${r.status}`), write(r));
    world.deps.getExecutor = async () => ({ ...echoExecutor, prepare: async () => ({ ok: false, message: 'kustomize: no such file' }) });
    const outcome = await deployTarget(request('1.0.0'), world.deps);
    expect(outcome.exitCode).toBe(3);
    expect(seen).toEqual(['1.0.0 pending', '1.0.0 failed']);
    expect(outcome.record).toMatchObject({ status: 'failed', bad: false });
    expect(world.runners.flatMap((r) => r.ran)).toEqual([]);
  });

  it('marks a record left in flight by a lost deployment as interrupted once it holds the lock', async () => {
    const world = fakeWorld();
    await deployed(world, '1.0.0');
    const lost = { ...[...world.history.records.values()][0]!, id: 'web_dev_0000', version: '0.9.0', status: 'running' as const, host: 'ci-3', pid: 77 };
    await world.history.write(lost);
    expect((await deployTarget(request('2.0.0'), world.deps)).exitCode).toBe(0);
    expect(world.history.records.get('web_dev_0000')?.status).toBe('interrupted');
    expect(world.events).toContainEqual({ type: 'log', level: 'warn', message: 'record web_dev_0000 (deploy 0.9.0 by ana@ci-3, pid 77) never finished: marked interrupted', target: webDev });
  });

  it('applies retention.keep after every deployment, failed ones too', async () => {
    const world = fakeWorld();
    const pruned: unknown[] = [];
    world.history.prune = async (options: Parameters<typeof world.history.prune>[0]) => (pruned.push(options), { deleted: [] });
    const keep = { config: config({ retention: { keep: 5 } }) };
    await deployTarget(request('1.0.0', {}, keep), world.deps);
    world.broken.add('2.0.0');
    await deployTarget(request('2.0.0', { autoRollback: false }, keep), world.deps);
    expect(pruned).toEqual([
      { keep: 5, app: 'web', env: 'dev', protect: expect.any(Function) },
      { keep: 5, app: 'web', env: 'dev', protect: expect.any(Function) },
    ]);
  });

  it('exits 3 when a command fails and rolls back to the last good version', async () => {
    const world = fakeWorld();
    await deployed(world, '1.0.0');
    world.broken.add('2.0.0');
    const outcome = await deployTarget(request('2.0.0'), world.deps);
    expect(outcome.exitCode).toBe(3);
    expect(outcome.record.status).toBe('rolled_back');
    expect(outcome.record.error?.message).toBe('deploy-tool up: exit code 1 (last output: boom: it broke)');
    expect(outcome.record.steps[0]?.output).toContain('boom: it broke');
    expect(outcome.rollbacks).toHaveLength(1);
    expect(outcome.rollbacks[0]).toMatchObject({ action: 'rollback', version: '1.0.0', status: 'succeeded', triggeredBy: outcome.record.id });
    expect(outcome.record.rolledBackBy).toEqual([outcome.rollbacks[0]!.id]);
    expect(world.history.records.get(outcome.record.id)?.status).toBe('rolled_back');
    expect(world.locks.held.size).toBe(0);
  });

  it('exits 4 when the health check fails, and the rollback re-applies the stored artifacts', async () => {
    const world = fakeWorld();
    await deployed(world, '1.0.0');
    world.unhealthy.add('2.0.0');
    const outcome = await deployTarget(request('2.0.0'), world.deps);
    expect(outcome.exitCode).toBe(4);
    expect(outcome.record.error).toEqual({ code: 'health_failed', message: 'health check failed: unhealthy after 1 attempt: status 503 (expected 2xx)' });
    expect(outcome.rollbacks[0]?.version).toBe('1.0.0');
    expect(outcome.rollbacks[0]?.artifacts).toEqual({ rendered: 'v=1.0.0' });
  });

  it('leaves a failure alone with --no-rollback', async () => {
    const world = fakeWorld();
    await deployed(world, '1.0.0');
    world.broken.add('2.0.0');
    const outcome = await deployTarget(request('2.0.0', { autoRollback: false }), world.deps);
    expect(outcome.exitCode).toBe(3);
    expect(outcome.record.status).toBe('failed');
    expect(outcome.rollbacks).toEqual([]);
  });

  it('falls through to an older good version when the rollback target is unhealthy too', async () => {
    const world = fakeWorld();
    await deployed(world, '0.9.0', '1.0.0');
    world.unhealthy.add('2.0.0');
    world.unhealthy.add('1.0.0');
    const outcome = await deployTarget(request('2.0.0'), world.deps);
    expect(outcome.exitCode).toBe(4);
    expect(outcome.rollbacks.map((r) => [r.version, r.status])).toEqual([
      ['1.0.0', 'failed'],
      ['0.9.0', 'succeeded'],
    ]);
    expect(outcome.record.status).toBe('rolled_back');
    expect(outcome.record.notes).toContain(`rolled back to 0.9.0 (${outcome.rollbacks[1]!.id})`);
    // 1.0.0 and 2.0.0 failed last time they were tried: a bare rollback never picks them.
    const good = await goodRecords(world.history, 'web', 'dev', new Set(['0.9.0']));
    expect((await collect(good)).map((r) => r.version)).toEqual([]);
  });

  it('tries no more than rollback.max_attempts older versions, recording each', async () => {
    const world = fakeWorld();
    await deployed(world, '0.8.0', '0.9.0', '1.0.0');
    for (const v of ['2.0.0', '1.0.0', '0.9.0']) world.unhealthy.add(v);
    const outcome = await deployTarget(request('2.0.0', {}, { config: config({ rollback: { auto: true, max_attempts: 2 } }) }), world.deps);
    expect(outcome.exitCode).toBe(4);
    expect(outcome.rollbacks.map((r) => [r.version, r.status])).toEqual([
      ['1.0.0', 'failed'],
      ['0.9.0', 'failed'],
    ]);
    // Nothing landed: the failed deploy stays failed, and links to both attempts.
    expect(outcome.record.status).toBe('failed');
    expect(outcome.record.rolledBackBy).toEqual(outcome.rollbacks.map((r) => r.id));
    expect(outcome.record.notes).toEqual(['rollback failed: tried 1.0.0, 0.9.0']);
    expect(world.events).toContainEqual({ type: 'log', level: 'error', message: 'rollback of web in dev failed: tried 1.0.0, 0.9.0', target: webDev });
  });

  it('a candidate that cannot start (a secret no longer set) is passed over with a warning; the exit code stays the deploy\'s', async () => {
    const world = fakeWorld({ processEnv: { OLD_TOKEN: 'old-t0ken' } });
    const withSecret = { config: config({ secrets: ['OLD_TOKEN'], variables: { OLD_TOKEN: 'old-t0ken' } }), secretValues: ['old-t0ken'] };
    await deployTarget(request('0.9.0'), world.deps);
    expect((await deployTarget(request('1.0.0', {}, withSecret), world.deps)).exitCode).toBe(0);
    world.deps.processEnv = {};
    world.broken.add('2.0.0');
    const outcome = await deployTarget(request('2.0.0'), world.deps);
    expect(outcome.exitCode).toBe(3);
    expect(world.events).toContainEqual({
      type: 'log',
      level: 'warn',
      message: 'not rolled back to 1.0.0: secret OLD_TOKEN is not set in the environment (export OLD_TOKEN=... before re-applying a stored deployment that uses it)',
      target: webDev,
    });
    expect(outcome.rollbacks.map((r) => [r.version, r.status])).toEqual([['0.9.0', 'succeeded']]);
    expect(outcome.record.status).toBe('rolled_back');
    expect(outcome.record.notes).toEqual(['not rolled back to 1.0.0: secret OLD_TOKEN is not set in the environment', `rolled back to 0.9.0 (${outcome.rollbacks[0]!.id})`]);
    expect(world.history.records.get(outcome.record.id)?.notes).toEqual(outcome.record.notes);
  });

  it('says so when there is nothing to roll back to', async () => {
    const world = fakeWorld();
    world.broken.add('1.0.0');
    const outcome = await deployTarget(request('1.0.0'), world.deps);
    expect(outcome.exitCode).toBe(3);
    expect(outcome.record.status).toBe('failed');
    expect(world.events).toContainEqual({ type: 'log', level: 'warn', message: 'no earlier good version of web in dev to roll back to', target: webDev });
  });

  it('refuses a protected environment without --yes when it cannot ask, before anything runs', async () => {
    const world = fakeWorld();
    const attempt = deployTarget(request('1.0.0', {}, { env: 'prod', environment: prod }), world.deps);
    await expect(attempt).rejects.toThrow(ApprovalError);
    await expect(attempt).rejects.toThrow('prod is protected: deploy web 1.0.0 to prod needs approval');
    expect(world.history.records.size).toBe(0);
    expect(world.runners).toHaveLength(0);
  });

  it('asks in a terminal and deploys a protected environment when approved', async () => {
    const questions: string[] = [];
    const world = fakeWorld({ confirm: async (q) => (questions.push(q), true) });
    const outcome = await deployTarget(request('1.0.0', { interactive: true }, { env: 'prod', environment: prod }), world.deps);
    expect(outcome.exitCode).toBe(0);
    expect(questions).toEqual(['prod is protected. Deploy web 1.0.0 to prod?']);
  });

  it('asks about a promotion to a protected environment naming app, version, from and to', async () => {
    const questions: string[] = [];
    const world = fakeWorld({ confirm: async (q) => (questions.push(q), false) });
    const promotion = request('1.4.2', { interactive: true, action: 'promote', from: { env: 'staging', recordId: 'web_staging_1' } }, { env: 'prod', environment: prod });
    await expect(deployTarget(promotion, world.deps)).rejects.toThrow('promote web 1.4.2 from staging to prod: not approved');
    expect(questions).toEqual(['prod is protected. Promote web 1.4.2 from staging to prod?']);
    const unattended = deployTarget({ ...promotion, interactive: false }, world.deps);
    await expect(unattended).rejects.toThrow('prod is protected: promote web 1.4.2 from staging to prod needs approval');
    expect(world.history.records.size).toBe(0);
  });

  it('shows the lock and the record as phases, and says which version ran before', async () => {
    const world = fakeWorld();
    await deployed(world, '1.0.0');
    world.events.length = 0;
    const outcome = await deployTarget(request('1.1.0'), world.deps);
    expect(outcome.previousVersion).toBe('1.0.0');
    const phases = world.events.flatMap((e) => (e.type === 'phase' ? [`${e.phase} ${e.status}${e.message ? `: ${e.message}` : ''}`] : []));
    expect(phases[0]).toBe('lock start');
    expect(phases[1]).toBe('lock done: web in dev');
    expect(phases.at(-1)).toBe(`record done: saved ${outcome.record.id} (succeeded)`);
  });

  it('runs nothing that changes anything in a dry run, and stores nothing', async () => {
    const world = fakeWorld();
    const outcome = await deployTarget(request('1.0.0', { dryRun: true }, { env: 'prod', environment: prod }), world.deps);
    expect(outcome.exitCode).toBe(0);
    expect(outcome.dryRun?.steps).toEqual([
      { phase: 'deploy', label: 'deploy-tool up', argv: ['deploy-tool', 'up', '1.0.0'], command: 'deploy-tool up 1.0.0', shell: false, cwd: '/srv/web', mutates: true },
    ]);
    expect(world.runners.flatMap((r) => r.ran)).toEqual([]);
    expect(world.history.records.size).toBe(0);
    expect(world.locks.released).toEqual([]);
  });

  it('masks secrets in the record and puts them back from the environment on rollback', async () => {
    const world = fakeWorld({ processEnv: { API_TOKEN: 's3cr3t-value' } });
    const secretTarget = {
      config: config({ secrets: ['API_TOKEN'], variables: { PORT: '8080', API_TOKEN: 's3cr3t-value' }, env_vars: { AUTH: 'Bearer s3cr3t-value' } }),
      secretValues: ['s3cr3t-value'],
    };
    const first = await deployTarget(request('1.0.0', {}, secretTarget), world.deps);
    expect(JSON.stringify([...world.history.records.values()])).not.toContain('s3cr3t-value');
    expect(first.record.config).toMatchObject({ variables: { API_TOKEN: '***' }, env_vars: { AUTH: 'Bearer ***' } });

    world.unhealthy.add('2.0.0');
    const second = await deployTarget(request('2.0.0', {}, secretTarget), world.deps);
    expect(second.rollbacks[0]?.status).toBe('succeeded');
    const rollbackRun = world.runners[world.runners.length - 1]!.ran[0]!;
    expect(rollbackRun.env.API_TOKEN).toBe('s3cr3t-value');
    expect(JSON.stringify([...world.history.records.values()])).not.toContain('s3cr3t-value');
    expect(JSON.stringify(world.events)).not.toContain('s3cr3t-value');
  });

  it('masks secrets in every health attempt the record keeps, not only the summary', async () => {
    const world = fakeWorld({
      runHealthCheck: async (check, { onAttempt }) => {
        const url = (check as { url: string }).url;
        const attempt = { attempt: 1, ok: false, message: `GET ${url}: status 401`, latencyMs: 3, at: '' };
        onAttempt(attempt);
        return { ok: false, message: `unhealthy after 1 attempt: GET ${url}: status 401`, attempts: [attempt], durationMs: 3 };
      },
    });
    const secretTarget = {
      config: config({ secrets: ['TOKEN'], variables: { TOKEN: 'tok-123456' }, health_check: { type: 'http', url: 'http://127.0.0.1:8080/health?token=tok-123456' } }),
      secretValues: ['tok-123456'],
    };
    const outcome = await deployTarget(request('1.0.0', {}, secretTarget), world.deps);
    expect(outcome.exitCode).toBe(4);
    expect(outcome.record.health?.attempts[0]?.message).toBe('GET http://127.0.0.1:8080/health?token=***: status 401');
    expect(JSON.stringify([...world.history.records.values()])).not.toContain('tok-123456');
    expect(JSON.stringify(world.events)).not.toContain('tok-123456');
  });

  it('keeps the record succeeded but exits 3 when a post_deploy hook fails', async () => {
    const world = fakeWorld();
    world.broken.add('--oops');
    const outcome = await deployTarget(
      request('1.0.0', {}, { config: config({ hooks: { post_deploy: [['notify', '--oops']] } }) }),
      world.deps,
    );
    expect(outcome.exitCode).toBe(3);
    expect(outcome.record.status).toBe('succeeded');
    expect(outcome.record.notes).toEqual(['post_deploy hook failed: post_deploy hook 1: exit code 1 (last output: boom: it broke)']);
    expect(outcome.rollbacks).toEqual([]);
  });

  it('records an interrupted deploy, exits 130 and does not roll back', async () => {
    const abort = new AbortController();
    const world = fakeWorld({ signal: abort.signal });
    await deployed(world, '1.0.0');
    world.deps.createRunner = () => ({
      run: async () => {
        abort.abort();
        return { exitCode: null, output: '', stdout: '', durationMs: 1, timedOut: false, interrupted: true };
      },
      stopAll: async () => {},
    });
    const outcome = await deployTarget(request('2.0.0'), world.deps);
    expect(outcome.exitCode).toBe(130);
    expect(outcome.record.status).toBe('interrupted');
    expect(outcome.rollbacks).toEqual([]);
    expect(world.locks.held.size).toBe(0);
  });
});

describe('a step that needs approval (terraform apply without auto_approve)', () => {
  const gated: Executor = {
    type: 'terraform',
    tools: () => ['terraform'],
    async plan(input) {
      const step = (args: string[], extra: Partial<Command>): Command => ({ file: 'terraform', args, cwd: input.config.path, env: {}, timeoutMs: 1000, mutates: true, label: `terraform ${args[0]}`, phase: 'deploy', ...extra });
      return { commands: [step(['plan'], { mutates: false }), step(['apply'], { needsApproval: true })], artifacts: {}, notes: [] };
    },
  };
  const questions: string[] = [];
  const ask = (answer: boolean) => async (question: string) => (questions.push(question), answer);

  it.each([
    ['asks in a terminal and applies when the answer is yes', true, 0, [['plan'], ['apply']]],
    ['stops before the apply when the answer is no (exit 6), the plan shown', false, 6, [['plan']]],
  ])('%s', async (_name, answer, exitCode, ran) => {
    questions.length = 0;
    const world = fakeWorld({ getExecutor: async () => gated, confirm: ask(answer) });
    const outcome = await deployTarget(request('1.0.0', { interactive: true }, { config: config({ health_check: undefined }) }), world.deps);
    expect(outcome.exitCode).toBe(exitCode);
    expect(questions).toEqual(['Apply the plan above to web in dev?']);
    expect(world.runners.flatMap((r) => r.ran.map((c) => c.args))).toEqual(ran);
  });

  it('without a terminal and without --yes: refused before anything runs, from the one plan made (exit 6, no record)', async () => {
    let plans = 0;
    const counted: Executor = { ...gated, plan: (input) => (plans++, gated.plan(input)) };
    const world = fakeWorld({ getExecutor: async () => counted });
    const error = await deployTarget(request('1.0.0', {}, { config: config({ health_check: undefined }) }), world.deps).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApprovalError);
    expect((error as ApprovalError).message).toBe('terraform apply for web in dev needs approval');
    expect(plans).toBe(1);
    expect(world.runners.flatMap((r) => r.ran)).toEqual([]);
    expect(world.history.records.size).toBe(0);
    expect(world.locks.held.size).toBe(0);
  });

  it('a deployment is planned once, approval gate included', async () => {
    let plans = 0;
    const world = fakeWorld();
    const counted: Executor = { ...echoExecutor, plan: (input) => (plans++, echoExecutor.plan(input)) };
    world.deps.getExecutor = async () => counted;
    expect((await deployTarget(request('1.0.0'), world.deps)).exitCode).toBe(0);
    expect(plans).toBe(1);
  });

  it('applies without asking with --yes', async () => {
    const world = fakeWorld({ getExecutor: async () => gated, confirm: ask(false) });
    expect((await deployTarget(request('1.0.0', { approved: true }, { config: config({ health_check: undefined }) }), world.deps)).exitCode).toBe(0);
    expect(world.runners.flatMap((r) => r.ran.map((c) => c.args[0]))).toEqual(['plan', 'apply']);
  });
});

describe('pre-deploy check', () => {
  it('stops before anything runs when the target is not reachable: exit 4, no rollback, version not marked bad', async () => {
    const world = fakeWorld();
    await deployed(world, '1.0.0');
    world.unhealthy.add('1.0.0');
    const outcome = await deployTarget(request('2.0.0', {}, { config: config({ pre_check: { type: 'tcp', port: 5432 } }) }), world.deps);
    expect(outcome.exitCode).toBe(4);
    expect(outcome.record.error?.message).toBe('pre-deploy check failed, nothing was changed: unhealthy after 1 attempt: status 503 (expected 2xx)');
    expect(outcome.record.steps).toEqual([]);
    expect(outcome.record.bad).toBe(false);
    expect(outcome.rollbacks).toEqual([]);
  });
});

describe('the rollback policy in the request', () => {
  it('is asked after each failed rollback attempt with the failure before it; when it stops, that attempt is not marked bad and no older one is tried', async () => {
    const world = fakeWorld();
    await deployed(world, '0.8.0', '0.9.0', '1.0.0');
    for (const v of ['2.0.0', '1.0.0', '0.9.0']) world.unhealthy.add(v);
    const asked: string[] = [];
    const rollbackPolicy = {
      onAttemptFailed: (attempt: { version: string }, before: { version: string }) => {
        asked.push(`${attempt.version} after ${before.version}`);
        return attempt.version === '0.9.0' ? 'stopped at 0.9.0' : undefined;
      },
    };
    const outcome = await deployTarget(request('2.0.0', { rollbackPolicy }), world.deps);
    expect(asked).toEqual(['1.0.0 after 2.0.0', '0.9.0 after 1.0.0']);
    expect(outcome.stopped).toBe('stopped at 0.9.0');
    expect(outcome.rollbacks.map((r) => [r.version, r.status, r.bad ?? false])).toEqual([
      ['1.0.0', 'failed', false],
      ['0.9.0', 'failed', false],
    ]);
    expect(world.history.records.get(outcome.rollbacks[1]!.id)).toMatchObject({ bad: false, notes: ['stopped at 0.9.0'] });
    // The attempt before it, of this run, failed for that cause too: not marked bad either.
    expect(world.history.records.get(outcome.rollbacks[0]!.id)).toMatchObject({ bad: false, notes: ['0.9.0 failed the same way after it: the cause is not the version'] });
    expect(outcome.record.notes).toContain('stopped at 0.9.0');
    // 0.8.0 was never tried; without a policy, it is.
    expect([...world.history.records.values()].filter((r) => r.action === 'rollback').map((r) => r.version)).toEqual(['1.0.0', '0.9.0']);
    const again = fakeWorld();
    await deployed(again, '0.8.0', '0.9.0', '1.0.0');
    for (const v of ['2.0.0', '1.0.0', '0.9.0']) again.unhealthy.add(v);
    expect((await deployTarget(request('2.0.0'), again.deps)).rollbacks.map((r) => r.version)).toEqual(['1.0.0', '0.9.0', '0.8.0']);
  });
});

describe('rollbackTarget', () => {
  const manual = { app: 'web', env: 'dev', environment: dev, dryRun: false, approved: false, interactive: false, autoRollback: false, waitLockMs: 0, tools: {} };

  it('Ctrl-C after the lock, before the first attempt: exit 130 with nothing run, the lock released', async () => {
    const abort = new AbortController();
    const world = fakeWorld({ signal: abort.signal });
    await deployed(world, '1.0.0', '2.0.0');
    const acquire = world.locks.acquire.bind(world.locks);
    world.locks.acquire = async (...args) => {
      const lock = await acquire(...args);
      abort.abort();
      return lock;
    };
    const candidates = await goodRecords(world.history, 'web', 'dev', new Set(['2.0.0']));
    const error = await rollbackTarget(candidates, manual, world.deps).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InterruptedError);
    expect((error as InterruptedError).message).toBe('rollback of web 1.0.0 to dev was interrupted before it started: nothing was run');
    expect(world.history.records.size).toBe(2);
    expect(world.locks.held.size).toBe(0);
  });

  it('an approval refused in a terminal ends it (exit 6): older versions are not tried', async () => {
    const gated: Executor = {
      ...echoExecutor,
      async plan(input) {
        const plan = await echoExecutor.plan(input);
        return { ...plan, commands: plan.commands.map((c) => ({ ...c, needsApproval: true })) };
      },
    };
    const world = fakeWorld();
    await deployed(world, '0.9.0', '1.0.0', '2.0.0');
    world.deps.getExecutor = async () => gated;
    const candidates = await goodRecords(world.history, 'web', 'dev', new Set(['2.0.0']));
    const outcome = await rollbackTarget(candidates, { ...manual, interactive: true }, world.deps);
    expect(outcome.exitCode).toBe(6);
    expect(outcome.record).toMatchObject({ action: 'rollback', version: '1.0.0', status: 'failed', error: { code: 'approval_needed' } });
    expect(outcome.rollbacks).toEqual([]);
    expect(world.history.records.size).toBe(4);
    // without a terminal: refused before anything runs, no record
    await expect(rollbackTarget(candidates, manual, world.deps)).rejects.toThrow(ApprovalError);
    expect(world.history.records.size).toBe(4);
  });

  it('re-applies the chosen record and records a rollback', async () => {
    const world = fakeWorld();
    await deployed(world, '1.0.0', '2.0.0');
    const candidates = await goodRecords(world.history, 'web', 'dev', new Set(['2.0.0']));
    const outcome = await rollbackTarget(
      candidates,
      { app: 'web', env: 'dev', environment: dev, dryRun: false, approved: false, interactive: false, autoRollback: false, waitLockMs: 0, tools: {} },
      world.deps,
    );
    expect(outcome.exitCode).toBe(0);
    expect(outcome.record).toMatchObject({ action: 'rollback', version: '1.0.0', status: 'succeeded', rollbackOf: (await collect(candidates))[0]!.id });
    expect(world.locks.held.size).toBe(0);
  });
});

describe('a state folder that refuses a write (a full disk)', () => {
  const full = (what = 'write the record', path = '/home/ana/.deployctl/history/web_dev_0002.json') =>
    new StateWriteError(`cannot ${what} ${path}: no space left on device`, 'free space on the disk that holds /home/ana/.deployctl/history', { path, errno: 'ENOSPC' });

  /** From now on, writes of records matching `when` fail as on a full disk. */
  function refuse(world: FakeWorld, when: (r: DeployRecord) => boolean) {
    const write = world.history.write.bind(world.history);
    world.history.write = async (r) => {
      if (when(r)) throw full('write the record', `/home/ana/.deployctl/history/${r.id}.json`);
      return write(r);
    };
  }

  const failure = (promise: Promise<unknown>) => promise.then(() => expect.unreachable('it should fail'), (e: unknown) => e as StateWriteError);
  const ranVersions = (world: FakeWorld) => world.runners.flatMap((r) => r.ran.map((c) => c.args[1]));

  it('the lock: nothing runs, exit 2, saying what did not start', async () => {
    const world = fakeWorld();
    world.locks.acquire = async () => {
      throw full('create the lock', '/home/ana/.deployctl/locks/web_dev.lock');
    };
    const error = await failure(deployTarget(request('1.0.0'), world.deps));
    expect(error).toMatchObject({ code: 'state_write_failed', exitCode: 2 });
    expect(error.message).toBe('deploy of web 1.0.0 to dev did not start, nothing was run: cannot create the lock /home/ana/.deployctl/locks/web_dev.lock: no space left on device');
    expect(error.hint).toBe('free space on the disk that holds /home/ana/.deployctl/history; then run it again');
    expect(ranVersions(world)).toEqual([]);
  });

  it('the first record: nothing runs, exit 2, the lock released', async () => {
    const world = fakeWorld();
    refuse(world, () => true);
    const error = await failure(deployTarget(request('1.0.0'), world.deps));
    expect(error).toMatchObject({ code: 'state_write_failed', exitCode: 2, record: undefined });
    expect(error.message).toBe('deploy of web 1.0.0 to dev did not start, nothing was run: cannot write the record /home/ana/.deployctl/history/web_dev_0001.json: no space left on device');
    expect(ranVersions(world)).toEqual([]);
    expect(world.locks.released).toEqual(['web_dev']);
    expect(world.history.records.size).toBe(0);
  });

  it('the last record of a deploy that succeeded: exit 3, what ran, what runs, what the history shows, and the command that records it', async () => {
    const told: DeployRecord[] = [];
    const world = fakeWorld({ afterRecord: async (r) => void told.push(r), commandLine: 'deployctl deploy web -e dev --version 2.0.0' });
    await deployed(world, '1.0.0');
    refuse(world, (r) => r.version === '2.0.0' && r.status === 'succeeded');
    const error = await failure(deployTarget(request('2.0.0'), world.deps));
    expect(error).toMatchObject({ code: 'record_not_saved', exitCode: 3 });
    expect(error.message).toBe(
      [
        'deploy of web 2.0.0 to dev succeeded, but its record could not be saved: cannot write the record /home/ana/.deployctl/history/web_dev_0002.json: no space left on device',
        'ran: deploy-tool up (ok); health check passed',
        'as far as deployctl knows, web 2.0.0 now runs in dev and passed its health check',
        'the history still shows this deploy as running (read as interrupted once deployctl has exited), and status the version before it',
      ].join('\n'),
    );
    expect(error.hint).toBe('free space on the disk that holds /home/ana/.deployctl/history; then run `deployctl deploy web -e dev --version 2.0.0` again so that the history says what runs');
    expect(error.record).toMatchObject({ id: 'web_dev_0002', version: '2.0.0', status: 'succeeded' });
    expect(world.history.records.get('web_dev_0002')?.status).toBe('running');
    expect(world.locks.released).toEqual(['web_dev', 'web_dev']);
    // The team still hears of what ran.
    expect(told.map((r) => `${r.version} ${r.status}`)).toEqual(['1.0.0 succeeded', '2.0.0 succeeded']);
  });

  it('the last record of a deploy that failed: its own exit code, and no automatic rollback', async () => {
    const world = fakeWorld();
    await deployed(world, '1.0.0');
    world.unhealthy.add('2.0.0');
    refuse(world, (r) => r.version === '2.0.0' && r.status === 'failed');
    const error = await failure(deployTarget(request('2.0.0'), world.deps));
    expect(error).toMatchObject({ code: 'record_not_saved', exitCode: 4 });
    expect(error.message).toBe(
      [
        'deploy of web 2.0.0 to dev failed (health check failed: unhealthy after 1 attempt: status 503 (expected 2xx)), and its record could not be saved: cannot write the record /home/ana/.deployctl/history/web_dev_0002.json: no space left on device',
        'ran: deploy-tool up (ok); health check failed',
        'as far as deployctl knows, web 2.0.0 was applied to dev and failed its health check',
        'the history still shows this deploy as running (read as interrupted once deployctl has exited)',
        'not rolled back automatically: what a rollback did could not be recorded either',
      ].join('\n'),
    );
    expect(error.hint).toBe('free space on the disk that holds /home/ana/.deployctl/history; then roll back with `deployctl rollback web -e dev`, or deploy again');
    expect(ranVersions(world)).toEqual(['1.0.0', '2.0.0']);
  });

  it('a failed deploy, saved, whose rollback cannot start: the deploy\'s exit code, and the rollback left to do', async () => {
    const world = fakeWorld();
    await deployed(world, '1.0.0');
    world.broken.add('2.0.0');
    refuse(world, (r) => r.action === 'rollback');
    const error = await failure(deployTarget(request('2.0.0'), world.deps));
    expect(error).toMatchObject({ code: 'state_write_failed', exitCode: 3 });
    expect(error.message).toBe(
      [
        'deploy of web 2.0.0 to dev failed: deploy-tool up: exit code 1 (last output: boom: it broke) (record web_dev_0002)',
        'automatic rollback of web 1.0.0 to dev did not start, nothing was run: cannot write the record /home/ana/.deployctl/history/web_dev_0003.json: no space left on device',
      ].join('\n'),
    );
    expect(error.hint).toBe('free space on the disk that holds /home/ana/.deployctl/history; then roll back with `deployctl rollback web -e dev`');
    expect(world.history.records.get('web_dev_0002')?.status).toBe('failed');
    expect(ranVersions(world)).toEqual(['1.0.0', '2.0.0']);
  });

  it('a manual rollback falling through: the attempt that failed first, its exit code', async () => {
    const world = fakeWorld();
    await deployed(world, '0.9.0', '1.0.0', '2.0.0');
    world.unhealthy.add('1.0.0');
    refuse(world, (r) => r.action === 'rollback' && r.version === '0.9.0');
    const candidates = await goodRecords(world.history, 'web', 'dev', new Set(['2.0.0']));
    const error = await failure(
      rollbackTarget(candidates, { app: 'web', env: 'dev', environment: dev, dryRun: false, approved: false, interactive: false, autoRollback: false, waitLockMs: 0, tools: {} }, world.deps),
    );
    expect(error).toMatchObject({ code: 'state_write_failed', exitCode: 4 });
    expect(error.message).toBe(
      [
        'rollback of web 1.0.0 to dev failed: health check failed: unhealthy after 1 attempt: status 503 (expected 2xx) (record web_dev_0004)',
        'rollback of web 0.9.0 to dev did not start, nothing was run: cannot write the record /home/ana/.deployctl/history/web_dev_0005.json: no space left on device',
      ].join('\n'),
    );
    expect(world.locks.held.size).toBe(0);
  });

  it('a lock the disk will not let go: a warning saying how it goes, and the deployment\'s own exit code', async () => {
    const world = fakeWorld();
    const acquire = world.locks.acquire.bind(world.locks);
    world.locks.acquire = async (...args) => {
      const lock = await acquire(...args);
      return {
        ...lock,
        release: async () => {
          throw new StateWriteError('cannot remove the lock /h/locks/web_dev.lock: read-only file system', 'rm /h/locks/web_dev.lock when the disk allows it again', {
            path: '/h/locks/web_dev.lock',
            errno: 'EROFS',
          });
        },
      };
    };
    const outcome = await deployTarget(request('1.0.0'), world.deps);
    expect(outcome.exitCode).toBe(0);
    expect(world.events).toContainEqual({
      type: 'log',
      level: 'warn',
      message: 'cannot remove the lock /h/locks/web_dev.lock: read-only file system: rm /h/locks/web_dev.lock when the disk allows it again',
      target: webDev,
    });
  });
});
