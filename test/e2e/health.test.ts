// Health checks through a real deploy: each attempt shown as it happens and stored in the record, and
// the pre-deploy check that stops before anything changes. Real servers on 127.0.0.1.
import { existsSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanEnv, runCli, tempDir } from '../support/cli.js';
import { freePort } from '../support/net.js';

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    s.close();
  }
});


async function serve(port: number, respond: (n: number) => number): Promise<() => number> {
  let count = 0;
  const server = createServer((_req, res) => {
    res.writeHead(respond(++count));
    res.end();
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  servers.push(server);
  return () => count;
}

function setup(app: string) {
  const dir = tempDir('deployctl-health-');
  const mark = join(dir, 'deployed');
  writeFileSync(join(dir, 'environments.yaml'), 'environments:\n  dev: {}\n');
  writeFileSync(join(dir, 'deployments.yaml'), `deployments:\n  svc:\n    type: shell\n    commands: [[node, -e, "require('fs').writeFileSync(process.env.MARK, process.env.DEPLOY_VERSION)"]]\n${app}`);
  const env = cleanEnv({ DEPLOYCTL_HOME: tempDir('deployctl-home-'), DEPLOYCTL_CONFIG_DIR: dir, MARK: mark });
  return { mark, cli: (...args: string[]) => runCli(args, { env }) };
}

describe('health checks in a deploy', () => {
  it('shows the first attempt of each result as it happens and then the count of each, stores every attempt in the record, and history show lists them', async () => {
    const port = await freePort();
    const requests = await serve(port, (n) => (n < 3 ? 503 : 200));
    const { cli } = setup(`    health_check: { url: "http://127.0.0.1:${port}/health", retries: 5, interval: 10ms, max_interval: 20ms }\n`);
    const run = await cli('deploy', 'svc', '-e', 'dev', '--version', '1.0.0', '--json');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toMatch(/✗ attempt 1: status 503 \(expected 2xx\) \([\d.]+m?s\)\n.*✓ attempt 3: status 200 \([\d.]+m?s\)\n.*✓ health: status 503 \(expected 2xx\) ×2, status 200 ×1\n/);
    expect(run.stderr).not.toContain('attempt 2');
    expect(requests()).toBe(3);
    const { record } = JSON.parse(run.stdout);
    expect(record.health).toEqual({ ok: true, message: 'healthy after 3 attempts', attempts: 3 });
    const stored = JSON.parse((await cli('history', 'show', record.id, '--json')).stdout).record;
    expect(stored.health.attempts.map((a: { attempt: number; ok: boolean; message: string }) => [a.attempt, a.ok, a.message])).toEqual([
      [1, false, 'status 503 (expected 2xx)'],
      [2, false, 'status 503 (expected 2xx)'],
      [3, true, 'status 200'],
    ]);
    const shown = (await cli('history', 'show', record.id)).stdout;
    expect(shown).toMatch(/ {2}health: healthy after 3 attempts\n {4}✗ attempt 1: status 503 \(expected 2xx\) \([\d.]+m?s\)\n {4}✗ attempt 2: status 503 \(expected 2xx\) \([\d.]+m?s\)\n {4}✓ attempt 3: status 200 \([\d.]+m?s\)/);
  });

  it('pre_check: an unreachable target stops the deploy before anything runs (exit 4, no rollback); once reachable it deploys', async () => {
    const port = await freePort();
    const { mark, cli } = setup(`    pre_check: { type: tcp, port: ${port}, retries: 1, interval: 10ms }\n`);
    const run = await cli('deploy', 'svc', '-e', 'dev', '--version', '1.0.0');
    expect(run.code).toBe(4);
    expect(run.stdout).toMatch(new RegExp(`^deploy of svc 1\\.0\\.0 to dev failed: pre-deploy check failed, nothing was changed: unhealthy after 2 attempts over \\S+: connection refused \\(127\\.0\\.0\\.1:${port}\\)\\n$`));
    expect(run.stderr).toContain(`✗ attempt 1: connection refused (127.0.0.1:${port})`);
    expect(run.stderr).toContain(`✗ pre_check: connection refused (127.0.0.1:${port}) ×2\n`);
    expect(run.stderr).not.toContain('rolling back');
    expect(existsSync(mark)).toBe(false);
    const [record] = JSON.parse((await cli('history', 'svc', '-e', 'dev', '--json')).stdout).records;
    expect(record).toMatchObject({ status: 'failed', steps: [], bad: false, error: { code: 'health_failed' } });
    expect(record.preCheck.attempts).toHaveLength(2);

    await serve(port, () => 200);
    const ok = await cli('deploy', 'svc', '-e', 'dev', '--version', '1.0.0');
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stderr).toContain(`✓ attempt 1: connected to 127.0.0.1:${port}`);
    expect(existsSync(mark)).toBe(true);
  });

  it('a failing check prints one line per distinct result with its count, not one per attempt; the record keeps each', async () => {
    const port = await freePort();
    const { cli } = setup(`    health_check: { url: "http://127.0.0.1:${port}/health", retries: 40, interval: 1ms, max_interval: 2ms }\n    rollback: { auto: false }\n`);
    const run = await cli('deploy', 'svc', '-e', 'dev', '--version', '1.0.0', '--json');
    expect(run.code).toBe(4);
    const lines = run.stderr.split('\n').filter((l) => l.includes('connection refused'));
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(new RegExp(`✗ attempt 1: connection refused \\(127\\.0\\.0\\.1:${port}\\) \\(\\d+m?s\\)$`));
    expect(lines[1]).toMatch(new RegExp(`✗ health: connection refused \\(127\\.0\\.0\\.1:${port}\\) ×41$`));
    expect(lines[2]).toMatch(/✗ health failed: unhealthy after 41 attempts/);
    expect(lines[3]).toMatch(/error: health check failed: unhealthy after 41 attempts/);
    const { record } = JSON.parse(run.stdout);
    const stored = JSON.parse((await cli('history', 'show', record.id, '--json')).stdout).record;
    expect(stored.health.attempts).toHaveLength(41);
  });
});

describe('deployctl health before anything was deployed', () => {
  it('runs a check that does not use ${version} without --version, and asks for one when the check uses it', async () => {
    const port = await freePort();
    await serve(port, () => 200);
    const plain = setup(`    health_check: { url: "http://127.0.0.1:${port}/health", retries: 0 }\n`);
    const ok = await plain.cli('health', 'svc', '-e', 'dev');
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('svc in dev is healthy');
    const versioned = setup(`    health_check: { url: "http://127.0.0.1:${port}/health?v=\${version}", retries: 0 }\n`);
    const refused = await versioned.cli('health', 'svc', '-e', 'dev');
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('the health check of svc uses ${version}, and no version of svc was ever deployed to dev');
    expect(refused.stderr).toContain('--version V');
    expect((await versioned.cli('health', 'svc', '-e', 'dev', '--version', '1.0.0')).code).toBe(0);
  });
});
