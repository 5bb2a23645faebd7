// `--approval slack`: a CI run hands a protected deployment to a human. The run posts an approval
// request (Approve / Reject buttons) in the chatops channel and waits; `deployctl serve` takes the
// click, checks that the user is a listed approver, and records the decision in the state backend,
// where this run sees it (file: one machine; PostgreSQL: any). No decision in time: expired (exit 6).
import { formatDuration } from '../config/duration.js';
import type { ApprovalAction, ApprovalStatus } from '../state/approvals.js';
import type { StateStore } from '../state/port.js';
import type { SlackClient, SlackMessage } from './slack-client.js';

interface SlackApprovalRequest {
  action: ApprovalAction;
  app: string;
  env: string;
  version?: string;
  requestedBy: string;
  channel: string;
  approvers: string[];
  waitMs: number;
}

export async function waitForSlackApproval(
  request: SlackApprovalRequest,
  deps: { state: StateStore; slack: SlackClient; now?: () => Date; signal?: AbortSignal; log: (message: string) => void },
): Promise<{ status: Exclude<ApprovalStatus, 'pending'>; by?: string; id: string }> {
  const now = deps.now ?? (() => new Date());
  const started = now();
  const approval = await deps.state.approvals.create({
    action: request.action,
    app: request.app,
    env: request.env,
    ...(request.version ? { version: request.version } : {}),
    origin: 'cli',
    requestedBy: { name: request.requestedBy },
    requestedAt: started.toISOString(),
    expiresAt: new Date(started.getTime() + request.waitMs).toISOString(),
  });
  const what = `${request.action} ${request.app}${request.version ? ` ${request.version}` : ''} ${request.action === 'destroy' ? 'in' : 'to'} ${request.env}, asked by ${request.requestedBy}`;
  const text = `🔐 approval needed: ${what}. Approvers: ${request.approvers.map((id) => `<@${id}>`).join(', ') || 'see chatops.approvers'}. Expires ${approval.expiresAt}.`;
  const posted = await deps.slack.postMessage(request.channel, approvalMessage(approval.id, text));
  const { status: _s, decision: _d, ...stored } = approval;
  await deps.state.approvals.update({ ...stored, message: { channel: posted.channel, ts: posted.ts } });
  deps.log(`approval requested in Slack (${approval.id}): waiting up to ${formatDuration(request.waitMs)} for ${request.approvers.length ? request.approvers.join(', ') : 'an approver'}`);

  const decided = await new Promise<void>((resolve) => {
    let stopWatch = () => {};
    const finish = () => {
      clearTimeout(timer);
      clearInterval(poll);
      stopWatch();
      deps.signal?.removeEventListener('abort', finish);
      resolve();
    };
    const check = () =>
      void deps.state.approvals.get(approval.id).then((a) => {
        if (a && a.status !== 'pending') finish();
      });
    const timer = setTimeout(finish, Math.max(0, Math.min(request.waitMs, 2 ** 31 - 1)));
    // The store says when the state changes; a slow poll behind it, for a store that cannot.
    const poll = setInterval(check, 1000);
    stopWatch = deps.state.watch(check);
    deps.signal?.addEventListener('abort', finish, { once: true });
  });
  void decided;
  let final = await deps.state.approvals.get(approval.id);
  if (!final || final.status === 'pending') {
    const reason = deps.signal?.aborted ? 'interrupted while waiting' : 'no decision in time';
    final = (await deps.state.approvals.decide(approval.id, { status: 'expired', at: now().toISOString(), reason })).approval;
    const icon = final.status === 'approved' ? '✅' : final.status === 'rejected' ? '🚫' : '⌛';
    await deps.slack.update(posted.channel, posted.ts, { text: `${icon} ${what}: ${final.status}` }).catch(() => undefined);
  }
  return { status: final.status as Exclude<ApprovalStatus, 'pending'>, by: final.decision?.by?.name, id: approval.id };
}

/** An approval request in Slack: the text, and Approve / Reject buttons carrying the request's id. */
export function approvalMessage(id: string, text: string): SlackMessage {
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text } },
      {
        type: 'actions',
        block_id: `approval_${id}`,
        elements: [
          { type: 'button', action_id: 'approve', style: 'primary', text: { type: 'plain_text', text: 'Approve' }, value: id },
          { type: 'button', action_id: 'reject', style: 'danger', text: { type: 'plain_text', text: 'Reject' }, value: id },
        ],
      },
    ],
  };
}
