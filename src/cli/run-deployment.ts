// What deploy, rollback and promote share in the CLI: the core's container with the terminal's
// approver, the reporter, Ctrl-C handling, and the outcome rendered as text or --json.
import { logLine, type CliContext, type CommandResult } from './context.js';
import type { CoreDeps } from '../core/deps.js';
import type { DeploymentOutcome } from '../core/deploy.js';
import type { DeployEvent } from '../engine/events.js';
import type { DeployRecord } from '../state/types.js';
import { ExitCode } from '../errors.js';
import { createCoreDeps, terminalApprover } from './core-deps.js';
import { entryOf } from '../state/record-files.js';
import { slackApprover } from './slack-approver.js';

interface RunDeploymentOptions {
  /** --yes: approval given up front. */
  yes?: boolean;
  /** --approval slack: a protected environment is approved in Slack; wait this long for the decision. */
  slackApprovalMs?: number;
}

/**
 * `prepare` checks the request with the core (a usage error ends it here, before any live view);
 * the deployment it returns then runs with the reporter showing its events. The first Ctrl-C stops the
 * running commands; a second one ends the command at once with 130 (bin/ exits the process).
 */
export async function runDeployment(
  ctx: CliContext,
  prepare: (core: CoreDeps) => Promise<{ run(): Promise<DeploymentOutcome>; done?: CommandResult }>,
  options: RunDeploymentOptions = {},
): Promise<CommandResult> {
  const abort = new AbortController();
  let interrupts = 0;
  let quitNow: (result: CommandResult) => void = () => {};
  const quit = new Promise<CommandResult>((resolve) => (quitNow = resolve));
  const onSignal = (signal: NodeJS.Signals) => {
    interrupts += 1;
    if (interrupts > 1) {
      logLine(ctx, 'warn', 'signal', `${signal} again: quitting without waiting for the commands to stop`);
      quitNow({ exitCode: ExitCode.interrupted });
      return;
    }
    if (signal === 'SIGHUP') {
      // The terminal is gone (closed, or the SSH session dropped): what is still written to it fails,
      // and must not end deployctl before it has stopped the commands and recorded how they ended.
      const ignore = () => {};
      ctx.io.stdout.on?.('error', ignore);
      ctx.io.stderr.on?.('error', ignore);
    }
    logLine(ctx, 'warn', 'signal', `${signal}: stopping the running commands (press Ctrl-C again to quit at once)`);
    abort.abort();
  };
  // Ctrl-C, a kill, and a terminal closed under a running deployment (SIGHUP): the commands' process
  // trees are stopped, not left running without anyone watching them.
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  try {
    // The core's events go to the reporter, which exists by the time the deployment sends any.
    let reporter: Reporter | undefined;
    const core = createCoreDeps(ctx, {
      emit: (event) => reporter?.emit(event),
      signal: abort.signal,
      approver:
        options.slackApprovalMs !== undefined && !options.yes
          ? slackApprover(ctx, options.slackApprovalMs, abort.signal)
          : terminalApprover(ctx, Boolean(options.yes), { before: () => reporter?.pause(), after: () => reporter?.resume() }),
    });
    // An unusable state folder is said before any live view starts, as is a request the core refuses.
    const prepared = await prepare(core);
    // Nothing to run (a destroy of what is already gone): said as it is, no live view.
    if (prepared.done) return prepared.done;
    const state = await core.state();
    const shown = await createReporter(ctx);
    reporter = shown;
    const running = prepared.run().finally(() => {
      // What the history met while the work read it (a damaged record skipped, an index rebuilt).
      for (const message of state.history.warnings()) shown.emit({ type: 'log', level: 'warn', message });
      return shown.finish();
    });
    const outcome = await Promise.race([running, quit]);
    if (!('record' in outcome)) {
      running.catch(() => undefined);
      return outcome;
    }
    if (!outcome.dryRun) {
      const { reportToGithub } = await import('../notify/github.js');
      await reportToGithub([outcome.record, ...outcome.rollbacks], ctx.io.env, (line) => ctx.io.stderr.write(line), outcome.previousVersion).catch((e: Error) =>
        logLine(ctx, 'warn', 'github', `could not write the GitHub Actions summary: ${e.message}`),
      );
    }
    return { exitCode: outcome.exitCode, data: outcomeJson(outcome), text: outcomeText(outcome) };
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onSignal);
  }
}

interface Reporter {
  emit: (event: DeployEvent) => void;
  pause: () => void;
  resume: () => void;
  finish: () => Promise<void>;
}

/** The live view in a terminal (no Ink: it starts as fast as the plain lines); plain timestamped lines (or JSON lines) in CI, pipes and --json. */
async function createReporter(ctx: CliContext): Promise<Reporter> {
  const live = Boolean(ctx.io.stderr.isTTY) && !ctx.nonInteractive && !ctx.options.json && ctx.options.logFormat !== 'json' && !ctx.options.quiet;
  if (live && !ctx.io.env.DEPLOYCTL_PLAIN) {
    const { createLiveProgress } = await import('../ui/live-progress.js');
    return createLiveProgress({ stream: ctx.io.stderr, color: ctx.color });
  }
  const { createPlainReporter } = await import('../ui/plain-reporter.js');
  const plain = createPlainReporter({
    write: (text) => ctx.io.stderr.write(text),
    format: ctx.options.logFormat === 'json' ? 'json' : 'text',
    quiet: ctx.options.quiet,
    verbose: ctx.options.verbose,
  });
  let emit = plain;
  if (ctx.io.env.GITHUB_ACTIONS === 'true') {
    // Warnings (a notification not sent, a stale lock taken over) become annotations on the run too.
    const { githubWarning } = await import('../notify/github.js');
    emit = (event) => {
      plain(event);
      if (event.type === 'log' && event.level === 'warn') ctx.io.stderr.write(`${githubWarning(event.message)}\n`);
    };
  }
  return { emit, pause: () => {}, resume: () => {}, finish: async () => {} };
}

/** A record in --json: its index entry without pid, healthy and bad, then the health check's outcome and what links it to others. */
function recordSummary(record: DeployRecord) {
  const { pid: _pid, healthy: _healthy, bad: _bad, ...entry } = entryOf(record);
  return {
    ...entry,
    error: record.error,
    health: record.health ? { ok: record.health.ok, message: record.health.message, attempts: record.health.attempts.length } : undefined,
    rollbackOf: record.rollbackOf,
    rolledBackBy: record.rolledBackBy,
    triggeredBy: record.triggeredBy,
    from: record.from,
    notes: record.notes,
    warnings: record.warnings,
  };
}

function outcomeJson(outcome: DeploymentOutcome) {
  if (outcome.dryRun) {
    const r = outcome.record;
    return {
      schemaVersion: 1,
      ok: outcome.exitCode === 0,
      exitCode: outcome.exitCode,
      dryRun: true,
      app: r.app,
      env: r.env,
      version: r.version,
      action: r.action,
      steps: outcome.dryRun.steps,
      notes: outcome.dryRun.notes,
      ...(r.warnings?.length ? { warnings: r.warnings } : {}),
      ...(outcome.dryRun.preview !== undefined ? { preview: outcome.dryRun.preview } : {}),
      verified: outcome.exitCode === 0 && !outcome.dryRun.unverified,
      ...(outcome.dryRun.unverified ? { unverified: outcome.dryRun.unverified } : {}),
    };
  }
  return {
    schemaVersion: 1,
    ok: outcome.exitCode === 0,
    exitCode: outcome.exitCode,
    record: recordSummary(outcome.record),
    rollbacks: outcome.rollbacks.map(recordSummary),
    ...(outcome.stopped ? { stopped: outcome.stopped } : {}),
  };
}

export function outcomeText(outcome: DeploymentOutcome): string {
  const r = outcome.record;
  if (outcome.dryRun) {
    const what = `dry run: ${r.action} ${r.app} ${r.version} ${r.action === 'destroy' ? 'in' : 'to'} ${r.env}`;
    if (outcome.exitCode !== 0) {
      const step = r.steps.find((s) => !s.skipped && s.exitCode !== 0);
      return `${what} failed: ${r.error?.message ?? (step ? `${step.label}: exit code ${step.exitCode}` : r.status)}; nothing was changed`;
    }
    const n = outcome.dryRun.steps.length;
    if (outcome.dryRun.unverified) return `${what} not verified: ${outcome.dryRun.unverified}; ${n} command${n === 1 ? '' : 's'} shown, none that change anything ran`;
    return `${what} would run ${n} command${n === 1 ? '' : 's'}, and ran none that change anything`;
  }
  const verb = r.action === 'rollback' ? 'rolled back' : r.action === 'promote' ? 'promoted' : r.action === 'destroy' ? 'destroyed' : 'deployed';
  const to = r.action === 'destroy' ? 'in' : 'to';
  const lines =
    outcome.exitCode === 0
      ? [`${verb} ${r.app} ${r.version} ${to} ${r.env} (record ${r.id})`]
      : [`${r.action} of ${r.app} ${r.version} ${to} ${r.env} ${r.status === 'interrupted' ? 'was interrupted' : 'failed'}: ${r.error?.message ?? r.notes?.join('; ') ?? r.status}`];
  if (r.action === 'rollback') {
    // A rollback by hand: the attempts before this one, which failed.
    if (outcome.rollbacks.length) lines.push(`fell back to ${r.version}: ${outcome.rollbacks.map((b) => `${b.version} failed (record ${b.id})`).join(', ')}`);
  } else if (outcome.rollbacks.length) {
    const landed = outcome.rollbacks.find((b) => b.status === 'succeeded');
    lines.push(
      landed
        ? `rolled back automatically to ${landed.version} (record ${landed.id})`
        : `automatic rollback failed: tried ${outcome.rollbacks.map((b) => b.version).join(', ')}`,
    );
  } else if (outcome.exitCode !== 0 && r.error) {
    // Why no automatic rollback ran, when one could not start.
    lines.push(...(r.notes ?? []));
  }
  if (outcome.stopped) lines.push(outcome.stopped);
  return lines.join('\n');
}
