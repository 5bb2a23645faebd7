// The README's per-type sections show every setting of each type in an example (issue 14): a setting
// added to src/executors/settings/<type>.ts without one fails here, naming it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EXECUTOR_SETTINGS } from '../../src/executors/settings/index.js';
import { repoRoot } from '../support/cli.js';

const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
const executors = readme.slice(readme.indexOf('\n## Executors\n'), readme.indexOf('\n## Health checks\n'));

/** The bullet of one type: from `- **type**` to the next bullet or the end of the list. */
function bullet(type: string): string {
  const start = executors.indexOf(`\n- **${type}**`);
  if (start < 0) return '';
  const rest = executors.slice(start + 1);
  const end = rest.slice(1).search(/\n- \*\*|\n\S/);
  return end < 0 ? rest : rest.slice(0, end + 1);
}

/** The keys the YAML examples of a bullet set: `  key:` at the start of a line of a fenced block. */
function exampleKeys(text: string): Set<string> {
  const keys = new Set<string>();
  for (const block of text.match(/```yaml\n[\s\S]*?```/g) ?? []) {
    for (const match of block.matchAll(/^\s+([a-z_]+):/gm)) keys.add(match[1]!);
  }
  return keys;
}

describe("the README's per-type sections", () => {
  it.each(Object.keys(EXECUTOR_SETTINGS))('%s: every setting appears in an example', (type) => {
    const text = bullet(type);
    expect(text, `README.md has no "- **${type}**" bullet under ## Executors`).not.toBe('');
    const shown = exampleKeys(text);
    expect(Object.keys(EXECUTOR_SETTINGS[type as keyof typeof EXECUTOR_SETTINGS].schema).filter((key) => !shown.has(key))).toEqual([]);
  });
});
