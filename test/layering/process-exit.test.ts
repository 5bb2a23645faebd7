// Only bin/ ends the process: everything in src/ returns an exit code (or throws), so that the CLI, the
// board and a server can share the code. dependency-cruiser (npm run lint:imports) sees imports, not
// calls, so this one rule is checked here by reading src/.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/cli.js';

// TEMPORARY EXCEPTION (issue 16): on a second Ctrl-C the deployment exits at once. The CORE stream moves
// that exit to bin/; the integrator then empties this list.

const EXIT_CALL = /\bprocess\s*\.\s*(exit|reallyExit|abort)\s*\(/;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.(ts|tsx|mts|cts|js|mjs|cjs)$/.test(entry.name) ? [path] : [];
  });
}

/** The lines of a file that call process.exit, comments left out. */
function exitCalls(file: string): string[] {
  const text = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '');
  return text
    .split('\n')
    .map((line, i) => ({ line: line.replace(/\/\/.*$/, ''), at: i + 1 }))
    .filter(({ line }) => EXIT_CALL.test(line))
    .map(({ line, at }) => `${relative(repoRoot, file)}:${at}: ${line.trim()}`);
}

describe('only bin/ exits the process', () => {
  const calls = sourceFiles(join(repoRoot, 'src')).flatMap(exitCalls);

  it('no file in src/ calls process.exit, beyond the known exceptions', () => {
    expect(calls, 'return an exit code to bin/ (cli/main.ts main() resolves to it) instead').toEqual([]);
  });


  it('finds a call where there is one', () => {
    expect(EXIT_CALL.test('if (x) process.exit(2);')).toBe(true);
    expect(EXIT_CALL.test('process.exitCode = 2;')).toBe(false);
  });
});
