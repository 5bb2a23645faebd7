// `deployctl serve`'s HTTP server (node:http): the Slack routes (signed requests only), /healthz,
// /metrics and a read-only JSON API. One log line per request. Bodies over 64 KiB get 413, malformed
// ones 400; nothing runs for a refused request.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import type { Chatops } from './chatops.js';
import type { JobResult } from './jobs.js';
import type { Metrics } from './metrics.js';
import { verifySlackRequest } from './slack-signature.js';
import { isValidName } from '../names.js';

const BODY_LIMIT = 64 * 1024;

interface HttpDeps {
  chatops: Chatops;
  metrics: Metrics;
  /** SLACK_SIGNING_SECRET: without it the Slack routes answer 503. */
  signingSecret?: string;
  /** DEPLOYCTL_API_TOKEN: when set, /api needs `Authorization: Bearer <token>`. */
  apiToken?: string;
  /** A read-only deployctl command, for the JSON API. */
  read(args: string[]): Promise<JobResult>;
  approvalsPending(): Promise<number>;
  log(fields: { method: string; path: string; status: number; ms: number; error?: string }): void;
  nowSeconds(): number;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(request.headers['content-length']);
    if (Number.isFinite(declared) && declared > BODY_LIMIT) {
      reject(new HttpError(413, `body over ${BODY_LIMIT} bytes`));
      request.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > BODY_LIMIT) {
        reject(new HttpError(413, `body over ${BODY_LIMIT} bytes`));
        request.resume();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

function send(response: ServerResponse, status: number, body: unknown, type = 'application/json'): void {
  const text = type === 'application/json' ? `${JSON.stringify(body)}\n` : String(body);
  response.writeHead(status, { 'content-type': type === 'application/json' ? 'application/json; charset=utf-8' : type, 'content-length': Buffer.byteLength(text) });
  response.end(text);
}

const sameSecret = (a: string, b: string) => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

export function createHttpServer(deps: HttpDeps): Server {
  const handle = async (request: IncomingMessage, response: ServerResponse, url: URL): Promise<{ status: number }> => {
    const path = url.pathname;
    if (path === '/healthz') {
      send(response, 200, { ok: true, running: deps.chatops.busy });
      return { status: 200 };
    }
    if (path === '/metrics') {
      send(response, 200, deps.metrics.render(await deps.approvalsPending()), 'text/plain; version=0.0.4; charset=utf-8');
      return { status: 200 };
    }
    if (path.startsWith('/api/')) {
      if (request.method !== 'GET') throw new HttpError(405, 'the API is read-only: GET only');
      if (deps.apiToken) {
        const given = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1];
        if (!given || !sameSecret(given, deps.apiToken)) throw new HttpError(401, 'a valid bearer token is needed (DEPLOYCTL_API_TOKEN)');
      }
      let args: string[];
      if (path === '/api/v1/status') {
        const app = url.searchParams.get('app');
        if (app !== null && !isValidName(app)) throw new HttpError(400, 'invalid app name');
        args = ['status', ...(app ? [app] : [])];
      } else if (path === '/api/v1/history') {
        const app = url.searchParams.get('app');
        const env = url.searchParams.get('env');
        const limit = url.searchParams.get('limit') ?? '20';
        if (app !== null && !isValidName(app)) throw new HttpError(400, 'invalid app name');
        if (env !== null && !isValidName(env)) throw new HttpError(400, 'invalid env name');
        if (!/^[1-9]\d{0,3}$/.test(limit)) throw new HttpError(400, 'limit must be a whole number from 1 to 9999');
        args = ['history', ...(app ? [app] : []), ...(env ? ['-e', env] : []), '--limit', limit];
      } else {
        throw new HttpError(404, 'no such route');
      }
      const result = await deps.read(args);
      const status = result.exitCode === 0 ? 200 : result.exitCode === 2 ? 400 : 500;
      send(response, status, result.json ?? { ok: false, error: { message: result.stderrTail || `exit code ${result.exitCode}` } });
      return { status };
    }
    if (path === '/slack/commands' || path === '/slack/interactions') {
      if (request.method !== 'POST') throw new HttpError(405, 'POST only');
      if (!deps.signingSecret) throw new HttpError(503, 'SLACK_SIGNING_SECRET is not set: the Slack routes are off');
      const body = await readBody(request);
      const verdict = verifySlackRequest({
        secret: deps.signingSecret,
        timestamp: header(request, 'x-slack-request-timestamp'),
        signature: header(request, 'x-slack-signature'),
        body,
        nowSeconds: deps.nowSeconds(),
      });
      if (!verdict.ok) throw new HttpError(401, verdict.reason);
      if (!String(request.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) throw new HttpError(400, 'expected a form (application/x-www-form-urlencoded)');
      const form = new URLSearchParams(body.toString('utf8'));
      if (path === '/slack/commands') {
        if (!form.get('user_id') || form.get('text') === null) throw new HttpError(400, 'a slash command needs user_id and text');
        send(response, 200, await deps.chatops.command(form));
        return { status: 200 };
      }
      let payload: unknown;
      try {
        payload = JSON.parse(form.get('payload') ?? '');
      } catch {
        throw new HttpError(400, 'the form field payload must hold JSON');
      }
      if (!payload || typeof payload !== 'object') throw new HttpError(400, 'the form field payload must hold a JSON object');
      // Slack wants the answer at once; what follows is said through response_url and message updates.
      response.writeHead(200).end();
      await deps.chatops.interaction(payload);
      return { status: 200 };
    }
    throw new HttpError(404, 'no such route');
  };

  return createServer((request, response) => {
    const started = performance.now();
    const url = new URL(request.url ?? '/', 'http://serve.local');
    const done = (status: number, error?: string) => {
      deps.metrics.recordRequest(url.pathname.startsWith('/api/') || url.pathname.startsWith('/slack/') ? url.pathname : url.pathname === '/healthz' || url.pathname === '/metrics' ? url.pathname : 'other', status);
      deps.log({ method: request.method ?? '?', path: url.pathname, status, ms: Math.round(performance.now() - started), ...(error ? { error } : {}) });
    };
    handle(request, response, url).then(
      ({ status }) => done(status),
      (error: unknown) => {
        const status = error instanceof HttpError ? error.status : 500;
        const message = error instanceof HttpError ? error.message : 'internal error';
        if (!response.headersSent) send(response, status, { ok: false, error: message });
        else response.end();
        done(status, error instanceof HttpError ? error.message : (error as Error).message);
      },
    );
  });
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}
