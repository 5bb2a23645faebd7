// Under GitHub Actions: a markdown summary in $GITHUB_STEP_SUMMARY, step outputs in $GITHUB_OUTPUT,
// and ::error:: / ::warning:: annotations for failures.
import { appendFile } from 'node:fs/promises';
import { formatDuration } from '../config/duration.js';
import type { DeployRecord } from '../state/types.js';

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function githubSummary(records: DeployRecord[], previousVersion?: string): string {
  const lines: string[] = [];
  for (const r of records) {
    const icon = r.status === 'succeeded' ? '✅' : r.status === 'rolled_back' ? '↩️' : '❌';
    lines.push(`### ${icon} ${r.action} ${r.app} ${r.action === 'destroy' ? 'in' : 'to'} ${r.env}: ${r.status}`, '');
    lines.push('| | |', '| --- | --- |');
    lines.push(`| version | ${previousVersion && r.action !== 'rollback' ? `${cell(previousVersion)} → ` : ''}${cell(r.version)} |`);
    lines.push(`| duration | ${r.durationMs !== undefined ? formatDuration(r.durationMs) : '-'} |`, `| by | ${cell(r.user)}@${cell(r.host)} |`, `| record | \`${r.id}\` |`);
    if (r.error) lines.push(`| error | ${cell(r.error.message)} |`);
    for (const note of r.notes ?? []) lines.push(`| note | ${cell(note)} |`);
    if (r.health?.attempts.length) {
      lines.push('', `Health: ${cell(r.health.message)}`, '', '| attempt | result | latency |', '| --- | --- | --- |');
      for (const a of r.health.attempts) lines.push(`| ${a.attempt} | ${a.ok ? '✓' : '✗'} ${cell(a.message)} | ${formatDuration(a.latencyMs)} |`);
    }
    const failed = r.steps.find((s) => s.exitCode !== 0 && !s.skipped);
    if (failed?.output) lines.push('', `Failing step: ${cell(failed.label)}`, '', '```', failed.output.trimEnd().split('\n').slice(-20).join('\n'), '```');
    lines.push('');
  }
  return `${lines.join('\n')}\n`;
}

function escapeData(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}
function escapeProperty(text: string): string {
  return escapeData(text).replace(/:/g, '%3A').replace(/,/g, '%2C');
}

export function githubWarning(message: string): string {
  return `::warning::${escapeData(message)}`;
}

export function githubAnnotations(records: DeployRecord[]): string[] {
  return records
    .filter((r) => r.status !== 'succeeded' || r.notes?.length)
    .map((r) =>
      r.status === 'succeeded'
        ? `::warning title=${escapeProperty(`${r.app} ${r.env}`)}::${escapeData(r.notes!.join('; '))}`
        : `::error title=${escapeProperty(`${r.action} ${r.app} ${r.version} ${r.action === 'destroy' ? 'in' : 'to'} ${r.env} ${r.status}`)}::${escapeData(r.error?.message ?? r.status)}`,
    );
}

export function githubOutputs(record: DeployRecord): string {
  const out = (key: string, value: string) => {
    if (!/[\r\n]/.test(value)) return `${key}=${value}\n`;
    const delimiter = `ghadelimiter_${process.getBuiltinModule('node:crypto').randomBytes(8).toString('hex')}`;
    return `${key}<<${delimiter}\n${value}\n${delimiter}\n`;
  };
  return out('version', record.version) + out('status', record.status) + out('record_id', record.id);
}

export async function reportToGithub(records: DeployRecord[], env: NodeJS.ProcessEnv, write: (line: string) => void, previousVersion?: string): Promise<void> {
  if (env.GITHUB_ACTIONS !== 'true' || records.length === 0) return;
  if (env.GITHUB_STEP_SUMMARY) await appendFile(env.GITHUB_STEP_SUMMARY, githubSummary(records, previousVersion));
  if (env.GITHUB_OUTPUT) await appendFile(env.GITHUB_OUTPUT, githubOutputs(records[0]!));
  for (const line of githubAnnotations(records)) write(`${line}\n`);
}
