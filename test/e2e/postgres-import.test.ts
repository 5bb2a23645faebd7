// `state import` of a file history of 10,000 records into PostgreSQL, then status, history and rollback
// from the database; a second import adds nothing.
import { describe, expect, it } from 'vitest';
import { generateRecords } from '../../bench/records.mjs';
import { runCli, tempDir } from '../support/cli.js';
import { team } from '../support/postgres-team.js';
import { postgresForFile } from '../support/postgres.js';

const { skip, server } = postgresForFile();

describe.skipIf(skip)('state import of a file history', () => {
  it('10,000 records: status, history and rollback work from the database; a second import adds 0', async () => {
    const { a, url, db } = await team(server, ['node', '-e', '0']);
    const home = tempDir('deployctl-import-');
    await generateRecords(home, 10_000, [['noop', 'dev'], ['noop', 'prod']]);
    const fileEnv = { ...a.env, DEPLOYCTL_HOME: home, DEPLOYCTL_STATE: undefined };
    for (const version of ['1.0.0', '2.0.0']) expect((await runCli(['deploy', 'svc', '-e', 'dev', '--version', version, '-q'], { env: fileEnv })).code).toBe(0);
    const imported = await runCli(['state', 'import', '--from', `file:${home}`, '--state', url, '--json'], { env: a.env });
    expect(imported.code, imported.stderr).toBe(0);
    const document = JSON.parse(imported.stdout);
    expect(Object.keys(document).sort()).toEqual(['audit', 'from', 'records', 'schemaVersion', 'to']);
    expect(document).toMatchObject({ records: { found: 10_002, imported: 10_002 }, audit: { found: 2, imported: 2 } });
    const status = JSON.parse((await runCli(['status', 'svc', '--json'], { env: a.env })).stdout);
    expect(status.targets[0].last.version).toBe('2.0.0');
    const history = JSON.parse((await runCli(['history', 'noop', '-e', 'prod', '--limit', '3', '--json'], { env: a.env })).stdout);
    expect(history.records.map((r: { version: string }) => r.version)).toEqual(['1.0.9999', '1.0.9997', '1.0.9995']);
    const rollback = await runCli(['rollback', 'svc', '-e', 'dev', '--json'], { env: a.env });
    expect(rollback.code, rollback.stderr).toBe(0);
    expect(JSON.parse(rollback.stdout).record).toMatchObject({ action: 'rollback', version: '1.0.0', status: 'succeeded' });
    const again = await runCli(['state', 'import', '--from', `file:${home}`, '--state', url, '--json'], { env: a.env });
    expect(JSON.parse(again.stdout)).toMatchObject({ records: { found: 10_002, imported: 0 }, audit: { imported: 0 } });
    const [count] = await server.query<{ n: number }>('SELECT count(*)::int AS n FROM deployctl_records', [], db);
    expect(count!.n).toBe(10_003);
    const info = JSON.parse((await runCli(['state', 'info', '--json'], { env: a.env })).stdout);
    expect(info).toMatchObject({ schemaVersion: 1, backend: 'postgres', targets: 3, records: 10_003, locks: [] });
  }, 180_000);
});

