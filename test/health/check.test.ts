import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createTcpServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { HEALTH_DEFAULTS, runHealthCheck } from '../../src/health/check.js';
import { nextDelay } from '../../src/health/backoff.js';
import type { HealthCheckConfig } from '../../src/config/types.js';
import { createRunner } from '../../src/engine/runner.js';
import { tempDir } from '../support/cli.js';
import { freePort } from '../support/net.js';
import { toolMissing } from '../support/tools.js';

const servers: Array<{ close(): void }> = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

interface Seen {
  method: string;
  headers: IncomingHttpHeaders;
}

type Answer = { status: number; body?: string } | 'hang';

function handler(respond: (n: number) => Answer, seen: Seen[]) {
  return (req: { method?: string; headers: IncomingHttpHeaders }, res: import('node:http').ServerResponse) => {
    seen.push({ method: req.method ?? '', headers: req.headers });
    const answer = respond(seen.length);
    if (answer === 'hang') return;
    res.writeHead(answer.status, { 'content-type': 'application/json' });
    res.end(answer.body ?? '');
  };
}

async function listen(server: Server, port = 0): Promise<number> {
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  servers.push({ close: () => server.closeAllConnections?.() });
  servers.push(server);
  return (server.address() as { port: number }).port;
}

/** A real HTTP server on 127.0.0.1 that answers with `respond(requestNumber)` and counts requests. */
async function serve(respond: (n: number) => Answer): Promise<{ url: string; requests: () => number; seen: Seen[] }> {
  const seen: Seen[] = [];
  const port = await listen(createServer(handler(respond, seen)));
  return { url: `http://127.0.0.1:${port}/health`, requests: () => seen.length, seen };
}


const fast = { interval: 5, max_interval: 20, timeout: 1000 };

describe('HTTP health checks against real servers', () => {
  it('passes when the server answers 200, in one attempt and one request', async () => {
    const server = await serve(() => ({ status: 200 }));
    const result = await runHealthCheck({ type: 'http', url: server.url, ...fast });
    expect(result).toMatchObject({ ok: true, message: 'healthy after 1 attempt' });
    expect(server.requests()).toBe(1);
  });

  it('slow start: refused until the server listens, then healthy; only the last attempt reached it', async () => {
    const port = await freePort();
    const seen: Seen[] = [];
    const late = createServer(handler(() => ({ status: 200, body: '{"version":"1.4.2"}' }), seen));
    setTimeout(() => void listen(late, port), 300);
    const shown: string[] = [];
    const result = await runHealthCheck(
      { type: 'http', url: `http://127.0.0.1:${port}/health`, retries: 200, interval: 20, max_interval: 50, json: { path: '$.version', equals: '1.4.2' } },
      { onAttempt: (a) => shown.push(`${a.attempt} ${a.message}`) },
    );
    expect(result.ok).toBe(true);
    const count = result.attempts.length;
    expect(count).toBeGreaterThan(1);
    expect(result.message).toBe(`healthy after ${count} attempts`);
    expect(shown).toEqual([
      ...Array.from({ length: count - 1 }, (_, i) => `${i + 1} connection refused (127.0.0.1:${port})`),
      `${count} status 200`,
    ]);
    expect(seen).toHaveLength(1);
  });

  it('503 then 200: healthy on the third attempt, one request per attempt (got retries nothing)', async () => {
    const server = await serve((n) => ({ status: n < 3 ? 503 : 200 }));
    const attempts: string[] = [];
    const result = await runHealthCheck({ type: 'http', url: server.url, retries: 5, ...fast }, { onAttempt: (a) => attempts.push(a.message) });
    expect(result).toMatchObject({ ok: true, message: 'healthy after 3 attempts' });
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

  it('says the body lacks the version it wants', async () => {
    const server = await serve(() => ({ status: 200, body: 'hello 1.4.1' }));
    const result = await runHealthCheck({ type: 'http', url: server.url, body_contains: '1.4.2', retries: 1, ...fast });
    expect(result.ok).toBe(false);
    expect(result.attempts.map((a) => a.message)).toEqual(['body lacks "1.4.2"', 'body lacks "1.4.2"']);
    expect(result.message).toMatch(/^unhealthy after 2 attempts over .*: body lacks "1\.4\.2"$/);
  });

  it('matches expected_status as a code, a list, a class and a range', async () => {
    const server = await serve(() => ({ status: 204, body: 'ok' }));
    const verdict = async (expected_status: HealthCheckConfig['expected_status']) =>
      (await runHealthCheck({ type: 'http', url: server.url, expected_status, retries: 0, ...fast })).attempts[0]!.message;
    expect(await verdict(204)).toBe('status 204');
    expect(await verdict(200)).toBe('status 204 (expected 200)');
    expect(await verdict([200, 204])).toBe('status 204');
    expect(await verdict([200, 201])).toBe('status 204 (expected 200 or 201)');
    expect(await verdict('2xx')).toBe('status 204');
    expect(await verdict('3xx')).toBe('status 204 (expected 3xx)');
    expect(await verdict('200-299')).toBe('status 204');
    expect(await verdict('300-399')).toBe('status 204 (expected 300-399)');
    expect(server.requests()).toBe(8);
  });

  it('sends the configured method and headers', async () => {
    const server = await serve(() => ({ status: 200 }));
    const result = await runHealthCheck({ type: 'http', url: server.url, method: 'post', headers: { 'X-Probe': 'deployctl', Authorization: 'Bearer t' }, retries: 0, ...fast });
    expect(result.ok).toBe(true);
    expect(server.seen.map((s) => [s.method, s.headers['x-probe'], s.headers.authorization])).toEqual([['POST', 'deployctl', 'Bearer t']]);
  });

  it('needs consecutive successes from a flapping server', async () => {
    const server = await serve((n) => ({ status: [200, 503, 200, 200][n - 1] ?? 200 }));
    const result = await runHealthCheck({ type: 'http', url: server.url, retries: 5, success_threshold: 2, ...fast });
    expect(result).toMatchObject({ ok: true, message: 'healthy after 4 attempts' });
    expect(result.attempts.map((a) => a.ok)).toEqual([true, false, true, true]);
    expect(server.requests()).toBe(4);
  });

  it('stays unhealthy when the server never holds up for success_threshold answers in a row', async () => {
    const server = await serve((n) => ({ status: n % 2 ? 200 : 503 }));
    const result = await runHealthCheck({ type: 'http', url: server.url, retries: 5, success_threshold: 2, ...fast });
    expect(result.ok).toBe(false);
    // 5 retries + the 2 successes asked for = 7 attempts at most
    expect(result.attempts.map((a) => a.ok)).toEqual([true, false, true, false, true, false, true]);
    expect(result.message).toMatch(/^unhealthy after 7 attempts over .*: status 503 \(expected 2xx\)$/);
  });

  it('times out each attempt on a server that accepts and never answers', async () => {
    const server = await serve(() => 'hang');
    const result = await runHealthCheck({ type: 'http', url: server.url, retries: 1, interval: 5, max_interval: 5, timeout: 200 });
    expect(result.ok).toBe(false);
    expect(result.attempts.map((a) => a.message)).toEqual(['timed out after 200ms', 'timed out after 200ms']);
    expect(result.message).toMatch(/^unhealthy after 2 attempts over .*: timed out after 200ms$/);
    expect(server.requests()).toBe(2);
  });

  it('says the connection was refused on a closed port', async () => {
    const port = await freePort();
    const result = await runHealthCheck({ type: 'http', url: `http://127.0.0.1:${port}/`, retries: 1, ...fast });
    expect(result.ok).toBe(false);
    expect(result.attempts.map((a) => a.message)).toEqual([`connection refused (127.0.0.1:${port})`, `connection refused (127.0.0.1:${port})`]);
    expect(result.message).toMatch(new RegExp(`^unhealthy after 2 attempts over .*: connection refused \\(127\\.0\\.0\\.1:${port}\\)$`));
  });
});

describe('HTTPS with a self-signed certificate', () => {
  const missing = toolMissing('openssl');
  let url = '';
  let caFile = '';
  let requests = 0;

  beforeAll(async () => {
    if (missing) return;
    const dir = tempDir('deployctl-tls-');
    caFile = join(dir, 'cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', caFile, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
    const server = createHttpsServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(caFile) }, (_req, res) => {
      requests += 1;
      res.end('{"version":"2.0.0"}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `https://127.0.0.1:${(server.address() as { port: number }).port}/health`;
    return () => {
      server.closeAllConnections();
      server.close();
    };
  });

  it.skipIf(missing)('refuses the certificate by default, saying why', async () => {
    const result = await runHealthCheck({ type: 'http', url, retries: 1, ...fast });
    expect(result.ok).toBe(false);
    expect(result.attempts.map((a) => a.message)).toEqual(['TLS error: self-signed certificate', 'TLS error: self-signed certificate']);
    expect(result.message).toMatch(/^unhealthy after 2 attempts over .*: TLS error: self-signed certificate$/);
  });

  it.skipIf(missing)('accepts it with insecure: true', async () => {
    const before = requests;
    const result = await runHealthCheck({ type: 'http', url, insecure: true, json: { path: '$.version', equals: '2.0.0' }, retries: 0, ...fast });
    expect(result).toMatchObject({ ok: true, message: 'healthy after 1 attempt' });
    expect(requests - before).toBe(1);
  });

  it.skipIf(missing)('trusts it through ca_file', async () => {
    const result = await runHealthCheck({ type: 'http', url, ca_file: caFile, retries: 0, ...fast });
    expect(result).toMatchObject({ ok: true, message: 'healthy after 1 attempt' });
  });

  it.skipIf(missing)('says so when the ca_file cannot be read', async () => {
    const result = await runHealthCheck({ type: 'http', url, ca_file: '/nonexistent/ca.pem', retries: 1, ...fast });
    expect(result.ok).toBe(false);
    expect(result.attempts.map((a) => a.message)).toEqual(['cannot read ca_file /nonexistent/ca.pem: ENOENT', 'cannot read ca_file /nonexistent/ca.pem: ENOENT']);
  });
});

describe('tcp and command checks', () => {
  it('connects over tcp to host and port, or says it was refused', async () => {
    const server = createTcpServer((s) => s.end());
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    servers.push(server);
    const { port } = server.address() as { port: number };
    expect(await runHealthCheck({ type: 'tcp', host: '127.0.0.1', port, retries: 0, ...fast })).toMatchObject({ ok: true, message: 'healthy after 1 attempt' });
    const closed = await freePort();
    const refused = await runHealthCheck({ type: 'tcp', host: '127.0.0.1', port: closed, retries: 1, ...fast });
    expect(refused.ok).toBe(false);
    expect(refused.attempts.map((a) => a.message)).toEqual([`connection refused (127.0.0.1:${closed})`, `connection refused (127.0.0.1:${closed})`]);
  });

  it('runs a command argv and uses its exit code; a command that hangs times out', async () => {
    const runner = createRunner({ dryRun: false });
    expect((await runHealthCheck({ type: 'command', command: ['true'], retries: 0, ...fast }, { runner })).ok).toBe(true);
    const failed = await runHealthCheck({ type: 'command', command: ['sh', '-c', 'echo not ready; exit 3'], retries: 0, ...fast }, { runner });
    expect(failed.attempts[0]?.message).toBe('exit code 3: not ready');
    const slow = await runHealthCheck({ type: 'command', command: ['sleep', '5'], retries: 0, timeout: 200 }, { runner });
    expect(slow.attempts[0]?.message).toBe('timed out after 200ms');
  });
});

describe('timing with an injected clock', () => {
  /** A clock that only moves when the check sleeps or a probe takes time. */
  function fakeTime(random: () => number = () => 1) {
    const delays: number[] = [];
    let now = 0;
    return {
      delays,
      advance: (ms: number) => void (now += ms),
      deps: { sleep: async (ms: number) => void (delays.push(ms), (now += ms)), now: () => now, random },
    };
  }

  it('backoff: delays grow from interval, are capped by max_interval, and stop at the deadline', async () => {
    const time = fakeTime();
    const check: HealthCheckConfig = { type: 'http', url: 'x', retries: 20, interval: 100, max_interval: 800, deadline: 3000 };
    const result = await runHealthCheck(check, { probe: async () => ({ ok: false, message: 'status 503' }), deps: time.deps });
    expect(result.ok).toBe(false);
    // the next delay (800) would reach the deadline: no sleep to it, no attempt at it
    expect(time.delays).toEqual([100, 200, 400, 800, 800]);
    expect(result.attempts).toHaveLength(6);
    expect(result.message).toBe('unhealthy after 6 attempts over 2.3s: status 503');
  });

  it('backoff is jittered: half of each delay is fixed, half random', async () => {
    const randoms = [0, 0.5, 1, 0.25, 0.75];
    const time = fakeTime(() => randoms.shift() ?? 0);
    const check: HealthCheckConfig = { type: 'http', url: 'x', retries: 5, interval: 100, max_interval: 400 };
    const result = await runHealthCheck(check, { probe: async () => ({ ok: false, message: 'status 503' }), deps: time.deps });
    // nominal 100, 200, 400, 400, 400 → between half and all of it; no wait after the last attempt
    expect(time.delays).toEqual([50, 150, 400, 250, 350]);
    expect(result.attempts).toHaveLength(6);
    expect(nextDelay(3, { interval: 100, maxInterval: 800, random: () => 0 })).toBe(200);
    expect(nextDelay(3, { interval: 100, maxInterval: 800, random: () => 0.5 })).toBe(300);
  });

  it('gives each attempt its timeout, cut short by the deadline, and sleeps no longer than the deadline', async () => {
    const time = fakeTime();
    const budgets: number[] = [];
    const check: HealthCheckConfig = { type: 'http', url: 'x', retries: 10, interval: 100, max_interval: 100, timeout: 1000, deadline: 2500 };
    const result = await runHealthCheck(check, {
      probe: async (_c, ms) => {
        budgets.push(ms);
        time.advance(ms);
        return { ok: false, message: `timed out after ${ms}ms` };
      },
      deps: time.deps,
    });
    expect(budgets).toEqual([1000, 1000, 300]);
    expect(time.delays).toEqual([100, 100]);
    expect(result.message).toBe('unhealthy after 3 attempts over 2.5s: timed out after 300ms');
  });

  it('stops at the default deadline of 5 minutes when every attempt times out', async () => {
    const time = fakeTime();
    const result = await runHealthCheck({ type: 'http', url: 'x' }, {
      probe: async (_c, ms) => (time.advance(ms), { ok: false, message: `timed out after ${ms}ms` }),
      deps: time.deps,
    });
    expect(HEALTH_DEFAULTS.deadline).toBe(300_000);
    // the last attempt gets what is left of the 5 minutes as its time limit
    expect(result.durationMs).toBe(300_000);
    expect(result.attempts.length).toBeLessThan(HEALTH_DEFAULTS.retries + 1);
    expect(result.message).toMatch(/^unhealthy after \d+ attempts over 5m: timed out after \d+ms$/);
  });

  it('waits start_period before the first attempt', async () => {
    const time = fakeTime(() => 0);
    await runHealthCheck({ type: 'http', url: 'x', start_period: 1500, retries: 0 }, { probe: async () => ({ ok: true, message: 'status 200' }), deps: time.deps });
    expect(time.delays).toEqual([1500]);
  });

  it('does not spend retries on the successes success_threshold asks for', async () => {
    const time = fakeTime();
    const result = await runHealthCheck({ type: 'http', url: 'x', retries: 0, success_threshold: 2 }, { probe: async () => ({ ok: true, message: 'status 200' }), deps: time.deps });
    expect(result).toMatchObject({ ok: true, message: 'healthy after 2 attempts' });
  });

  it('waits interval between successes while it counts up to success_threshold', async () => {
    const time = fakeTime();
    const result = await runHealthCheck({ type: 'http', url: 'x', interval: 100, success_threshold: 3 }, { probe: async () => ({ ok: true, message: 'status 200' }), deps: time.deps });
    expect(result).toMatchObject({ ok: true, message: 'healthy after 3 attempts' });
    expect(time.delays).toEqual([100, 100]);
  });
});
