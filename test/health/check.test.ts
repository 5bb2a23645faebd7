import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { runHealthCheck } from '../../src/health/check.js';
import { nextDelay } from '../../src/health/backoff.js';
import type { HealthCheckConfig } from '../../src/config/types.js';
import { createRunner } from '../../src/engine/runner.js';

const servers: Array<{ close(): void }> = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

/** A real HTTP server on 127.0.0.1 that answers with `respond(requestNumber)`. */
async function serve(respond: (n: number) => { status: number; body?: string } | 'hang'): Promise<{ url: string; requests: () => number }> {
  let count = 0;
  const server: Server = createServer((_req, res) => {
    const answer = respond(++count);
    if (answer === 'hang') return;
    res.writeHead(answer.status, { 'content-type': 'application/json' });
    res.end(answer.body ?? '');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push({ close: () => server.closeAllConnections?.() ?? server.close() });
  servers.push(server);
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}/health`, requests: () => count };
}

async function closedPort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

const fast = { interval: 5, max_interval: 20, timeout: 1000 };

describe('HTTP health checks against real servers', () => {
  it('passes when the server answers 200, in one attempt and one request', async () => {
    const server = await serve(() => ({ status: 200 }));
    const result = await runHealthCheck({ type: 'http', url: server.url, ...fast });
    expect(result).toMatchObject({ ok: true, message: 'healthy after 1 attempt' });
    expect(server.requests()).toBe(1);
  });

  it('waits for a slow start: 503 until the third request', async () => {
    const server = await serve((n) => ({ status: n < 3 ? 503 : 200 }));
    const attempts: string[] = [];
    const result = await runHealthCheck({ type: 'http', url: server.url, retries: 5, ...fast }, { onAttempt: (a) => attempts.push(a.message) });
    expect(result.ok).toBe(true);
    expect(attempts).toEqual(['status 503 (expected 2xx)', 'status 503 (expected 2xx)', 'status 200']);
    expect(server.requests()).toBe(3);
  });

  it('fails with the wrong version in the body, saying what it saw', async () => {
    const server = await serve(() => ({ status: 200, body: '{"version":"1.4.1"}' }));
    const result = await runHealthCheck({ type: 'http', url: server.url, retries: 2, json: { path: '$.version', equals: '1.4.2' }, ...fast });
    expect(result.ok).toBe(false);
    expect(result.attempts).toHaveLength(3);
    expect(result.message).toMatch(/^unhealthy after 3 attempts over .*: \$\.version was "1\.4\.1" \(expected "1\.4\.2"\)$/);
    expect(server.requests()).toBe(3);
  });

  it('checks body_contains and status lists and classes', async () => {
    const server = await serve(() => ({ status: 204, body: 'ok 1.4.2' }));
    expect((await runHealthCheck({ type: 'http', url: server.url, body_contains: '1.4.3', retries: 0, ...fast })).message).toContain('body lacks "1.4.3"');
    expect((await runHealthCheck({ type: 'http', url: server.url, expected_status: [200, 204], retries: 0, ...fast })).ok).toBe(true);
    expect((await runHealthCheck({ type: 'http', url: server.url, expected_status: '3xx', retries: 0, ...fast })).message).toContain('status 204 (expected 3xx)');
  });

  it('needs consecutive successes from a flapping server', async () => {
    const server = await serve((n) => ({ status: [200, 503, 200, 200][n - 1] ?? 200 }));
    const result = await runHealthCheck({ type: 'http', url: server.url, retries: 5, success_threshold: 2, ...fast });
    expect(result.ok).toBe(true);
    expect(result.attempts.map((a) => a.ok)).toEqual([true, false, true, true]);
  });

  it('times out each attempt on a server that accepts and never answers', async () => {
    const server = await serve(() => 'hang');
    const result = await runHealthCheck({ type: 'http', url: server.url, retries: 1, interval: 5, max_interval: 5, timeout: 200 });
    expect(result.ok).toBe(false);
    expect(result.attempts.map((a) => a.message)).toEqual(['timed out after 200ms', 'timed out after 200ms']);
    expect(server.requests()).toBe(2);
  });

  it('says the connection was refused on a closed port', async () => {
    const port = await closedPort();
    const result = await runHealthCheck({ type: 'http', url: `http://127.0.0.1:${port}/`, retries: 1, ...fast });
    expect(result.attempts.map((a) => a.message)).toEqual([`connection refused (127.0.0.1:${port})`, `connection refused (127.0.0.1:${port})`]);
  });
});

describe('tcp and command checks', () => {
  it('connects over tcp, or says it was refused', async () => {
    const server = createTcpServer((s) => s.end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    servers.push(server);
    const { port } = server.address() as { port: number };
    expect((await runHealthCheck({ type: 'tcp', port, retries: 0, ...fast })).ok).toBe(true);
    const closed = await closedPort();
    expect((await runHealthCheck({ type: 'tcp', port: closed, retries: 0, ...fast })).attempts[0]?.message).toBe(`connection refused (127.0.0.1:${closed})`);
  });

  it('runs a command and uses its exit code', async () => {
    const runner = createRunner({ dryRun: false });
    expect((await runHealthCheck({ type: 'command', command: ['true'], retries: 0, ...fast }, { runner })).ok).toBe(true);
    const failed = await runHealthCheck({ type: 'command', command: ['sh', '-c', 'echo not ready; exit 3'], retries: 0, ...fast }, { runner });
    expect(failed.attempts[0]?.message).toBe('exit code 3: not ready');
  });
});

describe('backoff', () => {
  it('grows, is capped by max_interval, is jittered, and stops at the deadline', async () => {
    const delays: number[] = [];
    let now = 0;
    const check: HealthCheckConfig = { type: 'http', url: 'x', retries: 20, interval: 100, max_interval: 800, deadline: 3000 };
    const result = await runHealthCheck(check, {
      probe: async () => ({ ok: false, message: 'status 503' }),
      deps: { sleep: async (ms) => void (delays.push(ms), (now += ms)), now: () => now, random: () => 1 },
    });
    expect(result.ok).toBe(false);
    expect(delays.slice(0, 5)).toEqual([100, 200, 400, 800, 800]);
    expect(delays.reduce((a, b) => a + b, 0)).toBe(3000);
    expect(result.attempts.length).toBeLessThan(21);
    expect(nextDelay(3, { interval: 100, maxInterval: 800, random: () => 0 })).toBe(200);
    expect(nextDelay(3, { interval: 100, maxInterval: 800, random: () => 0.5 })).toBe(300);
  });

  it('waits start_period before the first attempt', async () => {
    const delays: number[] = [];
    await runHealthCheck({ type: 'http', url: 'x', start_period: 1500, retries: 0 }, {
      probe: async () => ({ ok: true, message: 'status 200' }),
      deps: { sleep: async (ms) => void delays.push(ms), now: () => 0, random: () => 0 },
    });
    expect(delays).toEqual([1500]);
  });
});
