import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/cli.js';

describe('the shipped JSON Schemas', () => {
  it('are what scripts/write-schemas.mjs writes (run it after changing a setting)', async () => {
    const { schemas } = (await import(join(repoRoot, 'scripts/write-schemas.mjs'))) as { schemas: Record<string, unknown> };
    for (const [name, schema] of Object.entries(schemas)) {
      expect(JSON.parse(readFileSync(join(repoRoot, 'config', `${name}.schema.json`), 'utf8'))).toEqual(schema);
    }
  });

  it('are precompiled into the build, so a run never loads Ajv', () => {
    const code = readFileSync(join(repoRoot, 'dist/config/validators.cjs'), 'utf8');
    expect(code).toContain('exports.deployments');
    const loaded = execFileSync(process.execPath, ['-e', `require(${JSON.stringify(join(repoRoot, 'dist/config/validators.cjs'))}); console.log(Object.keys(require.cache).filter((f) => f.includes('node_modules/ajv/')).length)`], { encoding: 'utf8' });
    expect(Number(loaded.trim())).toBeLessThan(3);
  });
});
