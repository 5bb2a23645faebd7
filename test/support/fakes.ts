// In-memory stand-ins for the engine's dependencies, for orchestrator tests.
import type { DeployRequest, EngineDeps, Target } from '../../src/engine/deploy.js';
import type { AppConfig, EnvironmentConfig } from '../../src/config/types.js';
import type { DeployEvent } from '../../src/engine/events.js';
import type { Command, Executor, PlanInput, RunResult, Runner } from '../../src/executors/types.js';
import type { DeployRecord, HealthResult, HistoryQuery, HistoryStore, IndexEntry, LockInfo, LockManager } from '../../src/state/types.js';
import { LockError } from '../../src/errors.js';
import { entryOf } from '../../src/state/record-files.js';
import { headOf } from '../../src/state/target-index.js';

export class MemoryHistory implements HistoryStore {
  records = new Map<string, DeployRecord>();
  async write(record: DeployRecord) {
    this.records.set(record.id, structuredClone(record));
  }
  async get(id: string) {
    return this.records.get(id);
  }
  async list(query: HistoryQuery) {
    return [...this.records.values()]
      .filter((r) => (!query.app || r.app === query.app) && (!query.env || r.env === query.env) && (!query.status || r.status === query.status))
      .sort((a, b) => (a.id < b.id ? 1 : -1))
      .slice(0, query.limit ?? Infinity);
  }
  async entries(query: HistoryQuery) {
    return this.list(query);
  }
  async *walk(app: string, env: string, options: { pick?: (entry: IndexEntry) => boolean; limit?: number } = {}) {
    for (const entry of await this.entries({ app, env, limit: options.limit })) {
      if (options.pick && !options.pick(entry)) continue;
      const record = await this.get(entry.id);
      if (record) yield record;
    }
  }
  async latest(app: string, env: string) {
    return (await this.list({ app, env, limit: 1 }))[0];
  }
  async current() {
    return [];
  }
  async heads(filter: { app?: string; env?: string } = {}) {
    const heads = [];
    for (const { app, env } of await this.targets()) {
      if ((filter.app && app !== filter.app) || (filter.env && env !== filter.env)) continue;
      const head = headOf({ app, env, entries: (await this.list({ app, env })).map(entryOf) });
      if (head) heads.push(head);
    }
    return heads;
  }
  async targets() {
    return [...new Map([...this.records.values()].map((r) => [`${r.app}/${r.env}`, { app: r.app, env: r.env }])).values()];
  }
  async interruptInFlight(app: string, env: string, message: (r: DeployRecord) => string) {
    const settled: DeployRecord[] = [];
    for (const r of await this.list({ app, env })) {
      if (r.status !== 'pending' && r.status !== 'running') continue;
      const done = { ...r, status: 'interrupted' as const, error: { code: 'interrupted', message: message(r) } };
      this.records.set(r.id, done);
      settled.push(done);
    }
    return settled;
  }
  async prune(_options: Parameters<HistoryStore['prune']>[0]): Promise<{ deleted: string[] }> {
    return { deleted: [] };
  }
  warnings() {
    return [];
  }
}

export class MemoryLocks implements LockManager {
  held = new Map<string, LockInfo>();
  released: string[] = [];
  async acquire(app: string, env: string, options: { command: string }) {
    const key = `${app}_${env}`;
    if (this.held.has(key)) throw new LockError(`lock held for ${key}`);
    const info: LockInfo = { app, env, pid: 1, host: 'h', user: 'u', command: options.command, startedAt: '', refreshedAt: '', token: 't' };
    this.held.set(key, info);
    return {
      info,
      release: async () => {
        this.held.delete(key);
        this.released.push(key);
      },
    };
  }
  async inspect(app: string, env: string) {
    const holder = this.held.get(`${app}_${env}`);
    return holder && { holder, state: 'alive' as const, local: true, description: `${holder.user}@${holder.host}` };
  }
  async holders() {
    return [...this.held.values()].map((holder) => ({ holder, state: 'alive' as const, local: true, description: `${holder.user}@${holder.host}` }));
  }
  async remove() {
    return undefined;
  }
}

/** A runner whose commands succeed unless `fail` says otherwise; it records every command it was given. */
export class FakeRunner implements Runner {
  ran: Command[] = [];
  constructor(
    private readonly dryRun: boolean,
    private readonly outcome: (command: Command) => Partial<RunResult> = () => ({}),
  ) {}
  shows(command: Command): boolean {
    return this.dryRun && command.mutates;
  }
  async run(command: Command, onLine?: (line: string, stream: 'stdout' | 'stderr') => void): Promise<RunResult> {
    if (this.shows(command)) return { exitCode: 0, output: '', stdout: '', durationMs: 0, timedOut: false, interrupted: false, skipped: true };
    this.ran.push(command);
    const result = { exitCode: 0, output: '', stdout: '', durationMs: 5, timedOut: false, interrupted: false, ...this.outcome(command) };
    for (const line of result.output.split('\n').filter(Boolean)) onLine?.(line, 'stdout');
    return result;
  }
  async stopAll() {}
}

/** An executor of one command per deploy: `deploy <version>`. */
export const echoExecutor: Executor = {
  type: 'shell',
  tools: () => ['deploy-tool'],
  async plan(input: PlanInput) {
    return {
      commands: [
        {
          file: 'deploy-tool',
          args: ['up', input.version],
          cwd: input.config.path,
          env: input.childEnv,
          timeoutMs: input.config.timeout,
          mutates: true,
          label: 'deploy-tool up',
          phase: 'deploy',
        },
      ],
      artifacts: { rendered: `v=${input.version}` },
      notes: [],
    };
  },
};

export interface FakeWorld {
  deps: EngineDeps;
  history: MemoryHistory;
  locks: MemoryLocks;
  events: DeployEvent[];
  runners: FakeRunner[];
  /** Versions whose health check fails. */
  unhealthy: Set<string>;
  /** Versions whose deploy command fails. */
  broken: Set<string>;
}

export function fakeWorld(overrides: Partial<EngineDeps> = {}): FakeWorld {
  const history = new MemoryHistory();
  const locks = new MemoryLocks();
  const events: DeployEvent[] = [];
  const runners: FakeRunner[] = [];
  const unhealthy = new Set<string>();
  const broken = new Set<string>();
  let clock = Date.parse('2026-11-24T10:00:00Z');
  let seq = 0;
  const deps: EngineDeps = {
    history,
    locks,
    createRunner: ({ dryRun }) => {
      const runner = new FakeRunner(dryRun, (command) =>
        command.args.some((a) => broken.has(a)) ? { exitCode: 1, output: 'boom: it broke' } : { output: `up ${command.args[1] ?? ''}` },
      );
      runners.push(runner);
      return runner;
    },
    getExecutor: async () => echoExecutor,
    planHooks: (input, phase) =>
      ((input.config.hooks?.[phase] ?? []) as string[][]).map((argv, i) => ({
        file: argv[0]!,
        args: argv.slice(1),
        cwd: input.config.path,
        env: input.childEnv,
        timeoutMs: input.config.timeout,
        mutates: true,
        label: `${phase} hook ${i + 1}`,
        phase,
      })),
    runHealthCheck: async (_check, { onAttempt }): Promise<HealthResult> => {
      const version = lastDeployedVersion(runners);
      const ok = !unhealthy.has(version);
      const attempt = { attempt: 1, ok, message: ok ? 'status 200' : 'status 503 (expected 2xx)', latencyMs: 3, at: '' };
      onAttempt(attempt);
      return { ok, message: ok ? 'healthy after 1 attempt' : 'unhealthy after 1 attempt: status 503 (expected 2xx)', attempts: [attempt], durationMs: 3 };
    },
    resolveTools: (names) => Object.fromEntries(names.map((n) => [n, `/usr/bin/${n}`])),
    newRecordId: (app, env) => `${app}_${env}_${String(++seq).padStart(4, '0')}`,
    confirm: async () => false,
    emit: (e) => events.push(e),
    now: () => new Date((clock += 1000)),
    identity: { user: 'ana', host: 'laptop', pid: 42 },
    commandLine: 'deployctl deploy',
    processEnv: {},
    ...overrides,
  };
  return { deps, history, locks, events, runners, unhealthy, broken };
}

function lastDeployedVersion(runners: FakeRunner[]): string {
  for (let i = runners.length - 1; i >= 0; i--) {
    const ran = runners[i]!.ran.filter((c) => c.file === 'deploy-tool');
    if (ran.length) return ran[ran.length - 1]!.args[1]!;
  }
  return '';
}

/** What an executor plans from: web 1.4.2 in prod, a shell app in /srv/app with `config` over the defaults; `extra` overrides. */
export function planInputOf(config: Partial<AppConfig>, extra: Partial<PlanInput> = {}): PlanInput {
  return {
    app: 'web',
    env: 'prod',
    version: '1.4.2',
    recordId: 'web_prod_1',
    config: { type: 'shell', path: '/srv/app', variables: {}, secrets: [], timeout: 120_000, hooks: {}, rollback: { auto: true, max_attempts: 3 }, ...config },
    childEnv: { DEPLOY_VERSION: '1.4.2' },
    tools: {},
    dryRun: false,
    ...extra,
  };
}

/** An unprotected `dev` environment with nothing in it. */
export const devEnvironment: EnvironmentConfig = { name: 'dev', protected: false, requires: [], variables: {}, settings: {} };

/** A deploy of `web` in dev at `version` with `config`, approved by no one, not interactive; `extra` and `target` override. */
export function deployRequestOf(config: AppConfig, version: string, extra: Partial<DeployRequest> = {}, target: Partial<Target> = {}): DeployRequest {
  return {
    target: { app: 'web', env: 'dev', version, config, environment: devEnvironment, secretValues: [], ...target },
    action: 'deploy',
    dryRun: false,
    approved: false,
    interactive: false,
    autoRollback: true,
    waitLockMs: 0,
    tools: {},
    ...extra,
  };
}
