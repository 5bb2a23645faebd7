// Which argument of an argv command a shell or interpreter parses as code.
import { describe, expect, it } from 'vitest';
import { inlineScriptIndex } from '../../src/config/inline-scripts.js';

describe('inlineScriptIndex', () => {
  it.each([
    [['sh', '-c', 'S'], 2],
    [['/bin/bash', '-e', '-o', 'pipefail', '-c', 'S', 'name', 'arg'], 5],
    [['bash', '-lc', 'S'], 2],
    [['dash', '-ec', 'S'], 2],
    [['zsh', '-c', 'S'], 2],
    [['env', 'A=1', '-u', 'B', 'sh', '-c', 'S'], 6],
    [['/usr/bin/env', 'bash', '-c', 'S'], 3],
    [['sudo', '-u', 'root', 'sh', '-c', 'S'], 5],
    [['busybox', 'sh', '-c', 'S'], 3],
    [['timeout', '5', 'sh', '-c', 'S'], 4],
    [['python', '-c', 'S'], 2],
    [['python3.12', '-u', '-c', 'S'], 3],
    [['node', '-e', 'S'], 2],
    [['node', '--eval', 'S'], 2],
    [['node', '-p', 'S'], 2],
    [['perl', '-lne', 'S'], 2],
    [['perl', '-E', 'S'], 2],
    [['ruby', '-e', 'S'], 2],
    [['php', '-r', 'S'], 2],
    [['deno', 'eval', 'S'], 2],
  ])('%j: argument %i', (argv, index) => {
    expect(inlineScriptIndex(argv)).toBe(index);
  });

  it.each([[['sh', 'deploy.sh', '-c', 'x']], [['bash', 'script.sh']], [['node', 'ctl.mjs', 'start']], [['echo', 'sh', '-c', 'x']], [['kubectl', 'apply', '-f', '-']], [['env', 'A=1', 'make']]])(
    '%j: none',
    (argv) => {
      expect(inlineScriptIndex(argv)).toBeUndefined();
    },
  );
});
