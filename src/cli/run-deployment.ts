// What deploy, rollback and promote share: the reporter, Ctrl-C handling, and the result they print.
import { logLine, type CliContext, type CommandResult } from './context.js';
import type { DeployOutcome, EngineDeps } from '../engine/deploy.js';
import type { DeployEvent } from '../engine/events.js';
import type { DeployRecord, HistoryStore } from '../state/types.js';
import { ExitCode } from '../errors.js';

export interface RunDeploymentOptions {
  /** Where engine events go instead of the terminal reporter (the `ui` board). */
  emit?: (event: DeployEvent) => void;
  /** Leave SIGINT to the caller (the `ui` board has its own keys). */
  handleSignals?: boolean;
  /** The history store the command opened to prepare the work: the engine uses the same one. */
  history?: HistoryStore;
}

export async function runDeployment(
  ctx: CliContext,
  work: (deps: EngineDeps) => Promise<DeployOutcome>,
  options: RunDeploymentOptions = {},
): Promise<CommandResult> {
  const { createEngineDeps } = await import('../engine/wiring.js');
  const abort = new AbortController();
  let interrupts = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    interrupts += 1;
    if (interrupts > 1) process.exit(ExitCode.interrupted);
    logLine(ctx, 'warn', 'signal', `${signal}: stopping the running commands (press Ctrl-C again to quit at once)`);
    abort.abort();
  };
  const handleSignals = options.handleSignals !== false;
  if (handleSignals) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  try {
    // The engine first: when it cannot be put together (an unusable state folder), no live view was
    // started to be left behind, and the error is all that is shown. Its events go to the reporter,
    // which exists by the time the work sends any.
    let reporter: Reporter | undefined;
    const deps = await createEngineDeps(ctx, {
      emit: (event) => reporter?.emit(event),
      signal: abort.signal,
      beforePrompt: () => reporter?.pause(),
      afterPrompt: () => reporter?.resume(),
      history: options.history,
    });
    const shown = options.emit ? { emit: options.emit, pause: () => {}, resume: () => {}, finish: async () => {} } : await createReporter(ctx);
    reporter = shown;
    const outcome = await work(deps).finally(() => {
      // What the history met while the work read it (a damaged record skipped, an index rebuilt).
      for (const message of deps.history.warnings()) shown.emit({ type: 'log', level: 'warn', message });
      return shown.finish();
    });
    if (!outcome.dryRun) {
      const { reportToGithub } = await import('../notify/github.js');
      await reportToGithub([outcome.record, ...outcome.rollbacks], ctx.io.env, (line) => ctx.io.stderr.write(line), outcome.previousVersion).catch((e: Error) =>
        logLine(ctx, 'warn', 'github', `could not write the GitHub Actions summary: ${e.message}`),
      );
    }
    return { exitCode: outcome.exitCode, data: outcomeJson(outcome), text: outcomeText(outcome) };
  } finally {
    if (handleSignals) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  }
}

interface Reporter {
  emit: (event: DeployEvent) => void;
  pause: () => void;
  resume: () => void;
  finish: () => Promise<void>;
}

/** Ink's live view in a terminal; plain timestamped lines (or JSON lines) in CI, pipes and --json. */
async function createReporter(ctx: CliContext): Promise<Reporter> {
  const live = Boolean(ctx.io.stderr.isTTY) && !ctx.nonInteractive && !ctx.options.json && ctx.options.logFormat !== 'json' && !ctx.options.quiet;
  if (live && !ctx.io.env.DEPLOYCTL_PLAIN) {
    const { createInkProgress } = await import('../ui/load.js').then((m) => m.loadProgress());
    return createInkProgress({ stderr: ctx.io.stderr as NodeJS.WriteStream, color: ctx.color });
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

export function recordSummary(record: DeployRecord) {
  return {
    id: record.id,
    app: record.app,
    env: record.env,
    version: record.version,
    action: record.action,
    status: record.status,
    startedAt: record.startedAt,
    finishedAt: record.finishedAt,
    durationMs: record.durationMs,
    user: record.user,
    host: record.host,
    error: record.error,
    health: record.health ? { ok: record.health.ok, message: record.health.message, attempts: record.health.attempts.length } : undefined,
    rollbackOf: record.rollbackOf,
    rolledBackBy: record.rolledBackBy,
    triggeredBy: record.triggeredBy,
    from: record.from,
    notes: record.notes,
  };
}

function outcomeJson(outcome: DeployOutcome) {
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
  };
}

function outcomeText(outcome: DeployOutcome): string {
  const r = outcome.record;
  if (outcome.dryRun) {
    const what = `dry run: ${r.action} ${r.app} ${r.version} to ${r.env}`;
    if (outcome.exitCode !== 0) {
      const step = r.steps.find((s) => !s.skipped && s.exitCode !== 0);
      return `${what} failed: ${r.error?.message ?? (step ? `${step.label}: exit code ${step.exitCode}` : r.status)}; nothing was changed`;
    }
    const n = outcome.dryRun.steps.length;
    if (outcome.dryRun.unverified) return `${what} not verified: ${outcome.dryRun.unverified}; ${n} command${n === 1 ? '' : 's'} shown, none that change anything ran`;
    return `${what} would run ${n} command${n === 1 ? '' : 's'}, and ran none that change anything`;
  }
  const verb = r.action === 'rollback' ? 'rolled back' : r.action === 'promote' ? 'promoted' : 'deployed';
  const lines =
    outcome.exitCode === 0
      ? [`${verb} ${r.app} ${r.version} to ${r.env} (record ${r.id})`]
      : [`${r.action} of ${r.app} ${r.version} to ${r.env} ${r.status === 'interrupted' ? 'was interrupted' : 'failed'}: ${r.error?.message ?? r.notes?.join('; ') ?? r.status}`];
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
  return lines.join('\n');
}
