// One attempt of each kind of check. Each returns a verdict and a message saying exactly what it saw.
import { connect } from 'node:net';
import { readFile } from 'node:fs/promises';
import type { HealthCheckConfig } from '../config/types.js';
import type { Runner } from '../executors/types.js';
import { formatDuration } from '../config/duration.js';

export interface ProbeResult {
  ok: boolean;
  message: string;
}

function statusMatches(status: number, expected: HealthCheckConfig['expected_status']): boolean {
  if (expected === undefined) return status >= 200 && status < 300;
  if (typeof expected === 'number') return status === expected;
  if (Array.isArray(expected)) return expected.includes(status);
  const text = String(expected).trim().toLowerCase();
  const klass = /^([1-5])xx$/.exec(text);
  if (klass) return Math.floor(status / 100) === Number(klass[1]);
  const range = /^(\d{3})-(\d{3})$/.exec(text);
  if (range) return status >= Number(range[1]) && status <= Number(range[2]);
  return String(status) === text;
}

function describeExpected(expected: HealthCheckConfig['expected_status']): string {
  if (expected === undefined) return '2xx';
  return Array.isArray(expected) ? expected.join(' or ') : String(expected);
}

/** `$.a.b[0].c` over parsed JSON. */
function jsonPath(value: unknown, path: string): { found: boolean; value?: unknown } {
  const parts = path.replace(/^\$\.?/, '').match(/[^.[\]]+|\[\d+\]/g) ?? [];
  let node: unknown = value;
  for (const part of parts) {
    const key = part.startsWith('[') ? Number(part.slice(1, -1)) : part;
    if (node === null || typeof node !== 'object' || !(key in (node as object))) return { found: false };
    node = (node as Record<string | number, unknown>)[key];
  }
  return { found: true, value: node };
}

function connectionMessage(error: NodeJS.ErrnoException & { name?: string }, where: string, timeoutMs: number): string {
  const code = error.code ?? '';
  if (code === 'ECONNREFUSED') return `connection refused (${where})`;
  if (code === 'ETIMEDOUT' || error.name === 'TimeoutError') return `timed out after ${formatDuration(timeoutMs)}`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return `host not found (${where})`;
  if (code === 'ECONNRESET') return `connection reset (${where})`;
  if (code.startsWith('ERR_TLS') || /certificate/i.test(error.message)) return `TLS error: ${error.message}`;
  return error.message;
}

export async function probeHttp(check: HealthCheckConfig, timeoutMs: number): Promise<ProbeResult> {
  const { got } = await import('../vendor/got.js');
  const url = check.url!;
  const where = (() => {
    try {
      return new URL(url).host;
    } catch {
      return url;
    }
  })();
  const https: Record<string, unknown> = {};
  if (check.insecure) https.rejectUnauthorized = false;
  if (check.ca_file) {
    try {
      https.certificateAuthority = await readFile(check.ca_file);
    } catch (error) {
      return { ok: false, message: `cannot read ca_file ${check.ca_file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` };
    }
  }
  let response;
  try {
    response = await got(url, {
      method: (check.method ?? 'GET').toUpperCase() as 'GET',
      headers: check.headers,
      // p-retry is the only retry layer: one got call is one attempt.
      retry: { limit: 0 },
      timeout: { request: timeoutMs },
      throwHttpErrors: false,
      followRedirect: true,
      https,
    });
  } catch (error) {
    return { ok: false, message: connectionMessage(error as NodeJS.ErrnoException, where, timeoutMs) };
  }
  const status = response.statusCode;
  if (!statusMatches(status, check.expected_status)) {
    return { ok: false, message: `status ${status} (expected ${describeExpected(check.expected_status)})` };
  }
  const body = String(response.body ?? '');
  if (check.body_contains !== undefined && !body.includes(check.body_contains)) {
    return { ok: false, message: `body lacks ${JSON.stringify(check.body_contains)}` };
  }
  if (check.json) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      return { ok: false, message: `body is not JSON (wanted ${check.json.path})` };
    }
    const hit = jsonPath(parsed, check.json.path);
    if (!hit.found) return { ok: false, message: `${check.json.path} is missing from the body` };
    if (String(hit.value) !== String(check.json.equals)) {
      return { ok: false, message: `${check.json.path} was ${JSON.stringify(hit.value)} (expected ${JSON.stringify(check.json.equals)})` };
    }
  }
  return { ok: true, message: `status ${status}` };
}

export function probeTcp(check: HealthCheckConfig, timeoutMs: number): Promise<ProbeResult> {
  const host = check.host ?? '127.0.0.1';
  const port = Number(check.port);
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ ok: false, message: `timed out after ${formatDuration(timeoutMs)}` });
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ ok: true, message: `connected to ${host}:${port}` });
    });
    socket.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ ok: false, message: connectionMessage(error, `${host}:${port}`, timeoutMs) });
    });
  });
}

export async function probeCommand(check: HealthCheckConfig, timeoutMs: number, runner: Runner, cwd: string, env: Record<string, string> = {}): Promise<ProbeResult> {
  const [file, ...args] = check.command ?? [];
  const result = await runner.run({ file: file!, args, cwd, env, timeoutMs, mutates: false, label: 'health check command', phase: 'verify' });
  if (result.timedOut) return { ok: false, message: `timed out after ${formatDuration(timeoutMs)}` };
  if (result.spawnError) return { ok: false, message: result.spawnError };
  if (result.exitCode === 0) return { ok: true, message: 'exit code 0' };
  const last = result.output.trim().split('\n').pop();
  return { ok: false, message: `exit code ${result.exitCode}${last ? `: ${last.slice(0, 200)}` : ''}` };
}
