// The README shows every setting of each type in an example of an app of that type (issue 14): a
// setting added to src/executors/settings/<type>.ts without one fails here, naming it. Each type also
// has its bullet under "## Executors".
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { EXECUTOR_SETTINGS } from '../../src/executors/settings/index.js';
import { repoRoot } from '../support/cli.js';

const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
const executors = readme.slice(readme.indexOf('\n## Executors\n'), readme.indexOf('\n## Health checks\n'));

/** The keys each type's apps set in the README's YAML examples (every ```yaml block, wherever it is). */
function keysShown(): Map<string, Set<string>> {
  const shown = new Map<string, Set<string>>();
  const visit = (node: unknown) => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (!node || typeof node !== 'object') return;
    const map = node as Record<string, unknown>;
    if (typeof map.type === 'string') {
      const keys = shown.get(map.type) ?? new Set<string>();
      Object.keys(map).forEach((k) => keys.add(k));
      shown.set(map.type, keys);
    }
    Object.values(map).forEach(visit);
  };
  for (const block of readme.match(/^ *```yaml\n[\s\S]*?^ *```$/gm) ?? []) {
    const lines = block.split('\n').slice(1, -1);
    const indent = Math.min(...lines.filter((l) => l.trim()).map((l) => /^ */.exec(l)![0].length));
    const text = lines.map((l) => l.slice(indent)).join('\n');
    try {
      visit(parse(text));
    } catch (error) {
      // An example of an app must be YAML a user can paste; a fragment without `type:` is not one.
      if (/^\s*type:/m.test(text)) throw new Error(`a YAML example in README.md does not parse (${(error as Error).message}):\n${text}`);
    }
  }
  return shown;
}

/** The settings column of each type's row in the table under ## Executors. */
function tableCell(type: string): string {
  const row = executors.split('\n').find((l) => l.startsWith(`| \`${type}\` |`)) ?? '';
  return row.split(' | ')[1] ?? '';
}

describe("the README's examples", () => {
  const shown = keysShown();
  it.each(Object.keys(EXECUTOR_SETTINGS))('%s: every setting named in its row of the table under ## Executors', (type) => {
    const cell = tableCell(type);
    expect(cell, `README.md has no row for ${type} in the table under ## Executors`).not.toBe('');
    const named = (key: string) => cell.includes(`\`${key}\``) || cell.includes(`\`${key}:`);
    expect(Object.keys(EXECUTOR_SETTINGS[type as keyof typeof EXECUTOR_SETTINGS].schema).filter((key) => !named(key))).toEqual([]);
  });
  it.each(Object.keys(EXECUTOR_SETTINGS))('%s: a bullet under ## Executors, and every setting in an example', (type) => {
    expect(executors, `README.md has no "- **${type}**" bullet under ## Executors`).toContain(`\n- **${type}**`);
    const keys = shown.get(type) ?? new Set<string>();
    expect(Object.keys(EXECUTOR_SETTINGS[type as keyof typeof EXECUTOR_SETTINGS].schema).filter((key) => !keys.has(key))).toEqual([]);
  });
});
