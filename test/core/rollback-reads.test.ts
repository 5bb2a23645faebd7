// A rollback reads its candidates one at a time: the index chooses them, and a record is read only
// when the rollback gets to it, however long the history.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { deploy } from '../../src/core/deploy.js';
import { rollback } from '../../src/core/rollback.js';
import { createMemoryData, createMemoryState } from '../../src/state/memory-store.js';
import { record } from '../support/records.js';
import { coreWorld } from './support.js';

describe('a rollback reads the records it tries, not every good one', () => {
  it('over 500 good records, it reads a handful', async () => {
    const state = createMemoryState(createMemoryData(), process.pid);
    const world = await coreWorld({ state });
    const first = await deploy({ app: 'svc', env: 'dev', version: '1.0.0' }, world.core);
    expect(first.exitCode).toBe(0);
    // A long history of good versions, each deployable from its stored config.
    for (let i = 1; i <= 500; i++) await state.history.write(record('svc', 'dev', `1.0.${i}`, { config: first.record.config, artifacts: first.record.artifacts }));
    let reads = 0;
    const get = state.history.get.bind(state.history);
    state.history.get = async (id) => (reads++, get(id));
    const outcome = await rollback({ app: 'svc', env: 'dev' }, world.core);
    expect(outcome.record).toMatchObject({ action: 'rollback', version: '1.0.499', status: 'succeeded' });
    expect(reads).toBeLessThanOrEqual(3);
  });

  it('on the file backend, damaged older records are never touched while the newest candidate works', async () => {
    const world = await coreWorld();
    const ids: Record<string, string> = {};
    for (const version of ['1.0.0', '1.1.0', '1.2.0', '1.3.0']) {
      const outcome = await deploy({ app: 'svc', env: 'dev', version }, world.core);
      expect(outcome.exitCode).toBe(0);
      ids[version] = outcome.record.id;
    }
    for (const version of ['1.0.0', '1.1.0']) writeFileSync(join(world.home, 'history', `${ids[version]}.json`), '{ damaged');
    const history = (await world.core.state()).history;
    const outcome = await rollback({ app: 'svc', env: 'dev' }, world.core);
    expect(outcome.record).toMatchObject({ version: '1.2.0', status: 'succeeded' });
    expect(history.warnings()).toEqual([]);
    // Reaching them, the store says so: the first test could fail.
    await expect(rollback({ app: 'svc', env: 'dev' }, world.core)).rejects.toThrow('nothing older to roll back to');
    expect(history.warnings().join('\n')).toContain(ids['1.1.0']);
  });
});
