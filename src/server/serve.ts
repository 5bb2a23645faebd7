// Puts `deployctl serve` together: the state store, the Slack client, the chatops handler and the HTTP
// server; listens, and on SIGTERM/SIGINT stops taking work, lets running deployments finish within the
// grace period (then interrupts them: they record it), and resolves.
import type { AddressInfo } from 'node:net';
import { UsageError } from '../errors.js';
import type { StateStore } from '../state/port.js';
import { Chatops, type TargetFacts } from './chatops.js';
import { chatopsConfig } from '../notify/chatops-config.js';
import { createHttpServer } from './http.js';
import { deployctlEntry, startJob } from './jobs.js';
import { Metrics } from './metrics.js';
import { createSlackClient, type SlackClient } from '../notify/slack-client.js';

interface ServeOptions {
  host: string;
  port: number;
  graceMs: number;
  configDir: string;
  /** The global flags handed to each deployctl process serve starts (--config-dir, --home, --state). */
  globals: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  state: StateStore;
  loadConfig(): Promise<{ chatops?: unknown; environments: Array<{ name: string; protected: boolean }> }>;
  log(level: 'info' | 'warn', event: string, message: string, fields?: Record<string, unknown>): void;
  /** For tests: a Slack client of their own. */
  slack?: SlackClient;
  /** Resolves when serve should stop (a signal); tests stop it themselves. */
  stopSignal: Promise<string>;
  /** Called once listening, with the address. */
  onListening?(address: { host: string; port: number }): void;
}


export async function serve(options: ServeOptions): Promise<void> {
  const warn = (message: string) => options.log('warn', 'serve', message);
  const env = options.env;
  if (!env.SLACK_SIGNING_SECRET) warn('SLACK_SIGNING_SECRET is not set: the Slack routes answer 503 until it is');
  const slack = options.slack ?? (await createSlackClient({ token: env.SLACK_BOT_TOKEN, apiUrl: env.DEPLOYCTL_SLACK_API_URL, warn }));
  const metrics = new Metrics();
  const entry = deployctlEntry();
  // The child processes never see serve's own Slack and API secrets.
  const childEnv = { ...env };
  for (const name of ['SLACK_SIGNING_SECRET', 'DEPLOYCTL_API_TOKEN']) delete childEnv[name];
  const run = (job: Parameters<typeof startJob>[0]) => startJob(job, entry);
  const facts = async (): Promise<TargetFacts> => {
    const loaded = await options.loadConfig();
    return { chatops: chatopsConfig(loaded.chatops), environments: loaded.environments };
  };
  // A config that cannot be read is said at start, not at the first slash command.
  await facts();
  const chatops = new Chatops({
    state: options.state,
    slack,
    metrics,
    facts,
    env: childEnv,
    now: () => new Date(),
    warn,
    startJob: (job) => run({ ...job, globals: options.globals, cwd: options.cwd }),
  });
  for (const pending of await options.state.approvals.pending()) chatops.scheduleExpiry(pending);
  const server = createHttpServer({
    chatops,
    metrics,
    signingSecret: env.SLACK_SIGNING_SECRET,
    apiToken: env.DEPLOYCTL_API_TOKEN,
    read: (args) => run({ args, globals: options.globals, cwd: options.cwd, env: childEnv, json: true }).done,
    approvalsPending: async () => (await options.state.approvals.pending()).length,
    log: ({ method, path, status, ms, error }) =>
      options.log(status >= 500 ? 'warn' : 'info', 'request', `${method} ${path} ${status} ${ms}ms${error ? ` (${error})` : ''}`, { method, path, status, ms, ...(error ? { error } : {}) }),
    nowSeconds: () => Math.floor(Date.now() / 1000),
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? new UsageError(`${options.host}:${options.port} is in use`, 'pick another with --port') : error.code === 'EACCES' ? new UsageError(`not allowed to listen on ${options.host}:${options.port}`, 'use a port above 1023') : error),
    );
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  options.log('info', 'listening', `deployctl serve listening on http://${address.address}:${address.port}`, { host: address.address, port: address.port });
  options.onListening?.({ host: address.address, port: address.port });
  const why = await options.stopSignal;
  options.log('info', 'stopping', `${why}: taking no new requests; waiting up to ${Math.round(options.graceMs / 1000)}s for ${chatops.busy} running deployment(s)`);
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  await chatops.drain(options.graceMs);
  server.closeAllConnections();
  await closed;
  options.log('info', 'stopped', 'deployctl serve stopped');
}
