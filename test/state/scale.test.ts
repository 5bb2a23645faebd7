// What status, list and history cost does not grow with the history: at 20,000 records over 1,000
// targets they read one summary, and `history --limit 20` about 20 indexes and the 20 records it shows.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { generateRecords } from '../../bench/records.mjs';
import { FileHistoryStore } from '../../src/state/history.js';
import { RecordFiles } from '../../src/state/record-files.js';
import { IndexFiles } from '../../src/state/target-index.js';
import { cleanEnv, runCli, tempDir } from '../support/cli.js';

const APPS = 100;
const ENVS = 10;
const COUNT = 20_000;
const app = (t: number) => `app${String(t % APPS).padStart(3, '0')}`;
const env = (t: number) => `env${Math.floor(t / APPS)}`;
const targets = Array.from({ length: APPS * ENVS }, (_, t) => [app(t), env(t)]);
/** bench/records.mjs: record i goes to target i % 1000 and fails when i % 10 == 3, so a target's records all succeed or all fail. */
const newestOf = (t: number) => COUNT - APPS * ENVS + t;
const runs = (t: number) => (t % 10 === 3 ? null : `1.0.${newestOf(t)}`);

let home: string;
beforeAll(async () => {
  home = tempDir('deployctl-scale-');
  await generateRecords(home, COUNT, targets);
}, 120_000);

afterEach(() => vi.restoreAllMocks());

describe('a history of 20,000 records over 1,000 targets', () => {
  it('status reads one summary: no record, no index', async () => {
    const records = vi.spyOn(RecordFiles.prototype, 'read');
    const indexes = vi.spyOn(IndexFiles.prototype, 'read');
    const heads = await new FileHistoryStore(home).heads();
    expect(heads).toHaveLength(1000);
    expect(heads.map((h) => `${h.app}/${h.env} ${h.last.version} ${h.latest.succeeded?.version ?? null}`)).toEqual(
      targets
        .map((_, t) => t)
        .sort((a, b) => (app(a) === app(b) ? (env(a) < env(b) ? -1 : 1) : app(a) < app(b) ? -1 : 1))
        .map((t) => `${app(t)}/${env(t)} 1.0.${newestOf(t)} ${runs(t)}`),
    );
    expect(records).not.toHaveBeenCalled();
    expect(indexes).not.toHaveBeenCalled();
  });

  it('history --limit 20 reads the 20 records it shows and about 20 indexes; one target\'s reads one index only', async () => {
    const records = vi.spyOn(RecordFiles.prototype, 'read');
    const indexes = vi.spyOn(IndexFiles.prototype, 'read');
    const store = new FileHistoryStore(home);
    const recent = await store.list({ limit: 20 });
    expect(recent.map((r) => r.version)).toEqual(Array.from({ length: 20 }, (_, i) => `1.0.${COUNT - 1 - i}`));
    expect(records).toHaveBeenCalledTimes(20);
    expect(indexes.mock.calls.length).toBeLessThanOrEqual(21);
    records.mockClear();
    indexes.mockClear();
    expect((await store.entries({ app: 'app007', env: 'env3', limit: 20 })).map((e) => e.version)[0]).toBe(`1.0.${newestOf(307)}`);
    expect(records).not.toHaveBeenCalled();
    expect(indexes).toHaveBeenCalledTimes(1);
    expect(store.warnings()).toEqual([]);
  });

  it('the built CLI: status and list show every target with the history folder emptied (they read no record)', async () => {
    const copy = tempDir('deployctl-scale-copy-');
    const { cpSync } = await import('node:fs');
    cpSync(join(home, 'index'), join(copy, 'index'), { recursive: true });
    for (const dir of ['history', 'locks']) mkdirSync(join(copy, dir), { mode: 0o700 });
    const config = tempDir('deployctl-scale-config-');
    writeFileSync(join(config, 'environments.yaml'), `environments:\n${Array.from({ length: ENVS }, (_, e) => `  env${e}: {}\n`).join('')}`);
    writeFileSync(
      join(config, 'deployments.yaml'),
      `deployments:\n${Array.from({ length: APPS }, (_, a) => `  ${app(a)}:\n    type: shell\n    commands: [["true"]]\n`).join('')}`,
    );
    const cliEnv = cleanEnv({ DEPLOYCTL_HOME: copy, DEPLOYCTL_CONFIG_DIR: config });
    const status = await runCli(['status', '--json'], { env: cliEnv });
    expect(status.stderr).toBe('');
    expect(status.code).toBe(0);
    const shown = JSON.parse(status.stdout).targets as Array<{ app: string; env: string; version: string | null; last: { version: string; status: string } }>;
    expect(shown).toHaveLength(1000);
    expect(shown.find((t) => t.app === 'app007' && t.env === 'env3')).toMatchObject({ version: runs(307), last: { version: `1.0.${newestOf(307)}`, status: 'succeeded' } });
    expect(shown.find((t) => t.app === 'app003' && t.env === 'env0')).toMatchObject({ version: null, last: { status: 'failed' } });
    const list = await runCli(['list', '--json'], { env: cliEnv });
    expect(list.stderr).toBe('');
    const apps = JSON.parse(list.stdout).apps as Array<{ app: string; environments: Record<string, { version: string | null }> }>;
    expect(apps).toHaveLength(100);
    expect(apps.find((a) => a.app === 'app007')!.environments.env3!.version).toBe(runs(307));
    rmSync(copy, { recursive: true, force: true });
  }, 60_000);
});
