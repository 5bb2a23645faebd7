// One record, as `history show` prints it.
import type { DeployRecord } from '../state/types.js';
import { formatDuration } from '../config/duration.js';
import { formatCommand } from '../format.js';
import { STATUS_SYMBOL } from './table.js';

export function showRecord(r: DeployRecord): string {
  const lines = [
    `${r.id}`,
    `  ${r.action} ${r.app} ${r.version} ${r.action === 'destroy' ? 'in' : 'to'} ${r.env}: ${STATUS_SYMBOL[r.status] ?? ''} ${r.status}`,
    `  by ${r.user}@${r.host} (pid ${r.pid}), started ${r.startedAt}${r.durationMs !== undefined ? `, took ${formatDuration(r.durationMs)}` : ''}`,
  ];
  if (r.ci) lines.push(`  CI: ${r.ci.provider}${r.ci.runUrl ? ` ${r.ci.runUrl}` : ''}`);
  if (r.from) lines.push(`  promoted from ${r.from.env} (${r.from.recordId})`);
  if (r.rollbackOf) lines.push(`  re-applied ${r.rollbackOf}`);
  if (r.triggeredBy) lines.push(`  after the failure of ${r.triggeredBy}`);
  if (r.rolledBackBy?.length) lines.push(`  rolled back by ${r.rolledBackBy.join(', ')}`);
  if (r.error) lines.push(`  error: ${r.error.message}`);
  for (const note of r.notes ?? []) lines.push(`  note: ${note}`);
  for (const warning of r.warnings ?? []) lines.push(`  warning: ${warning}`);
  if (r.steps.length) lines.push('  steps:');
  for (const s of r.steps) {
    const result = s.skipped ? 'skipped' : s.timedOut ? 'timed out' : s.interrupted ? 'interrupted' : `exit ${s.exitCode}`;
    lines.push(`    ${s.exitCode === 0 ? '✓' : '✗'} ${s.label} (${result}, ${formatDuration(s.durationMs)})`);
    lines.push(`      $ ${formatCommand(s.command, { shell: s.shell })}`);
  }
  for (const [name, check] of [['pre-check', r.preCheck], ['health', r.health]] as const) {
    if (!check) continue;
    lines.push(`  ${name}: ${check.message}`);
    for (const a of check.attempts) lines.push(`    ${a.ok ? '✓' : '✗'} attempt ${a.attempt}: ${a.message} (${formatDuration(a.latencyMs)})`);
  }
  return lines.join('\n');
}
