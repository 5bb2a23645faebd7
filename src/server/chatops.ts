// Slack ChatOps over deployctl: slash commands and approval buttons. Reads are open to the workspace;
// deploy, promote and rollback need the user in `chatops.allow` for the environment, and a protected
// environment needs an approval from a listed approver who is not the requester (four eyes). Every
// command runs as a deployctl process of its own (jobs.ts), with the same engine, locks and history as
// the CLI; the user is named in the record, and every action goes to the audit log.
import { formatDuration } from '../config/duration.js';
import { approvalMessage } from '../notify/slack-approval.js';
import type { ChatopsConfig } from '../notify/chatops-config.js';
import type { Approval, ApprovalRequest } from '../state/approvals.js';
import type { StateStore } from '../state/port.js';
import type { Job, JobOptions } from './jobs.js';
import type { Metrics } from './metrics.js';
import type { SlackClient, SlackMessage } from '../notify/slack-client.js';
import { argvOf, describe, isMutating, parseSlash, SlashError, USAGE, type MutatingCommand, type SlashCommand } from './slash.js';


export interface TargetFacts {
  chatops: ChatopsConfig;
  /** Environment names in promotion order, and which are protected. */
  environments: Array<{ name: string; protected: boolean }>;
}

interface SlackUser {
  id: string;
  name: string;
}

interface ChatopsDeps {
  state: StateStore;
  slack: SlackClient;
  metrics: Metrics;
  /** chatops: and the environments, read from the config for each request (it may change while serve runs). */
  facts(): Promise<TargetFacts>;
  startJob(options: Omit<JobOptions, 'globals' | 'cwd'>): Job;
  env: NodeJS.ProcessEnv;
  now(): Date;
  warn(message: string): void;
}

interface SlashReply {
  response_type: 'ephemeral' | 'in_channel';
  text: string;
}

const listOf = (ids: string[]) => ids.map((id) => `<@${id}>`).join(', ');

export class Chatops {
  /** Running jobs and the work after them, so a shutdown can wait for them or interrupt them. */
  private readonly running = new Set<{ job?: Job; done: Promise<void> }>();
  private readonly expiries = new Map<string, NodeJS.Timeout>();
  private closing = false;

  constructor(private readonly deps: ChatopsDeps) {}

  /** A slash command: the immediate answer (Slack waits 3 s for it); the result follows to response_url. */
  async command(form: URLSearchParams): Promise<SlashReply> {
    const user: SlackUser = { id: form.get('user_id') ?? '', name: form.get('user_name') ?? form.get('user_id') ?? '' };
    const responseUrl = form.get('response_url') ?? '';
    const channel = form.get('channel_id') ?? '';
    let command: SlashCommand;
    try {
      command = parseSlash(form.get('text') ?? '');
    } catch (error) {
      if (error instanceof SlashError) return { response_type: 'ephemeral', text: `${error.message}\n${USAGE.join('\n')}` };
      throw error;
    }
    if (command.kind === 'help') return { response_type: 'ephemeral', text: `deployctl commands:\n${USAGE.join('\n')}` };
    if (this.closing) return { response_type: 'ephemeral', text: 'deployctl serve is shutting down: try again in a moment' };
    if (!isMutating(command)) {
      this.track(this.read(command, responseUrl));
      return { response_type: 'ephemeral', text: `running \`${describe(command)}\`…` };
    }
    const facts = await this.deps.facts();
    // A promotion without an environment goes to the next one: ask deployctl which, before deciding who may.
    let env = command.env;
    if (!env) {
      const preview = await this.deps.startJob({ args: [...argvOf(command), '--dry-run'], env: this.deps.env, json: true }).done;
      env = typeof preview.json?.env === 'string' ? (preview.json.env as string) : undefined;
      if (!env) return { response_type: 'ephemeral', text: `cannot promote ${command.app}: ${jobError(preview)}` };
      command = { ...command, env } as MutatingCommand;
    }
    const refusal = this.refusal(facts, user, command.kind, env);
    if (refusal) {
      await this.audit({ action: 'chatops', app: command.app, env, result: `refused ${command.kind}`, user, details: { text: describe(command) } });
      return { response_type: 'ephemeral', text: refusal };
    }
    const target = facts.environments.find((e) => e.name === env);
    if (target?.protected) return this.askApproval(command as MutatingCommand, env, user, facts, channel);
    this.track(this.run(command as MutatingCommand, env, user, facts.chatops.channel ?? channel, responseUrl, false));
    return { response_type: 'ephemeral', text: `\`${describe(command)}\`: started, follow it in <#${facts.chatops.channel ?? channel}>` };
  }

  /** Why this user may not do this here, naming what they may do; undefined when allowed. */
  private refusal(facts: TargetFacts, user: SlackUser, action: string, env: string): string | undefined {
    const allowed = (e: string) => (facts.chatops.allow[e] ?? facts.chatops.allow['*'] ?? []).includes(user.id);
    if (allowed(env)) return undefined;
    const where = facts.environments.map((e) => e.name).filter(allowed);
    return (
      `you may not ${action} in ${env}. ` +
      (where.length ? `You may deploy, promote and roll back in: ${where.join(', ')}.` : 'You may not deploy, promote or roll back anywhere.') +
      ' Anyone may use list, status, history and diff. Access is set in deployments.yaml under chatops.allow.'
    );
  }

  private async read(command: SlashCommand, responseUrl: string): Promise<void> {
    // The answer first: starting a process (fork and exec) would hold it up, and Slack waits for it.
    await new Promise((resolve) => setImmediate(resolve));
    const result = await this.deps.startJob({ args: argvOf(command), env: this.deps.env, json: false }).done;
    const text = result.exitCode === 0 ? '```\n' + (result.stdout || '(nothing)').trimEnd() + '\n```' : `\`${describe(command)}\` failed: ${jobError(result)}`;
    await this.deps.slack.respond(responseUrl, { response_type: 'in_channel', text }).catch((e: Error) => this.deps.warn(`could not answer in Slack: ${e.message}`));
  }

  private async askApproval(command: MutatingCommand, env: string, user: SlackUser, facts: TargetFacts, channel: string): Promise<SlashReply> {
    const approvers = facts.chatops.approvers[env] ?? facts.chatops.approvers['*'] ?? [];
    const others = approvers.filter((id) => id !== user.id);
    if (others.length === 0) {
      return {
        response_type: 'ephemeral',
        text: `${env} is protected and has no approver other than you: add Slack user ids under chatops.approvers.${env} in deployments.yaml`,
      };
    }
    const now = this.deps.now();
    const approval = await this.deps.state.approvals.create({
      action: command.kind,
      app: command.app,
      env,
      ...(command.kind === 'deploy' ? { version: command.version } : {}),
      args: [...argvOf(command), '--yes'],
      origin: 'slack',
      requestedBy: { name: user.name, slackId: user.id },
      requestedAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + facts.chatops.approvalTimeoutMs).toISOString(),
    });
    const where = facts.chatops.channel ?? channel;
    const posted = await this.deps.slack.postMessage(where, requestMessage(approval, others));
    approval.message = { channel: posted.channel, ts: posted.ts };
    await this.deps.state.approvals.update(stripStatus(approval));
    this.scheduleExpiry(approval);
    await this.audit({ action: 'approval', app: command.app, env, result: 'requested', user, details: { approval: approval.id, text: describe(command) } });
    return { response_type: 'ephemeral', text: `${env} is protected: approval requested from ${listOf(others)} (expires in ${formatDuration(facts.chatops.approvalTimeoutMs)})` };
  }

  /** A button click in an approval message. The HTTP answer is empty; what happened is said in Slack. */
  async interaction(payload: any): Promise<void> {
    const action = payload?.actions?.[0];
    const id = typeof action?.value === 'string' ? action.value : '';
    const user: SlackUser = { id: String(payload?.user?.id ?? ''), name: String(payload?.user?.username ?? payload?.user?.name ?? payload?.user?.id ?? '') };
    const responseUrl = typeof payload?.response_url === 'string' ? payload.response_url : undefined;
    const tell = async (text: string) => {
      if (responseUrl) await this.deps.slack.respond(responseUrl, { response_type: 'ephemeral', replace_original: false, text }).catch((e: Error) => this.deps.warn(`could not answer in Slack: ${e.message}`));
    };
    if (action?.action_id !== 'approve' && action?.action_id !== 'reject') return tell('unknown action');
    const approval = await this.deps.state.approvals.get(id);
    if (!approval) return tell(`no approval request ${id}`);
    if (approval.status !== 'pending') return tell(`this request was already ${approval.status}${approval.decision?.by ? ` by ${approval.decision.by.name}` : ''}`);
    if (Date.parse(approval.expiresAt) <= this.deps.now().getTime()) {
      await this.expire(approval.id);
      return tell('this request has expired');
    }
    const facts = await this.deps.facts();
    const approvers = facts.chatops.approvers[approval.env] ?? facts.chatops.approvers['*'] ?? [];
    if (!approvers.includes(user.id)) return tell(`only ${listOf(approvers.filter((a) => a !== approval.requestedBy.slackId))} may decide on ${approval.env}`);
    if (action.action_id === 'approve' && user.id === approval.requestedBy.slackId) {
      await this.audit({ action: 'approval', app: approval.app, env: approval.env, result: 'refused self-approval', user, details: { approval: approval.id } });
      return tell('you asked for this one: another approver must approve it (four eyes)');
    }
    const status = action.action_id === 'approve' ? 'approved' : 'rejected';
    const { approval: decided, won } = await this.deps.state.approvals.decide(approval.id, { status, at: this.deps.now().toISOString(), by: { name: user.name, slackId: user.id } });
    if (!won) return tell(`this request was already ${decided.status}${decided.decision?.by ? ` by ${decided.decision.by.name}` : ''}`);
    this.clearExpiry(approval.id);
    await this.audit({ action: 'approval', app: approval.app, env: approval.env, result: status, user, details: { approval: approval.id, requestedBy: approval.requestedBy } });
    await this.showDecision(decided);
    if (status === 'approved' && decided.origin === 'slack' && decided.args) {
      const requester: SlackUser = { id: decided.requestedBy.slackId ?? '', name: decided.requestedBy.name };
      this.track(this.run(commandOf(decided), decided.env, requester, decided.message?.channel ?? facts.chatops.channel ?? '', undefined, true, user));
    }
  }

  /** Runs a deploy, promotion or rollback, with a channel message updated as it goes. */
  private async run(command: MutatingCommand, env: string, user: SlackUser, channel: string, responseUrl: string | undefined, approved: boolean, approver?: SlackUser): Promise<void> {
    const started = Date.now();
    const what = `${command.kind} ${command.app}${command.kind === 'deploy' ? ` ${command.version}` : ''} to ${env}`;
    const asked = `asked by <@${user.id}>${approver ? `, approved by <@${approver.id}>` : ''}`;
    let message: { channel: string; ts: string } | undefined;
    try {
      message = await this.deps.slack.postMessage(channel, { text: `⏳ ${what} (${asked}): starting` });
    } catch (error) {
      this.deps.warn(`could not post in Slack: ${(error as Error).message}`);
    }
    let lastUpdate = 0;
    let progress = 'starting';
    let recordId: string | undefined;
    let version = command.kind === 'deploy' ? command.version : undefined;
    const job = this.deps.startJob({
      args: [...argvOf(command), ...(approved ? ['--yes'] : [])],
      env: { ...this.deps.env, DEPLOYCTL_USER: `${user.name} (slack ${user.id})` },
      json: true,
      onProgress: (event) => {
        if (event.event === 'started') {
          recordId = String(event.recordId ?? '');
          version = String(event.version ?? version ?? '');
        }
        if (event.event === 'phase' && typeof event.phase === 'string') progress = `${event.phase} ${event.status}`;
        // At most one update a second: Slack limits chat.update.
        if (message && Date.now() - lastUpdate > 1000) {
          lastUpdate = Date.now();
          void this.deps.slack.update(message.channel, message.ts, { text: `⏳ ${what.replace(command.app, `${command.app}${version && command.kind !== 'deploy' ? ` ${version}` : ''}`)} (${asked}): ${progress}${recordId ? `, record ${recordId}` : ''}` }).catch(() => undefined);
        }
      },
    });
    const entry = { job, done: Promise.resolve() };
    this.running.add(entry);
    try {
      const result = await job.done;
      const record = result.json?.record;
      const seconds = (Date.now() - started) / 1000;
      const outcome = result.exitCode === 0 ? 'succeeded' : record?.status ?? REFUSED[result.exitCode] ?? `exit code ${result.exitCode}`;
      this.deps.metrics.recordRun({ app: command.app, env, action: command.kind, result: result.exitCode === 0 ? 'succeeded' : 'failed' }, seconds);
      const rolledBack = (result.json?.rollbacks ?? []).find((r: any) => r.status === 'succeeded');
      const text =
        (result.exitCode === 0 ? '✅' : '❌') +
        ` ${command.kind} ${command.app} ${record?.version ?? version ?? ''} to ${env}: ${outcome} in ${formatDuration(seconds * 1000)} (${asked})` +
        (record?.id ? `, record ${record.id}` : '') +
        (result.exitCode === 0 ? '' : `\n${jobError(result)}`) +
        (rolledBack ? `\nrolled back automatically to ${rolledBack.version}` : '');
      if (message) await this.deps.slack.update(message.channel, message.ts, { text }).catch((e: Error) => this.deps.warn(`could not update the Slack message: ${e.message}`));
      if (responseUrl) await this.deps.slack.respond(responseUrl, { response_type: 'ephemeral', text }).catch((e: Error) => this.deps.warn(`could not answer in Slack: ${e.message}`));
      await this.audit({ action: 'chatops', app: command.app, env, result: outcome, user, details: { text: describe(command), recordId: record?.id, exitCode: result.exitCode, ...(approver ? { approvedBy: approver } : {}) } });
    } finally {
      this.running.delete(entry);
    }
  }

  private async showDecision(approval: Approval): Promise<void> {
    if (!approval.message) return;
    const by = approval.decision?.by ? ` by <@${approval.decision.by.slackId ?? approval.decision.by.name}>` : '';
    const icon = approval.status === 'approved' ? '✅' : approval.status === 'rejected' ? '🚫' : '⌛';
    await this.deps.slack
      .update(approval.message.channel, approval.message.ts, { text: `${icon} ${summary(approval)}: ${approval.status}${by}` })
      .catch((e: Error) => this.deps.warn(`could not update the Slack message: ${e.message}`));
  }

  /** Expiry timers for the requests this server knows (its own, and the pending ones found at start). */
  scheduleExpiry(approval: Approval | ApprovalRequest): void {
    this.clearExpiry(approval.id);
    const wait = Math.max(0, Math.min(Date.parse(approval.expiresAt) - this.deps.now().getTime(), 2 ** 31 - 1));
    const timer = setTimeout(() => void this.expire(approval.id).catch((e: Error) => this.deps.warn(`approval ${approval.id}: ${e.message}`)), wait);
    timer.unref();
    this.expiries.set(approval.id, timer);
  }

  private clearExpiry(id: string): void {
    clearTimeout(this.expiries.get(id));
    this.expiries.delete(id);
  }

  private async expire(id: string): Promise<void> {
    this.clearExpiry(id);
    const { approval, won } = await this.deps.state.approvals.decide(id, { status: 'expired', at: this.deps.now().toISOString(), reason: 'no decision in time' });
    if (!won) return;
    await this.audit({ action: 'approval', app: approval.app, env: approval.env, result: 'expired', user: { id: approval.requestedBy.slackId ?? '', name: approval.requestedBy.name }, details: { approval: id } });
    await this.showDecision(approval);
  }

  private async audit(entry: { action: 'chatops' | 'approval'; app: string; env: string; result: string; user: SlackUser; details?: Record<string, unknown> }): Promise<void> {
    await this.deps.state.audit
      .append({
        at: this.deps.now().toISOString(),
        action: entry.action,
        app: entry.app,
        env: entry.env,
        result: entry.result,
        user: entry.user.name,
        host: 'slack',
        details: { slackUserId: entry.user.id, ...entry.details },
      })
      .catch((e: Error) => this.deps.warn(`${e.message}: the audit log lacks this ${entry.action}`));
  }

  private track(work: Promise<void>): void {
    const entry = { done: work.catch((e: Error) => this.deps.warn(`chatops: ${e.message}`)) };
    this.running.add(entry);
    void entry.done.finally(() => this.running.delete(entry));
  }

  /** Take no new work; wait up to graceMs for what runs, then interrupt it (recorded as interrupted) and wait for that. */
  async drain(graceMs: number): Promise<void> {
    this.closing = true;
    for (const timer of this.expiries.values()) clearTimeout(timer);
    const all = () => Promise.all([...this.running].map((r) => r.done));
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), graceMs)));
    const first = await Promise.race([all().then(() => 'done' as const), graceOver]);
    clearTimeout(timer);
    if (first === 'late') {
      for (const r of this.running) r.job?.terminate();
      await all();
    }
  }

  get busy(): number {
    return [...this.running].filter((r) => r.job).length;
  }
}

/** What a command that did not start said with its exit code. */
const REFUSED: Record<number, string> = { 2: 'refused (bad input)', 5: 'refused (locked)', 6: 'refused (approval needed)', 130: 'interrupted' };

function jobError(result: { exitCode: number; json?: any; stderrTail: string }): string {
  const error = result.json?.error ?? result.json?.record?.error;
  const message = typeof error === 'string' ? error : error?.message;
  const hint = result.json?.error?.hint;
  return `${message ?? (result.stderrTail || `exit code ${result.exitCode}`)}${hint ? ` (${hint})` : ''}`;
}

function summary(a: ApprovalRequest): string {
  return `${a.action} ${a.app}${a.version ? ` ${a.version}` : ''} ${a.action === 'destroy' ? 'in' : 'to'} ${a.env}, asked by <@${a.requestedBy.slackId ?? a.requestedBy.name}>`;
}

function requestMessage(approval: Approval, approvers: string[]): SlackMessage {
  return approvalMessage(approval.id, `🔐 approval needed: ${summary(approval)}. Approvers: ${listOf(approvers)}. Expires ${approval.expiresAt}.`);
}

function stripStatus(approval: Approval): ApprovalRequest {
  const { status: _status, decision: _decision, ...request } = approval;
  return request;
}

function commandOf(approval: Approval): MutatingCommand {
  const to = approval.args?.[approval.args.indexOf('--to') + 1];
  if (approval.action === 'deploy') return { kind: 'deploy', app: approval.app, env: approval.env, version: approval.version ?? '' };
  if (approval.action === 'promote') return { kind: 'promote', app: approval.app, env: approval.env };
  return { kind: 'rollback', app: approval.app, env: approval.env, to: approval.args?.includes('--to') ? to : undefined };
}
