// What `serve` says in Slack: messages in a channel (posted, then updated as a deployment goes) through
// the Web API (@slack/web-api, loaded when serve starts), and answers to a slash command's
// response_url. The Web API client's own retries are off: p-retry is the one retry layer.
import { pRetry } from '../vendor/p-retry.js';

export interface SlackMessage {
  text: string;
  blocks?: unknown[];
}

export interface SlackClient {
  postMessage(channel: string, message: SlackMessage): Promise<{ channel: string; ts: string }>;
  update(channel: string, ts: string, message: SlackMessage): Promise<void>;
  /** An answer to a slash command or a button click, through its response_url. */
  respond(responseUrl: string, body: SlackMessage & { response_type?: 'ephemeral' | 'in_channel'; replace_original?: boolean }): Promise<void>;
}

interface SlackClientOptions {
  token?: string;
  /** The Web API's base URL (DEPLOYCTL_SLACK_API_URL), Slack's by default. */
  apiUrl?: string;
  warn: (message: string) => void;
}

const RETRIES = { retries: 3, minTimeout: 200, maxTimeout: 2000 };

export async function createSlackClient(options: SlackClientOptions): Promise<SlackClient> {
  const { WebClient } = await import('@slack/web-api');
  const apiUrl = options.apiUrl ? (options.apiUrl.endsWith('/') ? options.apiUrl : `${options.apiUrl}/`) : undefined;
  const web = new WebClient(options.token, {
    ...(apiUrl ? { slackApiUrl: apiUrl } : {}),
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    logger: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {}, setLevel: () => {}, getLevel: () => 'error' as never, setName: () => {} },
  });
  const needToken = (what: string) => {
    if (!options.token) throw new Error(`SLACK_BOT_TOKEN is not set: cannot ${what}`);
  };
  return {
    async postMessage(channel, message) {
      needToken('post in Slack');
      const answer = await pRetry(() => web.chat.postMessage({ channel, text: message.text, ...(message.blocks ? { blocks: message.blocks as never } : {}) }), RETRIES);
      return { channel: answer.channel ?? channel, ts: answer.ts ?? '' };
    },
    async update(channel, ts, message) {
      needToken('update a Slack message');
      await pRetry(() => web.chat.update({ channel, ts, text: message.text, blocks: (message.blocks ?? []) as never }), RETRIES);
    },
    async respond(responseUrl, body) {
      await pRetry(async () => {
        const answer = await fetch(responseUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
        if (answer.status >= 500 || answer.status === 429) throw new Error(`response_url answered ${answer.status}`);
        if (answer.status >= 400) options.warn(`Slack refused an answer to response_url: status ${answer.status}`);
      }, RETRIES);
    },
  };
}
