// No config value is ever run as code. Hostile values (command substitution, backticks, `;`, newlines,
// quotes) arrive through variables, --set, the process environment and --version, and reach commands,
// hooks and a command health check through the environment only: each probe tries to create a marker
// file, which must never appear. A `${...}` that deployctl would paste into code a shell or an
// interpreter parses is refused before anything runs (exit 2, file:line:col, the fix).
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cleanEnv, runCli, tempDir } from '../support/cli.js';

function project(deployments: string, extraEnv: Record<string, string> = {}) {
  const dir = tempDir('deployctl-injection-');
  writeFileSync(join(dir, 'environments.yaml'), 'environments:\n  dev: {}\n');
  writeFileSync(join(dir, 'deployments.yaml'), deployments);
  const home = tempDir('deployctl-home-');
  return { dir, home, env: cleanEnv({ DEPLOYCTL_HOME: home, DEPLOYCTL_CONFIG_DIR: dir, ...extraEnv }) };
}

const marker = join(tempDir('deployctl-marker-'), 'PWNED');
/** Each one, if a shell or an interpreter ever parsed it as code, would create the marker. */
const PROBES: Array<[string, string]> = [
  ['command substitution', `$(touch ${marker})`],
  ['backticks', `\`touch ${marker}\``],
  ['semicolon', `x; touch ${marker}`],
  ['newline', `x\ntouch ${marker}`],
  ['double quote', `x"; touch ${marker}; echo "`],
  ['single quote', `x'; touch ${marker}; echo '`],
  ['ampersands', `x && touch ${marker} && echo`],
  ['pipe', `x | touch ${marker}`],
  ['python', `"); open("${marker}", "w"); print("`],
  ['node', `"); require("fs").writeFileSync("${marker}", ""); ("`],
];

/** Where values can go: a shell string, `sh -c` and interpreters reading the environment, hooks, a command health check. */
const SAFE_APP = [
  'deployments:',
  '  web:',
  '    type: shell',
  '    variables:',
  '      FROM_ENV: "${CI_BRANCH:-main}"',
  '    commands:',
  '      - \'printf "%s|%s\\n" "$FOO" "$FROM_ENV" > out.txt\'',
  '      - [sh, -c, \'printf "%s" "$FOO" >> out.txt\']',
  '      - [sh, -c, \'printf "%s" "$1" >> out.txt\', sh, "${FOO}"]',
  '      - [python3, -c, \'import os; print(os.environ["FOO"])\']',
  '      - [node, -e, \'console.log(process.env.FOO)\']',
  '    hooks:',
  '      pre_deploy: [\'echo "pre $FOO"\']',
  '      post_deploy: [[env, X=1, sh, -c, \'echo "post $FOO $DEPLOY_VERSION"\']]',
  '    health_check:',
  '      command: [sh, -c, \'test "$DEPLOY_VERSION" = 1.0.0 && printf "%s" "$FOO" > /dev/null\']',
  '      retries: 0',
  '',
].join('\n');

describe('hostile values reach scripts as data, never as code', () => {
  it.each(PROBES)('%s: in --set variables, in the process environment (a CI branch name), in every kind of command', async (_name, probe) => {
    const { dir, env } = project(SAFE_APP, { CI_BRANCH: probe });
    const run = await runCli(['deploy', 'web', '-e', 'dev', '--version', '1.0.0', '--set', `variables.FOO=${probe}`], { env, timeoutMs: 60_000 });
    expect(run.code, run.stderr).toBe(0);
    expect(existsSync(marker)).toBe(false);
    // The values arrived as written.
    const out = (await import('node:fs')).readFileSync(join(dir, 'out.txt'), 'utf8');
    const [first] = out.split(`|${probe}\n`);
    expect(out).toBe(`${first}|${probe}\n${first}${first}`);
    expect(run.stdout + run.stderr).toContain('healthy');
  });

  it('a hostile --version is refused before anything runs', async () => {
    for (const [, probe] of PROBES) {
      const { home, env } = project(SAFE_APP);
      const run = await runCli(['deploy', 'web', '-e', 'dev', '--version', probe], { env });
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('invalid version');
      expect(existsSync(join(home, 'history'))).toBe(false);
    }
    expect(existsSync(marker)).toBe(false);
  });
});

describe('a ${...} that would be pasted into code is a config error: exit 2, its line, the fix, nothing run', () => {
  const cases: Array<[string, string, RegExp, RegExp]> = [
    ['sh -c', '    commands: [[sh, -c, "echo ${FOO}"]]', /deployments\.yaml:6:\d+ deployments\.web\.commands\[0\]\[2\]: \$\{FOO\} would be pasted/, /"\$FOO"/],
    ['bash -c with ${version}', '    commands: [[bash, -c, "echo ${version}"]]', /deployments\.yaml:6:\d+ .*\$\{version\} would be pasted/, /"\$DEPLOY_VERSION"/],
    ['/bin/sh -ec', '    commands: [[/bin/sh, -ec, "touch ${FOO}"]]', /deployments\.yaml:6:\d+ .*commands\[0\]\[2\]/, /"\$FOO"/],
    ['dash -c', '    commands: [[dash, -c, "echo ${FOO}"]]', /commands\[0\]\[2\]/, /"\$FOO"/],
    ['zsh -c', '    commands: [[zsh, -c, "echo ${FOO}"]]', /commands\[0\]\[2\]/, /"\$FOO"/],
    ['env sh -c', '    commands: [[/usr/bin/env, A=1, sh, -c, "echo ${FOO}"]]', /commands\[0\]\[4\]/, /"\$FOO"/],
    ['python -c', '    commands: [[python, -c, "print(\'${FOO}\')"]]', /commands\[0\]\[2\]/, /os\.environ\["FOO"\]/],
    ['python3 -c', '    commands: [[python3, -c, "print(\'${FOO}\')"]]', /commands\[0\]\[2\]/, /os\.environ\["FOO"\]/],
    ['node -e', '    commands: [[node, -e, "console.log(\'${FOO}\')"]]', /commands\[0\]\[2\]/, /process\.env\.FOO/],
    ['perl -e', '    commands: [[perl, -e, "print \'${FOO}\'"]]', /commands\[0\]\[2\]/, /\$ENV\{FOO\}/],
    ['ruby -e', '    commands: [[ruby, -e, "puts \'${FOO}\'"]]', /commands\[0\]\[2\]/, /ENV\["FOO"\]/],
    ['a hook', '    commands: [["true"]]\n    hooks: { post_deploy: [[sh, -c, "echo ${FOO}"]] }', /deployments\.web\.hooks\.post_deploy\[0\]\[2\]/, /"\$FOO"/],
    ['a shell string with ${version}', '    commands: ["echo ${version}"]', /deployments\.yaml:6:\d+ deployments\.web\.commands\[0\]: \$\{version\} in a shell string/, /"\$DEPLOY_VERSION"/],
    ['health_check.command', '    commands: [["true"]]\n    health_check: { command: [sh, -c, "curl localhost:${FOO}"] }', /deployments\.web\.health_check\.command\[2\]/, /"\$FOO"/],
  ];
  it.each(cases)('%s', async (_name, line, where, hint) => {
    const { home, env } = project(['deployments:', '  web:', '    type: shell', '    variables:', `      FOO: "$(touch ${marker})"`, line, ''].join('\n'));
    const run = await runCli(['deploy', 'web', '-e', 'dev', '--version', '1.0.0'], { env });
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toMatch(where);
    expect(run.stderr).toMatch(hint);
    expect(existsSync(marker)).toBe(false);
    expect(existsSync(join(home, 'history')) ? readdirSync(join(home, 'history')) : []).toEqual([]);
    // validate finds it too.
    const validate = await runCli(['validate'], { env });
    expect(validate.code).toBe(2);
    expect(validate.stdout + validate.stderr).toMatch(where);
  });

  it('$${NAME} is the literal the shell expands itself, and a plain argv gets the value as one argument', async () => {
    const { dir, env } = project(
      [
        'deployments:',
        '  web:',
        '    type: shell',
        '    variables:',
        `      FOO: "$(touch ${marker})"`,
        '    commands:',
        '      - [sh, -c, \'printf "%s" "$${FOO}" > a.txt\']',
        '      - [node, -e, \'require("fs").writeFileSync("b.txt", process.argv[1])\', "${FOO}"]',
        '',
      ].join('\n'),
    );
    const run = await runCli(['deploy', 'web', '-e', 'dev', '--version', '1.0.0'], { env });
    expect(run.code, run.stderr).toBe(0);
    const { readFileSync } = await import('node:fs');
    expect([readFileSync(join(dir, 'a.txt'), 'utf8'), readFileSync(join(dir, 'b.txt'), 'utf8')]).toEqual([`$(touch ${marker})`, `$(touch ${marker})`]);
    expect(existsSync(marker)).toBe(false);
  });
});
