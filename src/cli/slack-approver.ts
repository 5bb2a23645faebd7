// --approval slack: the approver of a CI run that hands a protected deployment to a human in Slack.
// It posts the request (Approve / Reject) in chatops.channel and waits for the decision, which
// `deployctl serve` records in the state backend when a listed approver clicks. Approved: the
// deployment goes on (a later question of the same run, a terraform apply, is covered). Rejected or
// no decision in time: exit 6, saying which.
import type { Approver } from '../core/deps.js';
import { formatDuration } from '../config/duration.js';
import { ApprovalError, UsageError } from '../errors.js';
import { logLine, openContextState, type CliContext } from './context.js';

export function slackApprover(ctx: CliContext, waitMs: number, signal?: AbortSignal): Approver {
  let granted = false;
  return {
    approved: false,
    canAsk: true,
    async ask(question, about) {
      if (granted) return true;
      if (!about) throw new UsageError(`${question} cannot be asked in Slack`, 'pass --yes, or answer in a terminal');
      const env = ctx.io.env;
      const [{ loadConfig }, { chatopsConfig, approversOf }, { createSlackClient }, { waitForSlackApproval }, { currentIdentity }] = await Promise.all([
        import('../config/load.js'),
        import('../notify/chatops-config.js'),
        import('../notify/slack-client.js'),
        import('../notify/slack-approval.js'),
        import('../identity.js'),
      ]);
      const chatops = chatopsConfig((await loadConfig({ configDir: ctx.configDir, env })).chatops);
      if (!chatops.channel) throw new UsageError('--approval slack needs chatops.channel in deployments.yaml: where to post the request', 'add chatops: { channel: C0123, approvers: { prod: [U0123] } }');
      const approvers = approversOf(chatops, about.env);
      if (approvers.length === 0) throw new UsageError(`--approval slack: nobody may approve ${about.env}`, `list Slack user ids under chatops.approvers.${about.env} in deployments.yaml`);
      if (!env.SLACK_BOT_TOKEN) throw new UsageError('--approval slack needs SLACK_BOT_TOKEN to post the request', 'export SLACK_BOT_TOKEN=xoxb-... (the bot token deployctl serve uses)');
      const slack = await createSlackClient({ token: env.SLACK_BOT_TOKEN, apiUrl: env.DEPLOYCTL_SLACK_API_URL, warn: (m) => logLine(ctx, 'warn', 'slack', m) });
      const result = await waitForSlackApproval(
        { action: about.action === 'promote' || about.action === 'rollback' || about.action === 'destroy' ? about.action : 'deploy', app: about.app, env: about.env, version: about.version, requestedBy: currentIdentity(env).user, channel: chatops.channel, approvers, waitMs },
        { state: await openContextState(ctx), slack, signal, log: (m) => logLine(ctx, 'warn', 'approval', m) },
      );
      const what = `${about.action} ${about.app} ${about.version} ${about.action === 'destroy' ? 'in' : 'to'} ${about.env}`;
      if (result.status === 'approved') {
        granted = true;
        logLine(ctx, 'warn', 'approval', `${what}: approved by ${result.by ?? 'an approver'} in Slack (${result.id})`);
        return true;
      }
      if (result.status === 'rejected') throw new ApprovalError(`${what}: rejected by ${result.by ?? 'an approver'} in Slack (${result.id})`, 'ask them why; nothing was run');
      throw new ApprovalError(
        `${what}: no decision in Slack within ${formatDuration(waitMs)} (${result.id}); the request expired`,
        'run it again when an approver is around, or wait longer with --wait-approval',
      );
    },
  };
}
