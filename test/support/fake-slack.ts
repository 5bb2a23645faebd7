// A fake Slack for serve's tests: a real HTTP server on 127.0.0.1 that answers the Web API methods
// serve calls (chat.postMessage, chat.update) and takes response_url posts, recording every call, and
// the signing of requests as Slack does it.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { slackSignature } from '../../src/server/slack-signature.js';

export interface SlackCall {
  method: string;
  /** The call's fields (Web API: form fields, JSON-decoded where they hold JSON; response_url: the JSON body). */
  body: Record<string, any>;
  /** The message's ts that chat.postMessage answered with. */
  ts?: string;
}

export interface FakeSlack {
  url: string;
  calls: SlackCall[];
  responseUrl(name: string): string;
  /** Resolves with the first call (past `from`) that matches. */
  waitFor(match: (call: SlackCall) => boolean, timeoutMs?: number): Promise<SlackCall>;
  close(): Promise<void>;
}

export async function startFakeSlack(): Promise<FakeSlack> {
  const calls: SlackCall[] = [];
  const waiters: Array<{ match: (c: SlackCall) => boolean; resolve: (c: SlackCall) => void }> = [];
  let ts = 1000;
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const method = (request.url ?? '/').replace(/^\/(api\/)?/, '');
      let body: Record<string, any> = {};
      if (String(request.headers['content-type']).includes('json')) body = raw ? JSON.parse(raw) : {};
      else
        for (const [k, v] of new URLSearchParams(raw)) {
          try {
            body[k] = k === 'blocks' || k === 'attachments' ? JSON.parse(v) : v;
          } catch {
            body[k] = v;
          }
        }
      const call: SlackCall = { method, body, ...(method === 'chat.postMessage' ? { ts: String(++ts) } : {}) };
      calls.push(call);
      for (const w of [...waiters]) {
        if (w.match(call)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(call);
        }
      }
      response.writeHead(200, { 'content-type': 'application/json' });
      if (method.startsWith('chat.')) response.end(JSON.stringify({ ok: true, channel: body.channel, ts: call.ts ?? body.ts }));
      else response.end('{"ok":true}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    calls,
    responseUrl: (name) => `${url}/response/${name}`,
    waitFor(match, timeoutMs = 30_000) {
      const found = calls.find(match);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no Slack call matched in ${timeoutMs} ms; calls: ${JSON.stringify(calls, null, 1).slice(0, 3000)}`)), timeoutMs);
        waiters.push({ match, resolve: (c) => (clearTimeout(timer), resolve(c)) });
      });
    },
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/** The headers Slack sends with a signed request. */
export function signedHeaders(secret: string, body: string, timestamp = Math.floor(Date.now() / 1000)): Record<string, string> {
  return {
    'content-type': 'application/x-www-form-urlencoded',
    'x-slack-request-timestamp': String(timestamp),
    'x-slack-signature': slackSignature(secret, String(timestamp), body),
  };
}
