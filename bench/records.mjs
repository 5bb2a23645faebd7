// Synthetic history for the benchmarks (and the test of a large history): records written straight to
// a state folder in deployctl's format, each target's index written once at the end. Kept out of the
// shipped code; test/state/history.test.ts and test/state/scale.test.ts check that the store reads what
// this writes, the summary of every target's head included.
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** src/state/history.ts INDEX_CAP: how many of a target's newest records its index lists. */
export const INDEX_CAP = 500;

const stamp = (date) => date.toISOString().replace(/[-:]/g, '').replace('.', '');
const newestFirst = (a, b) => (a.startedAt === b.startedAt ? (a.id < b.id ? 1 : -1) : a.startedAt < b.startedAt ? 1 : -1);

/** Write `count` records spread over the given targets, oldest first, one a minute apart from 2026-01-01. */
export async function generateRecords(home, count, targets = [['noop', 'dev'], ['noop', 'prod']]) {
  for (const dir of ['', 'history', 'index', 'locks']) mkdirSync(join(home, dir), { recursive: true, mode: 0o700 });
  const start = Date.parse('2026-01-01T00:00:00Z');
  const byTarget = new Map();
  for (let i = 0; i < count; i++) {
    const [app, env] = targets[i % targets.length];
    const at = new Date(start + i * 60_000);
    const failed = i % 10 === 3;
    const entry = {
      id: `${app}_${env}_${stamp(at)}_${randomBytes(3).toString('hex')}`,
      app,
      env,
      version: `1.0.${i}`,
      action: 'deploy',
      status: failed ? 'failed' : 'succeeded',
      startedAt: at.toISOString(),
      finishedAt: new Date(at.getTime() + 5000).toISOString(),
      durationMs: 5000,
      user: 'bench',
      host: 'bench-host',
      pid: 1,
      healthy: !failed,
    };
    const record = { schemaVersion: 1, ...entry, command: `deployctl deploy ${app} -e ${env}`, config: { type: 'shell' }, artifacts: {}, steps: [] };
    writeFileSync(join(home, 'history', `${entry.id}.json`), JSON.stringify(record), { mode: 0o600 });
    const key = `${app}_${env}`;
    if (!byTarget.has(key)) byTarget.set(key, []);
    byTarget.get(key).push(entry);
  }
  for (const [key, entries] of byTarget) {
    entries.sort(newestFirst);
    const index = { schemaVersion: 1, app: entries[0].app, env: entries[0].env, complete: entries.length <= INDEX_CAP, entries: entries.slice(0, INDEX_CAP) };
    writeFileSync(join(home, 'index', `${key}.json`), JSON.stringify(index), { mode: 0o600 });
  }
  // src/state/target-index.ts: every target's head (its newest entry, and the newest of each status).
  const heads = [...byTarget.values()].map((entries) => {
    const latest = {};
    for (const e of entries) latest[e.status] ??= e;
    return { app: entries[0].app, env: entries[0].env, last: entries[0], latest };
  });
  heads.sort((a, b) => (a.app === b.app ? (a.env < b.env ? -1 : 1) : a.app < b.app ? -1 : 1));
  writeFileSync(join(home, 'index', '_summary.json'), JSON.stringify({ schemaVersion: 1, targets: heads }), { mode: 0o600 });
}
