// deployctl health, diff, unlock and config: flags -> request -> core -> text or --json.
import { logLine, openContextState, reportWarnings, type CliContext, type CommandResult } from './context.js';
import { health } from '../core/health.js';
import { diff } from '../core/diff.js';
import { unlock } from '../core/unlock.js';
import { loadTargetConfig, resolveTarget } from '../core/target.js';
import { HealthError } from '../errors.js';
import { formatDuration } from '../config/duration.js';
import { maskDeep, sealSecrets, secretsOfConfig } from '../engine/secrets.js';
import { durationsAsWritten } from '../config/duration-view.js';
import { addAttempt, describeTally, hasRepeats, type HealthTally } from '../ui/health-tally.js';
import { createCoreDeps } from './core-deps.js';

export async function runHealth(ctx: CliContext, app: string, opts: { env: string; version?: string; set: string[] }): Promise<CommandResult> {
  // The first attempt of each result as it happens; then, when some came again, one line with the counts.
  let tally: HealthTally | undefined;
  const core = createCoreDeps(ctx, {
    emit: (event) => {
      if (event.type !== 'health-attempt') return;
      const a = event.attempt;
      const added = addAttempt(tally, a);
      tally = added.tally;
      if (added.first || ctx.options.logFormat === 'json') logLine(ctx, 'info', 'health-attempt', `${a.ok ? '✓' : '✗'} attempt ${a.attempt}: ${a.message} (${formatDuration(a.latencyMs)})`, { attempt: a });
    },
  });
  const outcome = await health({ app, env: opts.env, version: opts.version, set: opts.set }, core);
  if (tally && hasRepeats(tally) && ctx.options.logFormat !== 'json') logLine(ctx, 'info', 'health-tally', `${tally.lastOk ? '✓' : '✗'} health: ${describeTally(tally)}`);
  const { exitCode, ...result } = outcome;
  const data = { schemaVersion: 1, ...result };
  if (!outcome.ok) {
    if (ctx.options.json) return { exitCode, data };
    throw new HealthError(`${app} in ${opts.env} is unhealthy: ${outcome.message}`, `see the attempts above; deployctl history ${app} -e ${opts.env} shows what was deployed`);
  }
  return { exitCode: 0, data, text: `${app}${outcome.version === null ? '' : ` ${outcome.version}`} in ${opts.env} is healthy: ${outcome.message}` };
}

export async function runDiff(ctx: CliContext, src: string, dst: string, app: string | undefined, opts: { exitCode?: boolean }): Promise<CommandResult> {
  const { differs, apps } = await diff({ src, dst, app }, createCoreDeps(ctx));
  reportWarnings(ctx, (await openContextState(ctx)).history);
  const lines: string[] = [];
  for (const a of apps) {
    lines.push(`${a.app}: ${src} ${a.src.version ?? '(not deployed)'}${a.src.by ? ` (by ${a.src.by}, ${a.src.at})` : ''}  ${dst} ${a.dst.version ?? '(not deployed)'}${a.dst.by ? ` (by ${a.dst.by}, ${a.dst.at})` : ''}`);
    if (a.same) lines.push('  same version and config');
    else if (a.sameVersion) lines.push(`  same version${a.src.version ? ` (${a.src.version})` : ''}; the config of the two environments differs:`);
    if (a.commits?.length) lines.push(`  commits from ${a.dst.version} to ${a.src.version}:`, ...a.commits.map((c) => `    ${c}`));
    if (a.configDiff) lines.push(...a.configDiff.trimEnd().split('\n').map((l) => `  ${l}`));
    if (a.command) lines.push(`  to bring ${dst} up to ${src}: ${a.command}`);
  }
  // Environments differ in their settings by design (ports, replicas): the exit code says whether
  // dst runs what src runs, that is whether a promotion would change anything.
  return {
    exitCode: opts.exitCode && differs ? 2 : 0,
    data: { schemaVersion: 1, src, dst, differs, apps },
    text: lines.join('\n'),
  };
}

export async function runUnlock(ctx: CliContext, app: string, opts: { env: string; force?: boolean }): Promise<CommandResult> {
  const outcome = await unlock({ app, env: opts.env, force: opts.force }, createCoreDeps(ctx));
  for (const warning of outcome.warnings) logLine(ctx, 'warn', 'audit', warning);
  if (!outcome.removed) return { exitCode: 0, data: { schemaVersion: 1, removed: null }, text: `${app} in ${opts.env} is not locked` };
  const why = outcome.state === 'stale' ? ' (its process is gone)' : outcome.state === 'silent' ? ' (not refreshed lately)' : ' (--force)';
  return {
    exitCode: 0,
    data: { schemaVersion: 1, removed: outcome.removed },
    text: `removed the lock of ${app} in ${opts.env}, held by ${outcome.description}${why}`,
  };
}

export async function runConfig(ctx: CliContext, app: string, opts: { env: string; version?: string; set: string[] }): Promise<CommandResult> {
  const { stringify } = await import('../vendor/yaml.js');
  const core = createCoreDeps(ctx);
  const loaded = await loadTargetConfig(core, app, opts.env, opts.set);
  const target = await resolveTarget(core, loaded, app, opts.env, { version: opts.version, set: opts.set });
  const { sealed } = sealSecrets(target.config, secretsOfConfig(target.config.secrets, target.config.variables, ctx.io.env));
  const config = maskDeep(sealed, target.secretValues);
  const document = { app: target.app, env: target.env, version: target.version, protected: target.environment.protected, config };
  // JSON keeps durations in ms (with their text in `durations`); the text shows them as written.
  const { config: written, durations } = durationsAsWritten(config as unknown as Record<string, unknown>);
  return { exitCode: 0, data: { schemaVersion: 1, ...document, durations }, text: stringify({ ...document, config: written }, { sortMapEntries: false }) };
}
