// Deployment records for state tests: one a minute apart, written by this process on this host.
import { hostname } from 'node:os';
import { newRecordId } from '../../src/state/history.js';
import { ensureHome } from '../../src/state/paths.js';
import type { DeployRecord } from '../../src/state/types.js';
import { tempDir } from './cli.js';

/** A state folder made as state/open.ts makes it before opening a store: a new temp folder, or `home`. */
export async function stateHome(home = tempDir()): Promise<string> {
  await ensureHome(home);
  return home;
}

let clock = Date.parse('2026-11-24T10:00:00Z');

export function record(app: string, env: string, version: string, extra: Partial<DeployRecord> = {}): DeployRecord {
  const at = new Date((clock += 60_000));
  return {
    schemaVersion: 1,
    id: newRecordId(app, env, at),
    app,
    env,
    version,
    action: 'deploy',
    status: 'succeeded',
    startedAt: at.toISOString(),
    finishedAt: at.toISOString(),
    durationMs: 1000,
    user: 'ana',
    host: hostname(),
    pid: process.pid,
    command: 'deployctl deploy',
    config: {},
    artifacts: {},
    steps: [],
    healthy: true,
    ...extra,
  };
}
