// A command's kept output is its last 64 KB: the record of a command that printed 70 KB holds its end.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { cleanEnv, runCli, tempDir } from '../support/cli.js';

it('a record keeps the last 64 KB of a command that printed 70 KB', async () => {
  const dir = tempDir('deployctl-tail-');
  const home = tempDir('deployctl-home-');
  writeFileSync(join(dir, 'environments.yaml'), 'environments:\n  dev: {}\n');
  // 7000 lines of 10 bytes: "line 0000\n" ... "line 6999\n", written in many chunks.
  const script = 'for (let i = 0; i < 7000; i++) process.stdout.write("line " + String(i).padStart(4, "0") + "\\n")';
  writeFileSync(join(dir, 'deployments.yaml'), `deployments:\n  big:\n    type: shell\n    commands: [[node, -e, '${script}']]\n`);
  const env = cleanEnv({ DEPLOYCTL_HOME: home, DEPLOYCTL_CONFIG_DIR: dir });
  const run = await runCli(['deploy', 'big', '-e', 'dev', '--version', '1.0.0', '--json'], { env });
  expect(run.code, run.stderr).toBe(0);
  const id = JSON.parse(run.stdout).record.id as string;
  const shown = JSON.parse((await runCli(['history', 'show', id, '--json'], { env })).stdout);
  const output = shown.record.steps.find((s: { label: string }) => s.label.startsWith('command 1/1')).output as string;
  expect(output.length).toBe(64 * 1024);
  expect(output.endsWith('line 6999\n')).toBe(true);
  // 70,000 - 65,536 = 4,464 bytes dropped: the kept text starts within line 0446.
  expect(output.startsWith(' 0446\nline 0447\n')).toBe(true);
  expect(output).not.toContain('line 0445\n');
});
