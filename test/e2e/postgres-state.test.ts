// Choosing the state backend (--state, DEPLOYCTL_STATE, state.url, the folder), no password anywhere,
// and `deployctl state info|migrate|export` on a real PostgreSQL.
import { describe, expect, it } from 'vitest';
import Ajv from 'ajv';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, runCli, tempDir } from '../support/cli.js';
import { rows, team } from '../support/postgres-team.js';
import { postgresForFile } from '../support/postgres.js';

const { skip, server } = postgresForFile();
const ajv = new Ajv.default({ allErrors: true, strict: false });
/** The --json document, checked against its schema in docs/json/. */
function documented(name: string, stdout: string): Record<string, unknown> {
  const validate = ajv.compile(JSON.parse(readFileSync(join(repoRoot, 'docs/json', `${name}.schema.json`), 'utf8')));
  const document = JSON.parse(stdout) as Record<string, unknown>;
  expect(validate(document), JSON.stringify(validate.errors)).toBe(true);
  return document;
}

describe.skipIf(skip)('choosing the backend, and the state command', () => {
  it('--state wins over DEPLOYCTL_STATE, which wins over state.url in deployments.yaml (interpolated), which wins over the folder', async () => {
    const { a, dir, url, db } = await team(server, ['node', '-e', '0']);
    const other = await server.createDatabase('other');
    const withConfig = `state:\n  url: \${DEPLOYCTL_DATABASE_URL}\n`;
    writeFileSync(join(dir, 'deployments.yaml'), withConfig + `deployments:\n  svc:\n    type: shell\n    version: "1.0.0"\n    commands:\n      - ["node", "-e", "0"]\n`);
    const env = { ...a.env, DEPLOYCTL_STATE: undefined, DEPLOYCTL_DATABASE_URL: url };
    expect((await runCli(['deploy', 'svc', '-e', 'dev', '-q'], { env })).code).toBe(0);
    expect((await rows(server, db)).length).toBe(1);
    expect((await runCli(['deploy', 'svc', '-e', 'dev', '-q'], { env: { ...env, DEPLOYCTL_STATE: server.url(other) } })).code).toBe(0);
    expect((await rows(server, other)).length).toBe(1);
    const flagged = await runCli(['deploy', 'svc', '-e', 'dev', '-q', '--state', `file:${a.env.DEPLOYCTL_HOME}`], { env: { ...env, DEPLOYCTL_STATE: server.url(other) } });
    expect(flagged.code).toBe(0);
    expect((await rows(server, other)).length).toBe(1);
    expect((await rows(server, db)).length).toBe(1);
    const unset = await runCli(['status'], { env: { ...env, DEPLOYCTL_DATABASE_URL: undefined } });
    expect(unset.code).toBe(2);
    expect(unset.stderr).toContain('deployments.yaml:2:8 state.url: ${DEPLOYCTL_DATABASE_URL} is not set');
  }, 60_000);

  it('a password in the state URL shows nowhere: not in output, records, locks or the audit log', async () => {
    const { a, db } = await team(server, ['node', '-e', '0']);
    const { PASSWORD_ROLE } = await import('../support/postgres.js');
    const url = `postgres://${PASSWORD_ROLE.user}:${PASSWORD_ROLE.password}@127.0.0.1:${server.port}/${db}`;
    const run = await runCli(['deploy', 'svc', '-e', 'dev', '--state', url, '--json'], { env: { ...a.env, DEPLOYCTL_STATE: undefined } });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout + run.stderr).not.toContain(PASSWORD_ROLE.password);
    const info = await runCli(['state', 'info', '--state', url], { env: a.env });
    expect(info.stdout).toContain(`location: postgres://${PASSWORD_ROLE.user}:***@127.0.0.1:${server.port}/${db}`);
    const stored = await server.query<{ t: string }>(`SELECT (SELECT string_agg(record::text, '') FROM deployctl_records) || (SELECT string_agg(entry::text, '') FROM deployctl_audit) AS t`, [], db);
    expect(stored[0]!.t).toContain('--state postgres://deployer:***@');
    expect(stored[0]!.t).not.toContain(PASSWORD_ROLE.password);
  }, 60_000);

  it('state info, migrate (idempotent) and export to a folder', async () => {
    const { a } = await team(server, ['node', '-e', '0']);
    expect((await runCli(['deploy', 'svc', '-e', 'dev', '-q'], { env: a.env })).code).toBe(0);
    const info = await runCli(['state', 'info'], { env: a.env });
    expect(info.stdout).toMatch(/^backend: postgres\nlocation: postgres:\/\/postgres@127\.0\.0\.1:\d+\/e2e_\d+_\d+\nschema version: 3\ntargets: 1\nrecords: 1\naudit entries: 1\nlocks: none held\n$/);
    const infoJson = documented('state-info', (await runCli(['state', 'info', '--json'], { env: a.env })).stdout);
    expect(infoJson).toMatchObject({ backend: 'postgres', stateSchemaVersion: 3, targets: 1, records: 1, locks: [] });
    const migrate = await runCli(['state', 'migrate', '--json'], { env: a.env });
    expect(documented('state-migrate', migrate.stdout)).toEqual({ schemaVersion: 1, backend: 'postgres', from: 3, to: 3, applied: [] });
    const folder = tempDir('deployctl-export-');
    const exported = await runCli(['state', 'export', '--to', `file:${folder}`, '--json'], { env: a.env });
    expect(documented('state-export', exported.stdout)).toMatchObject({ records: { found: 1, exported: 1 }, audit: { found: 1, exported: 1 } });
    const again = await runCli(['state', 'export', '--to', `file:${folder}`, '--json'], { env: a.env });
    expect(JSON.parse(again.stdout)).toMatchObject({ records: { exported: 0 }, audit: { exported: 0 } });
    const fromFolder = JSON.parse((await runCli(['history', '--json', '--state', `file:${folder}`], { env: a.env })).stdout);
    expect(fromFolder.records.map((r: { version: string }) => r.version)).toEqual(['1.0.0']);
    const wrong = await runCli(['state', 'import', '--from', `file:${folder}`, '--state', `file:${folder}`], { env: a.env });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('hint: pass --state postgres://USER@HOST/DB');
    const refused = await runCli(['status', '--json', '--state', 'postgres://ana:s3cret@127.0.0.1:1/nope'], { env: a.env });
    expect(refused.code).toBe(2);
    expect(documented('error', refused.stdout)).toMatchObject({ error: { code: 'state_unavailable', exitCode: 2 } });
    expect(refused.stdout + refused.stderr).not.toContain('s3cret');
  }, 60_000);
});
