// status and list read every target's head; on PostgreSQL from deployctl_heads, which the records'
// triggers keep. The same steps on the file backend and on a database give the same output and exit
// codes after each: deploys, a failed deploy, a rollback, a destroy, a prune, and a deployment killed
// with kill -9 (its record left running, read as interrupted).
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanEnv, cliPath, runCli, tempDir } from '../support/cli.js';
import { until } from '../support/postgres-team.js';
import { postgresForFile } from '../support/postgres.js';

const { skip, server } = postgresForFile();

describe.skipIf(skip)('status and list on PostgreSQL and on files', () => {
  it('show the same after deploys, a failed deploy, a rollback, a destroy, a prune and a kill -9', async () => {
    const dir = tempDir('deployctl-heads-config-');
    const gate = join(tempDir(), 'gate');
    writeFileSync(join(dir, 'environments.yaml'), 'environments:\n  dev: {}\n  prod: {}\n');
    writeFileSync(
      join(dir, 'deployments.yaml'),
      [
        'deployments:',
        '  svc:',
        '    type: shell',
        '    version: "1.0.0"',
        // 2.0.0 fails; 3.0.0 waits for the gate (it is killed there).
        `    commands: [["node", "-e", "const v = process.argv[1]; if (v === '2.0.0') process.exit(1); if (v === '3.0.0') setInterval(() => { if (require('fs').existsSync(process.env.GATE)) process.exit(0) }, 20)", "\${version}"]]`,
        '    destroy_commands: [["node", "-e", "0"]]',
        '  web:',
        '    type: shell',
        '    version: "1.0.0"',
        '    commands: [["node", "-e", "0"]]',
        '',
      ].join('\n'),
    );
    const db = await server.createDatabase('heads_e2e');
    const common = { DEPLOYCTL_CONFIG_DIR: dir, DEPLOYCTL_USER: 'ana', GATE: gate };
    const backends = {
      file: cleanEnv({ ...common, DEPLOYCTL_HOME: tempDir('deployctl-heads-file-') }),
      postgres: cleanEnv({ ...common, DEPLOYCTL_HOME: tempDir('deployctl-heads-pg-'), DEPLOYCTL_STATE: server.url(db) }),
    };
    const both = async (args: string[]) => {
      const [file, pg] = await Promise.all([runCli(args, { env: backends.file }), runCli(args, { env: backends.postgres })]);
      return { file, pg };
    };
    const step = async (args: string[], code: number) => {
      for (const env of Object.values(backends)) {
        const run = await runCli(args, { env });
        expect(run.code, `${args.join(' ')}: ${run.stderr}`).toBe(code);
      }
    };
    /** What differs between two runs of the same steps: ids, times, durations, pids; column widths with them. */
    const TIMELY = new Set(['id', 'recordId', 'startedAt', 'finishedAt', 'since', 'at', 'pid', 'durationMs']);
    const normalJson = (value: unknown): unknown =>
      Array.isArray(value)
        ? value.map(normalJson)
        : value && typeof value === 'object'
          ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, TIMELY.has(k) && v !== null ? '<varies>' : normalJson(v)]))
          : typeof value === 'string'
            ? normalText(value)
            : value;
    function normalText(text: string): string {
      return text
        .replace(/just now|\d+[smhd] ago/g, '<ago>')
        .replace(/ in \d+(\.\d+)?(ms|s|m(\d+s)?|h(\d+m)?)\b/g, ' in <t>')
        .replace(/pid \d+/g, 'pid <n>')
        .replace(/since \d\d:\d\d/g, 'since <hh:mm>')
        .replace(/ {2,}/g, ' ');
    }
    const normal = (args: string[], out: string) => (args.includes('--json') && out ? normalJson(JSON.parse(out)) : normalText(out));
    /** status and list, as text and JSON, for everything and one target: the same on both backends. */
    const same = async () => {
      const seen: Record<string, unknown> = {};
      for (const args of [['status'], ['status', '--json'], ['status', 'svc', '-e', 'prod', '--json'], ['list'], ['list', '--json'], ['status', 'nope']]) {
        const { file, pg } = await both(args);
        expect({ code: pg.code, stdout: normal(args, pg.stdout), stderr: pg.stderr }, args.join(' ')).toEqual({ code: file.code, stdout: normal(args, file.stdout), stderr: file.stderr });
        seen[args.join(' ')] = args.includes('--json') ? JSON.parse(pg.stdout) : pg.stdout;
      }
      return seen;
    };

    await step(['deploy', 'svc', '-e', 'prod', '-q'], 0);
    await step(['deploy', 'web', '-e', 'dev', '-q'], 0);
    await step(['deploy', 'svc', '-e', 'prod', '--version', '1.5.0', '-q'], 0);
    let seen = await same();
    expect(seen['status nope']).toBe('');
    expect((seen['status --json'] as { targets: unknown[] }).targets).toHaveLength(2);

    await step(['deploy', 'svc', '-e', 'prod', '--version', '2.0.0', '-q'], 3);
    seen = await same();
    // Rolled back automatically: 1.5.0 runs again, by the rollback record.
    expect((seen['status svc -e prod --json'] as { targets: Array<{ version: string; last: { status: string; version: string } }> }).targets[0]).toMatchObject({
      version: '1.5.0',
      last: { action: 'rollback', status: 'succeeded', version: '1.5.0' },
    });
    expect(seen['list']).toMatch(/svc +- +1\.5\.0\n/);

    await step(['rollback', 'svc', '-e', 'prod', '-q'], 0);
    seen = await same();
    expect((seen['status svc -e prod --json'] as { targets: Array<{ version: string; last: { action: string } }> }).targets[0]).toMatchObject({ version: '1.0.0', last: { action: 'rollback' } });

    await step(['destroy', 'svc', '-e', 'prod', '--yes', '-q'], 0);
    seen = await same();
    expect((seen['status svc -e prod --json'] as { targets: Array<{ version: null; destroyed: { version: string } }> }).targets[0]).toMatchObject({ version: null, destroyed: { version: '1.0.0' } });

    await step(['history', 'prune', '--keep', '1', '-q'], 0);
    await same();

    // A deployment killed with kill -9 on each backend: its record left running, read as interrupted.
    for (const env of Object.values(backends)) {
      const child = spawn(process.execPath, [cliPath, 'deploy', 'web', '-e', 'prod', '--version', '3.0.0', '-q'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr!.on('data', (d) => (stderr += d));
      let code: number | null | undefined;
      const exited = new Promise((resolve) => child.on('close', (c) => resolve((code = c))));
      await until(async () => {
        // A deploy that ends before it is killed fails the test with what it said.
        if (code !== undefined) throw new Error(`the deploy to kill ended first (exit ${code}): ${stderr}`);
        return /running deploy 3\.0\.0/.test((await runCli(['status', 'web', '-e', 'prod'], { env })).stdout);
      });
      child.kill('SIGKILL');
      await exited;
    }
    seen = await same();
    expect(seen['status']).toMatch(/web +prod +- +- +- +\S+ interrupted deploy 3\.0\.0/);
    writeFileSync(gate, '');
  }, 180_000);
});
