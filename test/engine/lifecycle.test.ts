// The lifecycle as data: which phases run for a deploy, a rollback and a dry run, and a strategy of its
// own (blue-green's start new, check, switch, stop old) run by the same engine.
import { describe, expect, it } from 'vitest';
import { deployTarget, goodRecords, rollbackTarget, standardStrategy, strategyOf, type DeployRequest, type LifecyclePhase, type Strategy, type Target } from '../../src/engine/deploy.js';
import { phaseNames, type AttemptContext, type AttemptPhase } from '../../src/engine/lifecycle.js';
import { healthPhase, runCommands } from '../../src/engine/phases/attempt.js';
import type { DeployEvent } from '../../src/engine/events.js';
import type { AppConfig, EnvironmentConfig } from '../../src/config/types.js';
import type { Command } from '../../src/executors/types.js';
import { LockError } from '../../src/errors.js';
import { deployRequestOf, devEnvironment, fakeWorld, type FakeWorld } from '../support/fakes.js';

const dev: EnvironmentConfig = devEnvironment;

function config(extra: Partial<AppConfig> = {}): AppConfig {
  return {
    type: 'shell',
    path: '/srv/web',
    variables: {},
    secrets: [],
    timeout: 60_000,
    hooks: { pre_deploy: [['migrate', 'up']], post_deploy: [['announce', 'done']] },
    health_check: { type: 'http', url: 'http://127.0.0.1:8080/health' },
    rollback: { auto: true, max_attempts: 3 },
    ...extra,
  };
}

function request(version: string, extra: Partial<DeployRequest> = {}, target: Partial<Target> = {}): DeployRequest {
  return deployRequestOf(config(), version, extra, target);
}

/** The strategy, each phase writing its name to `ran` when it runs. */
function traced(strategy: Strategy, ran: string[]): Strategy {
  return {
    name: strategy.name,
    phases: strategy.phases.map(
      (phase) => ({ ...phase, run: (context: never) => (ran.push(phase.name), phase.run(context)) }) as LifecyclePhase,
    ),
  };
}

const ATTEMPT = ['prepare', 'start', 'pre_check', 'pre_deploy', 'deploy', 'verify', 'health', 'post_deploy', 'record'];

describe('the standard phases', () => {
  it('are a list: target phases around the attempt phases, a dry run leaving out what writes state or probes', () => {
    expect(phaseNames(standardStrategy, false)).toEqual(['tools', 'approve', 'lock', ...ATTEMPT, 'retention', 'unlock', 'notify']);
    expect(phaseNames(standardStrategy, true)).toEqual(['tools', 'prepare', 'start', 'pre_deploy', 'deploy', 'post_deploy', 'record']);
    for (const phase of standardStrategy.phases) {
      expect(phase.does, phase.name).not.toBe('');
      expect(['stop', 'untouched', 'roll-back', 'warn']).toContain(phase.onFailure);
    }
  });

  const deployedBefore = async (world: FakeWorld) => {
    for (const v of ['0.9.0', '1.0.0']) expect((await deployTarget(request(v), world.deps)).exitCode).toBe(0);
  };

  it.each<[string, (world: FakeWorld, strategy: Strategy) => Promise<unknown>, string[]]>([
    ['a deploy', (w, strategy) => deployTarget(request('2.0.0', { strategy }), w.deps), ['tools', 'approve', 'lock', ...ATTEMPT, 'retention', 'unlock', 'notify']],
    [
      'a dry run: no approval, lock, checks, retention or notification',
      (w, strategy) => deployTarget(request('2.0.0', { strategy, dryRun: true }), w.deps),
      ['tools', 'prepare', 'start', 'pre_deploy', 'deploy', 'post_deploy', 'record'],
    ],
    [
      'a rollback by hand',
      async (w, strategy) => rollbackTarget(await goodRecords(w.history, 'web', 'dev', new Set(['1.0.0'])), { ...request('x', { strategy }), app: 'web', env: 'dev', environment: dev }, w.deps),
      ['tools', 'approve', 'lock', ...ATTEMPT, 'retention', 'unlock', 'notify'],
    ],
    [
      'a deploy whose health check fails: the record saved, post_deploy skipped, then the rollback attempt under the same lock',
      (w, strategy) => (w.unhealthy.add('2.0.0'), deployTarget(request('2.0.0', { strategy }), w.deps)),
      ['tools', 'approve', 'lock', ...ATTEMPT.filter((p) => p !== 'post_deploy'), ...ATTEMPT, 'retention', 'unlock', 'notify'],
    ],
    [
      'a deploy whose pre_deploy hook fails',
      (w, strategy) => (w.broken.add('up'), deployTarget(request('2.0.0', { strategy, autoRollback: false }), w.deps)),
      ['tools', 'approve', 'lock', 'prepare', 'start', 'pre_check', 'pre_deploy', 'record', 'retention', 'unlock', 'notify'],
    ],
    [
      'a deploy whose lock is held: the phases after it that always run, and nothing else',
      (w, strategy) => {
        w.locks.acquire = async () => {
          throw new LockError('lock held');
        };
        return deployTarget(request('2.0.0', { strategy }), w.deps).catch((e: unknown) => e);
      },
      ['tools', 'approve', 'lock', 'unlock', 'notify'],
    ],
  ])('%s', async (_name, run, expected) => {
    const world = fakeWorld();
    await deployedBefore(world);
    const ran: string[] = [];
    await run(world, traced(standardStrategy, ran));
    expect(ran).toEqual(expected);
  });

  it('a dry run goes through the same phases with a runner that runs only what reads: the record is made, not stored', async () => {
    const world = fakeWorld();
    const readOnly = (input: { config: AppConfig }): Command => ({ file: 'deploy-tool', args: ['plan', '2.0.0'], cwd: input.config.path, env: {}, timeoutMs: 1000, mutates: false, label: 'deploy-tool plan', phase: 'deploy' });
    world.deps.getExecutor = async () => ({
      type: 'shell',
      tools: () => [],
      plan: async (input) => ({ commands: [readOnly(input), { ...readOnly(input), args: ['up', '2.0.0'], mutates: true, label: 'deploy-tool up' }], artifacts: {}, notes: ['a note'] }),
    });
    const outcome = await deployTarget(request('2.0.0', { dryRun: true }), world.deps);
    expect(outcome.exitCode).toBe(0);
    expect(outcome.dryRun).toEqual({
      steps: [
        { phase: 'pre_deploy', label: 'pre_deploy hook 1', argv: ['migrate', 'up'], command: 'migrate up', shell: false, cwd: '/srv/web', mutates: true },
        { phase: 'deploy', label: 'deploy-tool plan', argv: ['deploy-tool', 'plan', '2.0.0'], command: 'deploy-tool plan 2.0.0', shell: false, cwd: '/srv/web', mutates: false },
        { phase: 'deploy', label: 'deploy-tool up', argv: ['deploy-tool', 'up', '2.0.0'], command: 'deploy-tool up 2.0.0', shell: false, cwd: '/srv/web', mutates: true },
        { phase: 'post_deploy', label: 'post_deploy hook 1', argv: ['announce', 'done'], command: 'announce done', shell: false, cwd: '/srv/web', mutates: true },
      ],
      notes: ['a note'],
    });
    expect(world.runners.flatMap((r) => r.ran.map((c) => c.args))).toEqual([['plan', '2.0.0']]);
    expect(outcome.record.steps.map((s) => [s.label, Boolean(s.skipped)])).toEqual([
      ['pre_deploy hook 1', true],
      ['deploy-tool plan', false],
      ['deploy-tool up', true],
      ['post_deploy hook 1', true],
    ]);
    const shown = world.events.flatMap((e) => (e.type === 'step-start' ? [`${e.dryRun ? 'would run' : '$'} ${e.command.join(' ')}`] : []));
    expect(shown).toEqual(['would run migrate up', '$ deploy-tool plan 2.0.0', 'would run deploy-tool up 2.0.0', 'would run announce done']);
    expect(world.events.filter((e) => e.type === 'phase' && (e.phase === 'lock' || e.phase === 'record'))).toEqual([]);
    expect(world.history.records.size).toBe(0);
    expect(world.locks.released).toEqual([]);
  });

  it('a read-only command that fails in a dry run ends it (exit 3) with nothing stored and no rollback', async () => {
    const world = fakeWorld();
    world.broken.add('plan');
    world.deps.getExecutor = async () => ({
      type: 'shell',
      tools: () => [],
      plan: async (input) => ({ commands: [{ file: 'deploy-tool', args: ['plan', input.version], cwd: '/', env: {}, timeoutMs: 1000, mutates: false, label: 'deploy-tool plan', phase: 'deploy' }], artifacts: {}, notes: [] }),
    });
    const outcome = await deployTarget(request('2.0.0', { dryRun: true }), world.deps);
    expect(outcome.exitCode).toBe(3);
    expect(outcome.record).toMatchObject({ status: 'failed', error: { code: 'deploy_failed', message: 'deploy-tool plan: exit code 1 (last output: boom: it broke)' } });
    expect(outcome.rollbacks).toEqual([]);
    expect(world.history.records.size).toBe(0);
  });
});

/** Blue-green as a strategy of its own: each phase runs one command of the fake executor's tool. */
function step(name: string, verb: string, mutates = true): AttemptPhase {
  return {
    scope: 'attempt',
    name,
    does: `${verb} through deploy-tool`,
    onFailure: 'roll-back',
    dryRun: 'run',
    async run(context: AttemptContext) {
      const command: Command = { file: 'deploy-tool', args: [verb, context.target.version], cwd: '/srv/web', env: context.input.childEnv, timeoutMs: 1000, mutates, label: `deploy-tool ${verb}`, phase: 'deploy' };
      context.commands[name] = [command];
      return runCommands(context, name, { keep: true });
    },
  };
}

const blueGreen = strategyOf('blue-green', [step('start_new', 'start-green'), { ...healthPhase, name: 'check' }, step('switch', 'switch-to-green'), step('stop_old', 'stop-blue')]);

describe('a strategy of its own (blue-green: start new, check, switch, stop old)', () => {
  const phaseEvents = (events: DeployEvent[]) => events.flatMap((e) => (e.type === 'phase' ? [`${e.phase} ${e.status}`] : []));

  it('runs through the same engine: the lock, its phases in order, the record, the release', async () => {
    const world = fakeWorld();
    const outcome = await deployTarget(request('2.0.0', { strategy: blueGreen }, { config: config({ hooks: {} }) }), world.deps);
    expect(outcome.exitCode).toBe(0);
    expect(phaseNames(blueGreen, false)).toEqual(['tools', 'approve', 'lock', 'prepare', 'start', 'start_new', 'check', 'switch', 'stop_old', 'record', 'retention', 'unlock', 'notify']);
    expect(phaseEvents(world.events)).toEqual([
      'lock start',
      'lock done',
      'start_new start',
      'start_new done',
      'health start',
      'health done',
      'switch start',
      'switch done',
      'stop_old start',
      'stop_old done',
      'record done',
    ]);
    expect(world.runners.flatMap((r) => r.ran.map((c) => c.args.join(' ')))).toEqual(['start-green 2.0.0', 'switch-to-green 2.0.0', 'stop-blue 2.0.0']);
    const stored = world.history.records.get(outcome.record.id);
    expect(stored).toMatchObject({ version: '2.0.0', status: 'succeeded', healthy: true });
    expect(stored?.steps.map((s) => s.label)).toEqual(['deploy-tool start-green', 'deploy-tool switch-to-green', 'deploy-tool stop-blue']);
    expect(world.locks.released).toEqual(['web_dev']);
  });

  it('a failed check stops before the switch, and the automatic rollback goes through the same strategy', async () => {
    const world = fakeWorld();
    expect((await deployTarget(request('1.0.0', { strategy: blueGreen }, { config: config({ hooks: {} }) }), world.deps)).exitCode).toBe(0);
    world.runners.length = 0;
    world.unhealthy.add('2.0.0');
    const outcome = await deployTarget(request('2.0.0', { strategy: blueGreen }, { config: config({ hooks: {} }) }), world.deps);
    expect(outcome.exitCode).toBe(4);
    expect(outcome.record).toMatchObject({ status: 'rolled_back', bad: true, error: { code: 'health_failed' } });
    expect(outcome.rollbacks.map((r) => [r.action, r.version, r.status])).toEqual([['rollback', '1.0.0', 'succeeded']]);
    expect(world.runners.flatMap((r) => r.ran.map((c) => c.args.join(' ')))).toEqual(['start-green 2.0.0', 'start-green 1.0.0', 'switch-to-green 1.0.0', 'stop-blue 1.0.0']);
  });

  it('in a dry run shows its commands and runs none that change anything', async () => {
    const world = fakeWorld();
    const peek: AttemptPhase = step('peek', 'status', false);
    const outcome = await deployTarget(request('2.0.0', { dryRun: true, strategy: strategyOf('blue-green', [peek, ...blueGreen.phases.filter((p) => p.name === 'switch')]) }, { config: config({ hooks: {} }) }), world.deps);
    expect(outcome.exitCode).toBe(0);
    expect(world.runners.flatMap((r) => r.ran.map((c) => c.args.join(' ')))).toEqual(['status 2.0.0']);
    expect(outcome.record.steps.map((s) => [s.label, Boolean(s.skipped)])).toEqual([
      ['deploy-tool status', false],
      ['deploy-tool switch-to-green', true],
    ]);
    expect(world.history.records.size).toBe(0);
  });
});

describe('events carry their target', () => {
  it('two deployments at once through one sink: each event names its app, environment and record', async () => {
    const world = fakeWorld();
    const [web, api] = await Promise.all([
      deployTarget(request('1.0.0'), world.deps),
      deployTarget(request('3.0.0', {}, { app: 'api', config: config({ hooks: {} }) }), world.deps),
    ]);
    expect(world.events.every((e) => e.target !== undefined)).toBe(true);
    const of = (app: string) => world.events.filter((e) => e.target?.app === app);
    for (const [app, outcome] of [['web', web!], ['api', api!]] as const) {
      const events = of(app);
      expect(events.every((e) => e.target?.env === 'dev')).toBe(true);
      expect(events.find((e) => e.type === 'started')).toMatchObject({ app, recordId: outcome.record.id, target: { app, env: 'dev', recordId: outcome.record.id } });
      expect(events.find((e) => e.type === 'finished')).toMatchObject({ record: { id: outcome.record.id }, target: { recordId: outcome.record.id } });
      // The lock is taken before there is a record: its events name the target alone.
      expect(events.find((e) => e.type === 'phase' && e.phase === 'lock')?.target).toEqual({ app, env: 'dev' });
      // Every step of the record is reported under the record's id.
      const steps = events.filter((e) => e.type === 'step-end');
      expect(steps.length).toBe(outcome.record.steps.length);
      expect(steps.every((e) => e.target?.recordId === outcome.record.id)).toBe(true);
    }
  });
});

describe('the engine holds no state of its own', () => {
  it('two engines at once, each with its own deps, share nothing: records, locks, events', async () => {
    const [one, two] = [fakeWorld(), fakeWorld()];
    const [a, b] = await Promise.all([deployTarget(request('1.0.0'), one.deps), deployTarget(request('2.0.0'), two.deps)]);
    expect([a!.exitCode, b!.exitCode]).toEqual([0, 0]);
    expect([...one.history.records.values()].map((r) => r.version)).toEqual(['1.0.0']);
    expect([...two.history.records.values()].map((r) => r.version)).toEqual(['2.0.0']);
    expect([one.locks.released, two.locks.released]).toEqual([['web_dev'], ['web_dev']]);
    expect(one.events.some((e) => e.type === 'started' && e.version === '2.0.0')).toBe(false);
    expect(two.events.some((e) => e.type === 'started' && e.version === '1.0.0')).toBe(false);
  });
});
