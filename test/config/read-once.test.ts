// A config file read again in one process (a deploy reads deployments.yaml for its config and for
// `state:`) is parsed once for the same text; an edited file (the board and `serve` run for long) is
// parsed again, and a broken one still reports its problems every time.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { readYamlFile } from '../../src/config/read.js';
import type { ConfigProblem } from '../../src/errors.js';
import { tempDir } from '../support/cli.js';

it('parses the same text once, an edited file again, and reports a broken one on every read', async () => {
  const file = join(tempDir('deployctl-read-'), 'deployments.yaml');
  writeFileSync(file, 'deployments:\n  web:\n    type: shell\n');
  const problems: ConfigProblem[] = [];
  const first = await readYamlFile(file, problems);
  const again = await readYamlFile(file, problems);
  expect(again).toBe(first);
  expect(again?.data).toEqual({ deployments: { web: { type: 'shell' } } });

  writeFileSync(file, 'deployments:\n  api:\n    type: shell\n');
  const edited = await readYamlFile(file, problems);
  expect(edited).not.toBe(first);
  expect(edited?.data).toEqual({ deployments: { api: { type: 'shell' } } });
  expect(problems).toEqual([]);

  writeFileSync(file, 'deployments:\n  api: [\n');
  for (let i = 0; i < 2; i++) {
    const broken: ConfigProblem[] = [];
    expect(await readYamlFile(file, broken)).toBeUndefined();
    expect(broken.length).toBeGreaterThan(0);
  }
});
