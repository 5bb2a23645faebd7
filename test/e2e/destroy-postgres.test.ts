// `deployctl destroy` on the PostgreSQL backend, across two "machines": one history, one lock, so a
// teammate's status sees the target destroyed, and a destroy waits for no deployment in flight elsewhere.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { rows, start, team, until, WAIT_FOR_GATE } from '../support/postgres-team.js';
import { postgresForFile } from '../support/postgres.js';

const { skip, server } = postgresForFile();

describe.skipIf(skip)('destroy with a team state in PostgreSQL', () => {
  it("a teammate's destroy is what everyone's status shows; a deployment in flight on another machine holds it off (exit 5)", async () => {
    const { a, b, dir, db, gate } = await team(server, ['node', '-e', WAIT_FOR_GATE]);
    const deployments = join(dir, 'deployments.yaml');
    writeFileSync(deployments, readFileSync(deployments, 'utf8') + '    destroy_commands: [["node", "-e", "0"]]\n');

    // The first deployment in flight: nothing to destroy from yet, and destroy says so (exit 5).
    const first = start(a, ['deploy', 'svc', '-e', 'dev']);
    await until(async () => (await rows(server, db)).some((r) => r.status === 'running'));
    const early = await runCli(['destroy', 'svc', '-e', 'dev'], { env: b.env });
    expect(early.code).toBe(5);
    expect(early.stderr).toMatch(/error: nothing to destroy yet: deploy of svc 1\.0\.0 in dev by ana \(record \S+\) has not finished/);
    writeFileSync(gate, '');
    expect((await first.done).code).toBe(0);
    rmSync(gate);
    // a deploys again, and waits at the gate: b's destroy meets the lock.
    const holder = start(a, ['deploy', 'svc', '-e', 'dev']);
    await until(async () => (await rows(server, db)).some((r) => r.status === 'running'));
    const refused = await runCli(['destroy', 'svc', '-e', 'dev'], { env: b.env });
    expect(refused.code).toBe(5);
    expect(refused.stderr).toMatch(/ana@\S+ \(pid \d+\)/);
    writeFileSync(gate, '');
    expect((await holder.done).code).toBe(0);

    const gone = await runCli(['destroy', 'svc', '-e', 'dev', '--json'], { env: b.env });
    expect(gone.code, gone.stderr).toBe(0);
    expect(JSON.parse(gone.stdout).record).toMatchObject({ action: 'destroy', version: '1.0.0', status: 'succeeded', user: 'bo' });
    const seen = JSON.parse((await runCli(['status', 'svc', '-e', 'dev', '--json'], { env: a.env })).stdout).targets[0];
    expect(seen).toMatchObject({ version: null, destroyed: { version: '1.0.0', by: 'bo' }, last: { action: 'destroy' } });
    const again = await runCli(['destroy', 'svc', '-e', 'dev'], { env: a.env });
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/^svc in dev is already destroyed: 1\.0\.0 was torn down by bo at /);
    const audit = await runCli(['audit', '--json'], { env: a.env });
    expect(JSON.stringify(JSON.parse(audit.stdout))).toContain('"action":"destroy"');
  }, 120_000);
});
