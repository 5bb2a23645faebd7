// `chatops:` of deployments.yaml: the channel deployctl posts in, who may deploy from Slack, who
// approves a protected environment, and how long an approval request waits. Read by `serve` and by a
// CLI run with --approval slack.
import { parseDuration } from '../config/duration.js';
import { UsageError } from '../errors.js';

export interface ChatopsConfig {
  channel?: string;
  /** Slack user ids allowed to deploy, promote and roll back, by environment; "*" for any environment without its own list. */
  allow: Record<string, string[]>;
  /** Who may approve, by protected environment ("*": any without its own list). */
  approvers: Record<string, string[]>;
  approvalTimeoutMs: number;
}

export function chatopsConfig(raw: unknown): ChatopsConfig {
  const c = (raw ?? {}) as { channel?: string; allow?: Record<string, string[]>; approvers?: Record<string, string[]>; approval_timeout?: string | number };
  const timeout = c.approval_timeout === undefined ? 3_600_000 : parseDuration(c.approval_timeout);
  if (timeout === undefined || timeout <= 0) throw new UsageError(`chatops.approval_timeout ${JSON.stringify(c.approval_timeout)} is not a duration`, 'for example approval_timeout: 1h');
  return { channel: c.channel, allow: c.allow ?? {}, approvers: c.approvers ?? {}, approvalTimeoutMs: timeout };
}

/** Who may approve in an environment: its own list, else the "*" list. */
export function approversOf(config: ChatopsConfig, env: string): string[] {
  return config.approvers[env] ?? config.approvers['*'] ?? [];
}
