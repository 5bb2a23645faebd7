// The application core with fakes around it: a config folder in a temp dir, the real file state store,
// and a fake runner behind the echo executor (test/support/fakes.ts).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Approver, CoreDeps, EngineParts } from '../../src/core/deps.js';
import type { DeployEvent } from '../../src/engine/events.js';
import type { Command, RunResult } from '../../src/executors/types.js';
import type { HealthResult } from '../../src/state/types.js';
import { openState } from '../../src/state/open.js';
import type { StateStore } from '../../src/state/port.js';
import { echoExecutor, FakeRunner } from '../support/fakes.js';
import { tempDir } from '../support/cli.js';

export interface CoreWorld {
  core: CoreDeps;
  events: DeployEvent[];
  /** The version of each deploy command the fake runner ran, in order. */
  ran: string[];
  /** Versions whose deploy command fails ("v is broken"). */
  broken: Set<string>;
  /** When set, every deploy command fails with this line, whatever its version (a cause that is not the version). */
  failAll: { line?: string };
  /** Questions the approver was asked. */
  asked: string[];
  home: string;
  configDir: string;
}

export const SHELL_APP = ['deployments:', '  svc:', '    type: shell', '    commands: [[deploy-tool, up]]', ''].join('\n');

export async function coreWorld(
  options: { deployments?: string; environments?: string; approver?: Partial<Approver> & { answer?: boolean }; /** Default: the file store in `home`. */ state?: StateStore } = {},
): Promise<CoreWorld> {
  const configDir = tempDir('deployctl-core-');
  writeFileSync(join(configDir, 'environments.yaml'), options.environments ?? 'environments:\n  dev: {}\n  prod: {}\n');
  writeFileSync(join(configDir, 'deployments.yaml'), options.deployments ?? SHELL_APP);
  const home = tempDir('deployctl-core-home-');
  const state = options.state ?? (await openState(`file:${home}`));
  const events: DeployEvent[] = [];
  const ran: string[] = [];
  const broken = new Set<string>();
  const failAll: { line?: string } = {};
  const asked: string[] = [];
  const outcome = (command: Command): Partial<RunResult> => {
    const version = command.args[1] ?? '';
    ran.push(version);
    if (failAll.line) return { exitCode: 1, output: failAll.line };
    if (broken.has(version)) return { exitCode: 1, output: `${version} is broken` };
    return { output: `up ${version}` };
  };
  const parts: EngineParts = {
    createRunner: ({ dryRun }) => new FakeRunner(dryRun, outcome),
    getExecutor: async () => echoExecutor,
    planHooks: () => [],
    runHealthCheck: async (): Promise<HealthResult> => ({ ok: true, message: 'healthy', attempts: [], durationMs: 1 }),
    resolveTools: (names) => Object.fromEntries(names.map((n) => [n, `/usr/bin/${n}`])),
  };
  let clock = Date.parse('2026-11-24T10:00:00Z');
  const answer = options.approver?.answer ?? false;
  const core: CoreDeps = {
    state: async () => state,
    configDir,
    env: {},
    engine: async () => parts,
    clock: () => new Date((clock += 1000)),
    identity: { user: 'ana', host: 'laptop', pid: process.pid },
    commandLine: 'deployctl (test)',
    emit: (event) => events.push(event),
    approver: {
      approved: options.approver?.approved ?? false,
      canAsk: options.approver?.canAsk ?? false,
      ask: async (question) => {
        asked.push(question);
        return answer;
      },
    },
  };
  return { core, events, ran, broken, failAll, asked, home, configDir };
}
