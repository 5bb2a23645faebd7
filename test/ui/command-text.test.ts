// A command is shown the same way everywhere it is shown: the live view, the plain reporter, `history
// show`, a dry run and the error that names it. Quoted so it can be pasted into a shell, secrets masked.
import { describe, expect, it } from 'vitest';
import { deploy } from '../../src/core/deploy.js';
import { formatCommand } from '../../src/format.js';
import { shellExecutor } from '../../src/executors/shell.js';
import { createPlainReporter } from '../../src/ui/plain-reporter.js';
import { initialProgress, reduceProgress, type ProgressState } from '../../src/ui/progress-state.js';
import { showRecord } from '../../src/ui/record-text.js';
import type { DeployEvent } from '../../src/engine/events.js';
import { coreWorld } from '../core/support.js';

const SHOWN = `tool 'it'\\''s' 'two words' '***'`;

async function world() {
  const w = await coreWorld({ deployments: ['deployments:', '  svc:', '    type: shell', `    commands: [[tool, "it's", two words, "\${API_TOKEN}"]]`, ''].join('\n') });
  w.core.env.API_TOKEN = "p@ss w'rd";
  const parts = await w.core.engine();
  w.core.engine = async () => ({ ...parts, getExecutor: async () => shellExecutor });
  return w;
}

function plainText(events: DeployEvent[]): string {
  let text = '';
  const report = createPlainReporter({ write: (t) => (text += t), format: 'text', now: () => new Date(0) });
  for (const event of events) report(event);
  return text;
}

/** Every state the live view passes through, as text: what runs, and the lines it keeps. */
function progressText(events: DeployEvent[]): string {
  const states: ProgressState[] = [];
  events.reduce((state, event) => (states.push(reduceProgress(state, event)), states[states.length - 1]!), initialProgress);
  return states.map((s) => [s.running ?? '', ...s.done.map((l) => l.text)].join('\n')).join('\n');
}

describe('an argument with spaces and quotes, and a secret, shown identically in each place', () => {
  it('is what formatCommand makes of the argv: quoted for a shell, the secret masked first', () => {
    expect(formatCommand(['tool', "it's", 'two words', "p@ss w'rd"], { secretValues: ["p@ss w'rd"] })).toBe(SHOWN);
    expect(formatCommand(['echo "$A" | tr a b'], { shell: true })).toBe(`sh -c 'echo "$A" | tr a b'`);
  });

  it('in a dry run: its JSON steps, the plain reporter and the live view', async () => {
    const w = await world();
    const outcome = await deploy({ app: 'svc', env: 'dev', version: '1.0.0', dryRun: true }, w.core);
    expect(outcome.exitCode).toBe(0);
    expect(outcome.dryRun?.steps.map((s) => s.command)).toEqual([SHOWN]);
    expect(plainText(w.events)).toContain(`would run ${SHOWN}\n`);
    expect(progressText(w.events)).toContain(`would run ${SHOWN}`);
    expect(JSON.stringify(w.events)).not.toContain('p@ss');
  });

  it('in a run that fails: the plain reporter, the live view, `history show` and the error', async () => {
    const w = await world();
    w.failAll.line = 'it broke';
    const outcome = await deploy({ app: 'svc', env: 'dev', version: '1.0.0', noRollback: true }, w.core);
    expect(outcome.exitCode).toBe(3);
    expect(plainText(w.events)).toContain(`$ ${SHOWN}\n`);
    expect(progressText(w.events).split('\n')).toContain(SHOWN);
    expect(showRecord(outcome.record).split('\n')).toContain(`      $ ${SHOWN}`);
    expect(outcome.record.error?.message).toContain(`command 1/1: ${SHOWN}: exit code 1`);
    expect(JSON.stringify([w.events, outcome.record])).not.toContain('p@ss');
  });
});
