// Slack and webhook notifications: one message per deploy, rollback and promotion. Sent with got (its
// own retry off), retried by p-retry, within a short overall time limit. A notification that fails
// warns; it never changes the deployment's result or exit code.
import { formatDuration } from '../config/duration.js';
import { maskValues as maskText } from '../config/secret-env.js';
import type { DeployRecord } from '../state/types.js';

type On = 'failure' | 'success' | 'rollback' | 'promote';

interface NotificationsConfig {
  /** Overall time limit of all notifications of one record, in ms (resolveApp converts and checks it; default 10s). */
  timeout?: number;
  slack?: { webhook_url: string; channel?: string; on?: On[] };
  webhooks?: Array<{ url: string; headers?: Record<string, string>; on?: On[] }>;
}

interface NotifyResult {
  target: string;
  ok: boolean;
  attempts: number;
  error?: string;
}

type Post = (url: string, body: unknown, headers: Record<string, string>, timeoutMs: number) => Promise<{ status: number }>;

async function gotPost(url: string, body: unknown, headers: Record<string, string>, timeoutMs: number): Promise<{ status: number }> {
  const { got } = await import('../vendor/got.js');
  const response = await got.post(url, { json: body, headers, retry: { limit: 0 }, timeout: { request: timeoutMs }, throwHttpErrors: false });
  return { status: response.statusCode };
}

function wanted(on: On[] | undefined, record: DeployRecord): boolean {
  if (!on?.length) return true;
  const kinds: On[] = [record.status === 'succeeded' ? 'success' : 'failure'];
  if (record.action === 'rollback' || record.status === 'rolled_back') kinds.push('rollback');
  if (record.action === 'promote') kinds.push('promote');
  return kinds.some((k) => on.includes(k));
}

function summary(record: DeployRecord, previousVersion?: string) {
  const failed = record.steps.find((s) => s.exitCode !== 0 && !s.skipped);
  return {
    app: record.app,
    env: record.env,
    version: record.version,
    previousVersion: previousVersion ?? null,
    action: record.action,
    status: record.status,
    durationMs: record.durationMs ?? null,
    user: record.user,
    host: record.host,
    recordId: record.id,
    ciRunUrl: record.ci?.runUrl ?? null,
    error: record.error?.message ?? null,
    failingStep: failed ? { label: failed.label, output: (failed.output ?? '').trimEnd().split('\n').slice(-10).join('\n') } : null,
    notes: record.notes ?? [],
  };
}

export function slackMessage(record: DeployRecord, channel?: string, previousVersion?: string) {
  const s = summary(record, previousVersion);
  const icon = s.status === 'succeeded' ? ':white_check_mark:' : s.status === 'rolled_back' ? ':leftwards_arrow_with_hook:' : ':x:';
  const title = `${icon} ${s.action} ${s.app} ${s.action === 'destroy' ? 'in' : 'to'} ${s.env}: ${s.status}`;
  const fields = [
    `*App*\n${s.app}`,
    `*Environment*\n${s.env}`,
    `*Version*\n${s.previousVersion && s.action !== 'rollback' && s.action !== 'destroy' ? `${s.previousVersion} → ` : ''}${s.version}`,
    `*Result*\n${s.status}`,
    `*Duration*\n${s.durationMs !== null ? formatDuration(s.durationMs) : '-'}`,
    `*By*\n${s.user}@${s.host}`,
  ].map((text) => ({ type: 'mrkdwn', text }));
  const blocks: unknown[] = [
    { type: 'header', text: { type: 'plain_text', text: title.replace(/:[a-z_]+: /, '') } },
    { type: 'section', fields },
  ];
  if (s.ciRunUrl) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `<${s.ciRunUrl}|CI run>` }] });
  if (s.error) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `*Error*: ${s.error}` } });
  if (s.failingStep) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: `*${s.failingStep.label}*\n\`\`\`${s.failingStep.output}\`\`\`` } });
  for (const note of s.notes) blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: note }] });
  return { text: title, ...(channel ? { channel } : {}), blocks };
}

export async function sendNotifications(
  record: DeployRecord,
  config: NotificationsConfig | undefined,
  options: {
    secretValues: string[];
    warn(message: string): void;
    previousVersion?: string;
    timeoutMs?: number;
    attemptTimeoutMs?: number;
    post?: Post;
    /** Called with the targets about to be sent to, when there are any. */
    onSend?(targets: string[]): void;
  },
): Promise<NotifyResult[]> {
  if (!config) return [];
  const deliveries: Array<{ target: string; url: string; body: unknown; headers: Record<string, string> }> = [];
  if (config.slack?.webhook_url && wanted(config.slack.on, record)) {
    deliveries.push({ target: 'slack', url: config.slack.webhook_url, body: slackMessage(record, config.slack.channel, options.previousVersion), headers: {} });
  }
  for (const hook of config.webhooks ?? []) {
    if (wanted(hook.on, record)) deliveries.push({ target: `webhook ${maskText(withoutPassword(hook.url), options.secretValues)}`, url: hook.url, body: { schemaVersion: 1, event: record.action, ...summary(record, options.previousVersion) }, headers: hook.headers ?? {} });
  }
  if (deliveries.length === 0) return [];
  options.onSend?.(deliveries.map((d) => d.target));
  const { pRetry } = await import('../vendor/p-retry.js');
  const post = options.post ?? gotPost;
  // A record saved before resolveApp converted notifications.timeout holds the text ("30s"): the default then.
  const deadline = Date.now() + (options.timeoutMs ?? (typeof config.timeout === 'number' ? config.timeout : 10_000));
  const mask = (value: unknown) => JSON.parse(maskText(JSON.stringify(value), options.secretValues)) as unknown;
  return Promise.all(
    deliveries.map(async (d): Promise<NotifyResult> => {
      let attempts = 0;
      try {
        await pRetry(
          async () => {
            attempts += 1;
            const left = deadline - Date.now();
            if (left <= 0) throw new Error('out of time');
            const { status } = await post(d.url, mask(d.body), d.headers, Math.min(options.attemptTimeoutMs ?? 3000, left));
            if (status >= 300) throw new Error(`status ${status}`);
          },
          { retries: 2, minTimeout: 200, factor: 2, maxRetryTime: Math.max(0, deadline - Date.now()), shouldRetry: () => Date.now() < deadline },
        );
        return { target: d.target, ok: true, attempts };
      } catch (error) {
        const message = maskText((error as Error).message, options.secretValues);
        options.warn(`${d.target} notification failed after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${message} (the deployment result is unchanged)`);
        return { target: d.target, ok: false, attempts, error: message };
      }
    }),
  );
}

/** A URL as shown: the password of `scheme://user:password@host` as `***`, like a state URL's. */
export function withoutPassword(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:@/?#]*:)[^@/?#]*@/i, '$1***@');
}
