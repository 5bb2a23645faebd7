// `config` and `diff` show durations as they are written (2m, not 120000); config --json keeps the ms
// and adds their text.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanEnv, runCli, tempDir } from '../support/cli.js';
import { durationText } from '../../src/config/duration-view.js';
import { parseDuration } from '../../src/config/duration.js';

function project() {
  const dir = tempDir('deployctl-durations-');
  writeFileSync(join(dir, 'environments.yaml'), 'environments:\n  dev: {}\n  qa: {}\n');
  writeFileSync(
    join(dir, 'deployments.yaml'),
    [
      'defaults:',
      '  timeout: 2m',
      'deployments:',
      '  web:',
      '    type: shell',
      '    commands: [["true"]]',
      '    health_check: { url: "http://127.0.0.1:9/", interval: 200ms, max_interval: 1m30s, start_period: 1s500ms, deadline: 2h }',
      '    environments:',
      '      qa: { timeout: 5m }',
      '',
    ].join('\n'),
  );
  return cleanEnv({ DEPLOYCTL_HOME: tempDir('deployctl-home-'), DEPLOYCTL_CONFIG_DIR: dir });
}

describe('durations as written', () => {
  it('config shows 2m, 200ms, 1m30s; --json keeps ms and adds the text', async () => {
    const env = project();
    const run = await runCli(['config', 'web', '-e', 'dev', '--version', '1.0.0'], { env });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^ {2}timeout: 2m$/m);
    expect(run.stdout).toMatch(/^ {4}interval: 200ms$/m);
    expect(run.stdout).toMatch(/^ {4}max_interval: 1m30s$/m);
    expect(run.stdout).toMatch(/^ {4}start_period: 1s500ms$/m);
    expect(run.stdout).toMatch(/^ {4}deadline: 2h$/m);
    expect(run.stdout).not.toContain('120000');
    const json = JSON.parse((await runCli(['config', 'web', '-e', 'dev', '--version', '1.0.0', '--json'], { env })).stdout);
    expect(json.config.timeout).toBe(120000);
    expect(json.config.health_check.interval).toBe(200);
    expect(json.durations).toMatchObject({ timeout: '2m', 'health_check.interval': '200ms', 'health_check.max_interval': '1m30s', 'health_check.deadline': '2h' });
  });

  it('diff shows the durations that differ as written', async () => {
    const env = project();
    const run = await runCli(['diff', 'dev', 'qa', 'web'], { env });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^ {2}-timeout: 5m$/m);
    expect(run.stdout).toMatch(/^ {2}\+timeout: 2m$/m);
    expect(run.stdout).not.toMatch(/120000|300000/);
  });

  it('the text is exact: it parses back to the same milliseconds', () => {
    for (const ms of [0, 1, 250, 1000, 1500, 60_000, 90_000, 120_000, 3_600_000, 5_400_000, 86_400_000, 90_061_001]) {
      expect(parseDuration(durationText(ms))).toBe(ms);
    }
    expect([durationText(120_000), durationText(90_000), durationText(250)]).toEqual(['2m', '1m30s', '250ms']);
  });
});
