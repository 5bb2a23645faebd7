// The bad-input corpus: each case is a config, a command line and an environment that deployctl must
// refuse before anything runs. Every case asserts exit 2, the place (file:line:col, or the flag), the
// hint that names the way out, that no command ran (each app's commands and hooks would write a marker
// file), and that the state folder (seeded by a real deploy) is byte-identical afterwards.
// In a YAML text, `#HERE` marks the line the error must name.
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import { cleanEnv, cliPath, repoRoot, runCli, tempDir } from '../support/cli.js';
import { spawn } from 'node:child_process';

const TOUCH = `[node, -e, "require('fs').writeFileSync(process.env.MARKER_FILE, 'ran')"]`;
const ENVIRONMENTS = 'environments:\n  dev: {}\n  prod: {}\n';
/** The seed config: every app's pre-deploy hook (from defaults) and web's command write the marker. */
const HEAD = ['defaults:', '  hooks:', '    pre_deploy:', `      - ${TOUCH}`, 'deployments:', '  web:', '    type: shell', '    commands:', `      - ${TOUCH}`];
/** deployments.yaml with more lines under web (4 spaces in), and more apps after it (2 spaces in). */
const web = (lines: string[] = [], apps: string[] = []) => [...HEAD, ...lines.map((l) => `    ${l}`), ...apps.map((l) => `  ${l}`), ''].join('\n');
/** deployments.yaml with one more app, `api`, of its own type and settings. */
const api = (type: string, lines: string[]) => web([], ['api:', `  type: ${type}`, ...lines.map((l) => `  ${l}`)]);

interface Case {
  /** deployments.yaml (text or bytes); default: the seed. */
  dep?: string | Buffer;
  /** environments.yaml; default: dev and prod. */
  env?: string | Buffer;
  /** Other files in the config folder. */
  files?: Record<string, string>;
  /** The command line; default: deploy web -e dev --version 1.0.0. */
  args?: string[];
  processEnv?: Record<string, string>;
  /** What names the place: a string with HERE for `line:` of the #HERE line, or a flag, or a RegExp. */
  where: string | RegExp;
  /** Text of the message or hint naming the fix. */
  hint: string | RegExp;
}

const DEPLOY = ['deploy', 'web', '-e', 'dev', '--version', '1.0.0'];
const deployApi = ['deploy', 'api', '-e', 'dev', '--version', '1.0.0'];
const set = (assignment: string, hint: string | RegExp, args = DEPLOY): [string, Case] => [`--set ${assignment}`, { args: [...args, '--set', assignment], where: `--set "${assignment}"`, hint }];
/** A secret's --set: named without its value, which never appears in any output. */
const secretSet = (assignment: string, hint: string | RegExp, args = DEPLOY): [string, Case] => [`--set ${assignment}`, { args: [...args, '--set', assignment], where: `--set "${assignment.split('=')[0]}=..."`, hint }];

const cases: Array<[string, Case]> = [
  // --set: validated like the files, for the app's type.
  set('comands=x', 'did you mean "commands"'),
  set('retries=abc', 'unknown key "retries"'),
  set('health_check.retries=abc', 'must be integer'),
  set('health_check=x', 'must be a map'),
  set('hooks.pre_deploy=x', 'must be a list'),
  set('hooks=x', 'must be a map'),
  set('hooks.post_deploy.0=x', 'must be a list'),
  set('__proto__.polluted=1', '"__proto__" is not a setting'),
  set('constructor.prototype.polluted=1', '"constructor" is not a setting'),
  set('prototype=1', '"prototype" is not a setting'),
  set('variables.__proto__=1', '"__proto__" is not a setting'),
  set('health_check.constructor=1', '"constructor" is not a setting'),
  secretSet('variables.API_TOKEN=s3cr3t', 'export API_TOKEN=... in the environment'),
  secretSet('variables.my_secret=x', 'export my_secret=...'),
  secretSet('variables.DB_PASSWORD=x', 'export DB_PASSWORD=...'),
  secretSet('variables.AWS_ACCESS_KEY_ID=x', 'export AWS_ACCESS_KEY_ID=...'),
  secretSet('variables.GH_CREDENTIALS=x', 'export GH_CREDENTIALS=...'),
  set('variables.PATH=/tmp/evil', 'allow_env: [PATH]'),
  set('variables.LD_PRELOAD=/tmp/x.so', 'allow_env: [LD_PRELOAD]'),
  set('variables.LD_LIBRARY_PATH=/tmp', 'allow_env: [LD_LIBRARY_PATH]'),
  set('variables.NODE_OPTIONS=--require=/tmp/x.js', 'allow_env: [NODE_OPTIONS]'),
  set('variables.DYLD_INSERT_LIBRARIES=/tmp/x', 'allow_env: [DYLD_INSERT_LIBRARIES]'),
  set('variables.1X=1', 'is not an environment variable name'),
  set('variables.A-B=1', 'is not an environment variable name'),
  set('type=docker', 'type cannot be set from the command line'),
  set('environments.dev.timeout=1s', 'environments cannot be set'),
  set('image=nginx', '"image" is a setting of docker apps, not of a shell app'),
  set('playbook=site.yml', '"playbook" is a setting of ansible apps'),
  set('manifests=k8s', '"manifests" is a setting of kubernetes apps'),
  set('timeout=abc', 'must be a duration'),
  set('timeout=30d', '596h'),
  set('health_check.interval=forever', 'must be a duration'),
  ['--set health_check.start_period=30d', { args: [...DEPLOY, '--set', 'health_check.url=http://127.0.0.1:1/', '--set', 'health_check.start_period=30d'], where: '--set "health_check.start_period=30d"', hint: '596h' }],
  set('rollback.auto=maybe', 'must be boolean'),
  set('rollback.max_attempts=0', 'must be 1 or more'),
  set('health_check.port=70000', 'a port is a whole number from 1 to 65535'),
  set('health_check.url=ftp://x', 'is not an http:// or https:// URL'),
  set('health_check.method=G E T', 'an HTTP method'),
  set('novalue', 'write it as key.path=value'),
  set('=x', 'write it as key.path=value'),
  set('a..b=1', 'write it as key.path=value'),
  set('variables.X Y=1', 'write it as key.path=value'),
  ...[set('comands=x', 'did you mean "commands"', ['config', 'web', '-e', 'dev', '--version', '1.0.0'])].map(([n, c]): [string, Case] => [`config ${n}`, c]),
  ...[set('__proto__.x=1', '"__proto__" is not a setting', ['config', 'web', '-e', 'dev', '--version', '1.0.0'])].map(([n, c]): [string, Case] => [`config ${n}`, c]),
  ...[set('health_check.retries=abc', 'must be integer', ['health', 'web', '-e', 'dev'])].map(([n, c]): [string, Case] => [`health ${n}`, c]),
  secretSet('variables.SECRET_KEY=x', 'export SECRET_KEY=...', ['promote', 'web', '--to', 'prod', '--yes']),
  ['--set of a name listed in secrets:', { dep: `secrets: [DB_URL]\n${web()}`, processEnv: { DB_URL: 'postgres://x' }, args: [...DEPLOY, '--set', 'variables.DB_URL=x'], where: '--set "variables.DB_URL=..."', hint: 'export DB_URL=...' }],

  // The app schema, discriminated by type.
  ['a shell app with playbook:', { dep: web(['playbook: site.yml #HERE']), where: 'deployments.yaml:HERE', hint: '"playbook" is a setting of ansible apps, not of a shell app' }],
  ['a shell app with image:', { dep: web(['image: nginx #HERE']), where: 'deployments.yaml:HERE', hint: 'a shell app takes commands' }],
  ['a shell app with manifests:', { dep: web(['manifests: k8s #HERE']), where: 'deployments.yaml:HERE', hint: 'not of a shell app' }],
  ['a shell app with compose_file:', { dep: web(['compose_file: c.yml #HERE']), where: 'deployments.yaml:HERE', hint: 'docker-compose apps' }],
  ['a shell app with var_file:', { dep: web(['var_file: x.tfvars #HERE']), where: 'deployments.yaml:HERE', hint: 'terraform apps' }],
  ['a shell app with namespace:', { dep: web(['namespace: x #HERE']), where: 'deployments.yaml:HERE', hint: 'kubernetes apps' }],
  ['a docker app with commands:', { dep: api('docker', ['image: nginx', 'commands: [[echo]] #HERE']), args: deployApi, where: 'deployments.yaml:HERE', hint: '"commands" is a setting of shell apps, not of a docker app' }],
  ['a kubernetes app with playbook:', { dep: api('kubernetes', ['manifests: k8s', 'playbook: x.yml #HERE']), files: { 'k8s/a.yaml': 'kind: ConfigMap\n' }, args: deployApi, where: 'deployments.yaml:HERE', hint: 'not of a kubernetes app' }],
  ['a terraform app with image:', { dep: api('terraform', ['image: x #HERE']), args: deployApi, where: 'deployments.yaml:HERE', hint: 'not of a terraform app' }],
  ['an ansible app with commands:', { dep: api('ansible', ['playbook: site.yml', 'commands: [[echo]] #HERE']), files: { 'site.yml': '[]\n' }, args: deployApi, where: 'deployments.yaml:HERE', hint: 'not of a ansible app' }],
  ['a foreign key in a per-environment override', { dep: web(['environments:', '  dev:', '    image: nginx #HERE']), where: 'deployments.yaml:HERE', hint: 'not of a shell app' }],
  ['an unknown key', { dep: web(['comands: [[echo]] #HERE']), where: 'deployments.yaml:HERE', hint: 'did you mean "commands"' }],
  ['an unknown key in health_check', { dep: web(['health_check:', '  urll: http://127.0.0.1:1/ #HERE']), where: 'deployments.yaml:HERE', hint: 'unknown key "urll"' }],
  ['an unknown top-level key', { dep: `deploymentz: {} #HERE\n${web()}`, where: 'deployments.yaml:HERE', hint: 'unknown key "deploymentz"' }],
  ['retries: abc', { dep: web(['health_check: { url: "http://127.0.0.1:1/", retries: abc } #HERE']), where: 'deployments.yaml:HERE', hint: 'must be integer' }],
  ['timeout: 5 parsecs', { dep: web(['timeout: 5 parsecs #HERE']), where: 'deployments.yaml:HERE', hint: 'must be a duration' }],
  ['rollback.auto: maybe', { dep: web(['rollback: { auto: maybe } #HERE']), where: 'deployments.yaml:HERE', hint: 'must be boolean' }],
  ['commands: as a string', { dep: `deployments:\n  web:\n    type: shell\n    commands: "echo hi" #HERE\n`, where: 'deployments.yaml:HERE', hint: 'must be a list' }],
  ['hooks.pre_deploy: as a string', { dep: web(['hooks: { pre_deploy: "touch x" } #HERE']), where: 'deployments.yaml:HERE', hint: 'must be a list' }],
  ['an unknown type', { dep: web([], ['api:', '  type: kubectl #HERE']), where: 'deployments.yaml:HERE', hint: 'must be one of: docker-compose, docker, kubernetes' }],
  ['an app without type', { dep: web([], ['api:', '  commands: [[echo]] #HERE']), where: 'deployments.yaml:HERE', hint: 'missing required key "type"' }],
  ['variables: as a list', { dep: web(['variables: [A, B] #HERE']), where: 'deployments.yaml:HERE', hint: 'must be a map' }],
  ['secrets: as a string', { dep: `secrets: TOKEN #HERE\n${web()}`, where: 'deployments.yaml:HERE', hint: 'must be a list' }],
  ['a shell app without commands', { dep: `deployments:\n  web:\n    type: shell #HERE\n    hooks: { pre_deploy: [${TOUCH}] }\n`, where: 'deployments.yaml:HERE', hint: 'a shell app needs commands' }],
  ['a docker-compose app with a build section', { dep: api('docker-compose', ['build: { context: . } #HERE']), files: { 'docker-compose.yml': 'services: {}\n' }, args: deployApi, where: 'deployments.yaml:HERE', hint: 'must be boolean' }],
  ['a bad pull policy', { dep: api('docker-compose', ['pull: sometimes #HERE']), files: { 'docker-compose.yml': 'services: {}\n' }, args: deployApi, where: 'deployments.yaml:HERE', hint: 'must be one of: always, missing, never' }],

  // Paths: each type's files and folders.
  ['a missing path:', { dep: web(['path: nowhere #HERE']), where: 'deployments.yaml:HERE', hint: 'does not exist: fix path:' }],
  ['a path: that is a file', { dep: web(['path: app.txt #HERE']), files: { 'app.txt': 'x' }, where: 'deployments.yaml:HERE', hint: 'is a file, not a folder' }],
  ['a missing path: with rollback', { dep: web(['path: nowhere #HERE']), args: ['rollback', 'web', '-e', 'dev', '--yes'], where: 'deployments.yaml:HERE', hint: 'does not exist: fix path:' }],
  ['a missing path: with promote', { dep: web(['path: nowhere #HERE']), args: ['promote', 'web', '--to', 'prod', '--yes'], where: 'deployments.yaml:HERE', hint: 'does not exist: fix path:' }],
  ['a missing path: with config', { dep: web(['path: nowhere #HERE']), args: ['config', 'web', '-e', 'dev', '--version', '1'], where: 'deployments.yaml:HERE', hint: 'does not exist: fix path:' }],
  ['a missing path: with health', { dep: web(['path: nowhere #HERE', 'health_check: { url: "http://127.0.0.1:1/" }']), args: ['health', 'web', '-e', 'dev'], where: 'deployments.yaml:HERE', hint: 'does not exist: fix path:' }],
  ['a missing path: with validate', { dep: web(['path: nowhere #HERE']), args: ['validate'], where: 'deployments.yaml:HERE', hint: 'does not exist: fix path:' }],
  ['missing manifests', { dep: api('kubernetes', ['manifests: k8s #HERE']), args: deployApi, where: 'deployments.yaml:HERE', hint: 'k8s does not exist: fix manifests:' }],
  ['a kustomize: that is a file', { dep: api('kubernetes', ['kustomize: k.yaml #HERE']), files: { 'k.yaml': 'x: 1\n' }, args: deployApi, where: 'deployments.yaml:HERE', hint: 'is a file, not a folder' }],
  ['a missing var file', { dep: api('terraform', ['var_file: prod.tfvars #HERE']), args: deployApi, where: 'deployments.yaml:HERE', hint: 'prod.tfvars does not exist' }],
  ['a missing playbook', { dep: api('ansible', ['playbook: site.yml #HERE']), args: deployApi, where: 'deployments.yaml:HERE', hint: 'site.yml does not exist' }],
  ['a playbook that is a folder', { dep: api('ansible', ['playbook: site #HERE']), files: { 'site/x': '' }, args: deployApi, where: 'deployments.yaml:HERE', hint: 'is a folder, not a file' }],
  ['a missing inventory', { dep: api('ansible', ['playbook: site.yml', 'inventory: hosts.ini #HERE']), files: { 'site.yml': '[]\n' }, args: deployApi, where: 'deployments.yaml:HERE', hint: 'hosts.ini does not exist' }],
  ['a missing vault password file', { dep: api('ansible', ['playbook: site.yml', 'vault_password_file: .vault #HERE']), files: { 'site.yml': '[]\n' }, args: deployApi, where: 'deployments.yaml:HERE', hint: '.vault does not exist' }],
  ['a missing compose file', { dep: api('docker-compose', ['compose_file: compose.yaml #HERE']), args: deployApi, where: 'deployments.yaml:HERE', hint: 'compose.yaml does not exist' }],
  ['no docker-compose.yml in path', { dep: web([], ['api:', '  type: docker-compose #HERE']), args: deployApi, where: 'deployments.yaml:HERE', hint: 'create it, or set compose_file:' }],
  ['a missing build context', { dep: api('docker', ['build: { context: ctx } #HERE']), args: deployApi, where: 'deployments.yaml:HERE', hint: 'ctx does not exist' }],
  ['a missing CA file', { dep: web(['health_check: { url: "https://127.0.0.1:1/", ca_file: ca.pem } #HERE']), where: 'deployments.yaml:HERE', hint: 'ca.pem does not exist' }],
  ['a path: from a variable that is missing', { dep: web(['path: "${APP_DIR}" #HERE']), processEnv: { APP_DIR: '/nonexistent/app' }, where: 'deployments.yaml:HERE', hint: '/nonexistent/app does not exist' }],

  // Health checks that can never pass.
  ['an ftp: health URL', { dep: web(['health_check: { url: "ftp://127.0.0.1/" } #HERE']), where: 'deployments.yaml:HERE', hint: 'is not an http:// or https:// URL' }],
  ['a health URL that does not parse', { dep: web(['health_check: { url: "http://exa mple/" } #HERE']), where: 'deployments.yaml:HERE', hint: 'is not an http:// or https:// URL' }],
  ['a health URL without a host', { dep: web(['health_check: { url: "http://" } #HERE']), where: 'deployments.yaml:HERE', hint: 'is not an http:// or https:// URL' }],
  ['a relative health URL', { dep: web(['health_check: { url: "/health" } #HERE']), where: 'deployments.yaml:HERE', hint: 'is not an http:// or https:// URL' }],
  ['a health URL that interpolates to garbage', { dep: web(['health_check: { url: "${HEALTH_URL}" } #HERE']), processEnv: { HEALTH_URL: 'not a url' }, where: 'deployments.yaml:HERE', hint: 'is not an http:// or https:// URL' }],
  ['health_check timeout: 0', { dep: web(['health_check: { url: "http://127.0.0.1:1/", timeout: 0 } #HERE']), where: 'deployments.yaml:HERE', hint: 'whose timeout is 0 can never pass' }],
  ['pre_check deadline: 0s', { dep: web(['pre_check: { url: "http://127.0.0.1:1/", deadline: 0s } #HERE']), where: 'deployments.yaml:HERE', hint: 'whose deadline is 0 can never pass' }],
  ['--set health_check.timeout=0', { args: [...DEPLOY, '--set', 'health_check.url=http://127.0.0.1:1/', '--set', 'health_check.timeout=0'], where: '--set "health_check.timeout=0"', hint: 'give it time, like 2s' }],
  ['expected_status: abc', { dep: web(['health_check: { url: "http://127.0.0.1:1/", expected_status: abc } #HERE']), where: 'deployments.yaml:HERE', hint: 'can never match a status' }],
  ['expected_status: 999', { dep: web(['health_check: { url: "http://127.0.0.1:1/", expected_status: 999 } #HERE']), where: 'deployments.yaml:HERE', hint: 'must be 599 or less' }],
  ['expected_status: [200, 42]', { dep: web(['health_check: { url: "http://127.0.0.1:1/", expected_status: [200, 42] } #HERE']), where: 'deployments.yaml:HERE', hint: 'must be 100 or more' }],
  ['expected_status: 600-700', { dep: web(['health_check: { url: "http://127.0.0.1:1/", expected_status: "600-700" } #HERE']), where: 'deployments.yaml:HERE', hint: 'can never match a status' }],
  ['expected_status: 299-200', { dep: web(['health_check: { url: "http://127.0.0.1:1/", expected_status: "299-200" } #HERE']), where: 'deployments.yaml:HERE', hint: 'can never match a status' }],
  ['expected_status: 6xx', { dep: web(['health_check: { url: "http://127.0.0.1:1/", expected_status: 6xx } #HERE']), where: 'deployments.yaml:HERE', hint: 'can never match a status' }],
  ['port: 0', { dep: web(['health_check: { port: 0 } #HERE']), where: 'deployments.yaml:HERE', hint: 'must be 1 or more' }],
  ['port: 70000', { dep: web(['health_check: { port: 70000 } #HERE']), where: 'deployments.yaml:HERE', hint: 'must be 65535 or less' }],
  ['port: 80.5', { dep: web(['health_check: { port: 80.5 } #HERE']), where: 'deployments.yaml:HERE', hint: 'must be integer or string' }],
  ['port: abc', { dep: web(['health_check: { port: abc } #HERE']), where: 'deployments.yaml:HERE', hint: 'a port is a whole number from 1 to 65535' }],
  ['a port from a variable out of range', { dep: web(['health_check: { port: "${PORT}" } #HERE']), processEnv: { PORT: '99999' }, where: 'deployments.yaml:HERE', hint: 'a port is a whole number from 1 to 65535' }],
  ['method: G E T', { dep: web(['health_check: { url: "http://127.0.0.1:1/", method: "G E T" } #HERE']), where: 'deployments.yaml:HERE', hint: 'must be an HTTP method' }],
  ['a method from a variable that is no token', { dep: web(['health_check: { url: "http://127.0.0.1:1/", method: "${M}" } #HERE']), processEnv: { M: 'GET /x' }, where: 'deployments.yaml:HERE', hint: 'is not an HTTP method' }],
  ['a pre_check that can never pass', { dep: web(['pre_check: { url: "gopher://x/" } #HERE']), where: 'deployments.yaml:HERE', hint: 'is not an http:// or https:// URL' }],
  ['an http check without url', { dep: web(['health_check: { type: http } #HERE']), where: 'deployments.yaml:HERE', hint: 'an http check needs url:' }],

  // Durations a timer cannot hold.
  ['timeout: 30d', { dep: web(['timeout: 30d #HERE']), where: 'deployments.yaml:HERE', hint: '596h' }],
  ['start_period: 30d', { dep: web(['health_check: { url: "http://127.0.0.1:1/", start_period: 30d } #HERE']), where: 'deployments.yaml:HERE', hint: '596h' }],
  ['interval: 25d', { dep: web(['health_check: { url: "http://127.0.0.1:1/", interval: 25d } #HERE']), where: 'deployments.yaml:HERE', hint: '596h' }],
  ['a health timeout of 1000h', { dep: web(['health_check: { url: "http://127.0.0.1:1/", timeout: 1000h } #HERE']), where: 'deployments.yaml:HERE', hint: '596h' }],
  ['rollout_timeout: 30d', { dep: api('kubernetes', ['manifests: k8s', 'rollout_timeout: 30d #HERE']), files: { 'k8s/a.yaml': 'kind: ConfigMap\n' }, args: deployApi, where: 'deployments.yaml:HERE', hint: '596h' }],
  ['stop_timeout: 30d', { dep: api('docker', ['image: nginx', 'stop_timeout: 30d #HERE']), args: deployApi, where: 'deployments.yaml:HERE', hint: '596h' }],
  ['notifications.timeout: 30d', { dep: web(['notifications: { timeout: 30d } #HERE']), where: 'deployments.yaml:HERE', hint: '596h' }],
  ['timeout in seconds beyond the limit', { dep: web(['timeout: 9999999 #HERE']), where: 'deployments.yaml:HERE', hint: '596h' }],
  ['--timeout 30d', { args: [...DEPLOY, '--timeout', '30d'], where: '--timeout 30d', hint: 'give --timeout at most 596h' }],
  ['--timeout 9999999999', { args: [...DEPLOY, '--timeout', '9999999999'], where: '--timeout 9999999999', hint: 'at most 596h' }],
  ['--timeout abc', { args: [...DEPLOY, '--timeout', 'abc'], where: '--timeout "abc"', hint: 'write it like 90, 90s, 5m' }],
  ['--wait-lock 30d', { args: [...DEPLOY, '--wait-lock', '30d'], where: '--wait-lock 30d', hint: 'at most 596h' }],
  ['--wait-lock xyz', { args: [...DEPLOY, '--wait-lock', 'xyz'], where: '--wait-lock "xyz"', hint: 'write it like' }],
  ['rollback --wait-lock 30d', { args: ['rollback', 'web', '-e', 'dev', '--yes', '--wait-lock', '30d'], where: '--wait-lock 30d', hint: 'at most 596h' }],
  ['promote --wait-lock 30d', { args: ['promote', 'web', '--to', 'prod', '--yes', '--wait-lock', '30d'], where: '--wait-lock 30d', hint: 'at most 596h' }],

  // YAML.
  ['an unclosed quote', { dep: web(['health_check:', '  url: "http://x', '  retries: 2']), where: /deployments\.yaml:\d+:\d+ deployments\.web\.health_check\.url/, hint: 'Missing closing "quote' }],
  ['a misindented key', { dep: web(['health_check:', '  url: http://x', ' retries: 2']), where: /deployments\.yaml:\d+:\d+/, hint: 'invalid YAML' }],
  ['an unclosed bracket', { dep: web(['variables: { A: 1']), where: /deployments\.yaml:\d+:\d+/, hint: 'invalid YAML' }],
  ['a tab for indentation', { dep: web(['variables:', '\tA: 1']), where: /deployments\.yaml:\d+:\d+/, hint: 'invalid YAML' }],
  ['a duplicate key', { dep: web(['type: docker #HERE']), where: 'deployments.yaml:HERE', hint: 'Map keys must be unique' }],
  ['a duplicate app', { dep: web([], ['web: #HERE', '  type: shell']), where: 'deployments.yaml:HERE', hint: 'Map keys must be unique' }],
  ['a duplicate environment', { env: 'environments:\n  dev: {}\n  dev: {} #HERE\n', where: 'environments.yaml:HERE', hint: 'Map keys must be unique' }],
  ['a duplicate at the end of 40,000 variables', { dep: web(['variables:', ...Array.from({ length: 40_000 }, (_, i) => `  V${i}: x`), '  V7: y #HERE']), where: 'deployments.yaml:HERE', hint: 'Map keys must be unique' }],
  ['an alias to no anchor', { dep: web(['variables: *nothing #HERE']), where: 'deployments.yaml:HERE', hint: 'alias *nothing refers to no anchor' }],
  ['an alias bomb', { dep: `x-a: &a [x, x, x, x, x, x, x, x, x, x]\nx-b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a] #HERE\nx-c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nx-d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\nx-e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n${web()}`, where: 'deployments.yaml:HERE', hint: 'alias bomb' }],
  ['invalid UTF-8 in deployments.yaml', { dep: Buffer.concat([Buffer.from(web(['description: "caf'])), Buffer.from([0xe9]), Buffer.from('" #HERE\n')]), where: 'deployments.yaml:HERE', hint: 'is not valid UTF-8 at byte' }],
  ['invalid UTF-8 in environments.yaml', { env: Buffer.concat([Buffer.from('environments:\n  dev: {}\n  prod: { description: "'), Buffer.from([0xc3, 0x28]), Buffer.from('" } #HERE\n')]), where: 'environments.yaml:HERE', hint: 'save the file as UTF-8' }],
  ['a NUL in a value', { dep: web(['variables: { A: "x\\0y" } #HERE']), where: 'deployments.yaml:HERE', hint: 'NUL character' }],
  ['a NUL in a command', { dep: `deployments:\n  web:\n    type: shell\n    commands:\n      - [touch, "a\\0b"] #HERE\n`, where: 'deployments.yaml:HERE', hint: 'NUL character' }],
  ['a __proto__ key', { dep: web(['__proto__: { polluted: yes } #HERE']), where: 'deployments.yaml:HERE', hint: '"__proto__" cannot be a key' }],
  ['a constructor key in variables', { dep: web(['variables:', '  constructor: x #HERE']), where: 'deployments.yaml:HERE', hint: '"constructor" cannot be a key' }],
  ['a prototype key in environments.yaml', { env: 'environments:\n  dev: {}\n  prod:\n    prototype: {} #HERE\n', where: 'environments.yaml:HERE', hint: '"prototype" cannot be a key' }],
  ['a __proto__ key at the top', { dep: `__proto__: {} #HERE\n${web()}`, where: 'deployments.yaml:HERE', hint: '"__proto__" cannot be a key' }],
  ['a file over 5 MB', { dep: `${web()}# ${'x'.repeat(5.5 * 1024 * 1024)}\n`, where: 'deployments.yaml', hint: 'at most 5 MB' }],
  ['a merged anchor holding a foreign key', { dep: `x-base: &base\n  image: nginx\n${web(['<<: *base #HERE'])}`, where: /deployments\.yaml:\d+:\d+ deployments\.web\.image/, hint: 'not of a shell app' }],
  ['a list as the document', { dep: '- web\n- api\n', where: 'deployments.yaml', hint: 'must be a map' }],
  ['no deployments: at all', { dep: 'defaults: {}\n', where: 'deployments.yaml', hint: 'missing required key "deployments"' }],
  ['a missing deployments.yaml', { dep: '', files: {}, where: 'deployments.yaml', hint: 'file not found' }],
  ['malformed environments.yaml', { env: 'environments:\n  dev: [\n', where: /environments\.yaml:\d+:\d+/, hint: 'invalid YAML' }],
  ['a bad version: in the config', { dep: web(['version: "1.0; rm -rf /" #HERE']), args: ['deploy', 'web', '-e', 'dev'], where: 'deployments.yaml:HERE', hint: 'is not a version' }],
  ['a version: with a path in it', { dep: web(['version: ../../etc/passwd #HERE']), args: ['deploy', 'web', '-e', 'dev'], where: 'deployments.yaml:HERE', hint: 'is not a version' }],
  ['a version: with a space', { dep: web(['version: "1 2" #HERE']), args: ['validate'], where: 'deployments.yaml:HERE', hint: 'is not a version' }],
  ['a version: as a number', { dep: web(['version: 1.5 #HERE']), args: ['deploy', 'web', '-e', 'dev'], where: 'deployments.yaml:HERE', hint: 'must be string' }],
  ['a version: from a variable with a semicolon', { dep: web(['version: "${V}" #HERE']), processEnv: { V: '1;id' }, args: ['deploy', 'web', '-e', 'dev'], where: 'deployments.yaml:HERE', hint: 'is not a version' }],

  // Variables.
  ['a variable name starting with a digit', { dep: web(['variables: { 1BAD: x } #HERE']), where: 'deployments.yaml:HERE', hint: 'is not an environment variable name' }],
  ['a variable name with a dash', { dep: web(['variables:', '  MY-VAR: x #HERE']), where: 'deployments.yaml:HERE', hint: 'is not an environment variable name' }],
  ['a variable name with a space', { dep: web(['variables:', '  "MY VAR": x #HERE']), where: 'deployments.yaml:HERE', hint: 'is not an environment variable name' }],
  ['an environment variable name with =', { env: 'environments:\n  dev:\n    variables:\n      "A=B": x #HERE\n  prod: {}\n', where: 'environments.yaml:HERE', hint: 'is not an environment variable name' }],
  ['PATH in variables', { dep: web(['variables: { PATH: /tmp/evil } #HERE']), where: 'deployments.yaml:HERE', hint: 'allow_env: [PATH]' }],
  ['LD_PRELOAD in an environment', { env: 'environments:\n  dev:\n    variables: { LD_PRELOAD: /tmp/x.so } #HERE\n  prod: {}\n', where: 'environments.yaml:HERE', hint: 'allow_env: [LD_PRELOAD]' }],
  ['NODE_OPTIONS in defaults', { dep: web().replace('defaults:\n', 'defaults:\n  variables: { NODE_OPTIONS: "--require /tmp/x.js" } #HERE\n'), where: 'deployments.yaml:HERE', hint: 'allow_env: [NODE_OPTIONS]' }],
  ['DYLD_ in an override', { dep: web(['environments:', '  dev:', '    variables: { DYLD_LIBRARY_PATH: /tmp } #HERE']), where: 'deployments.yaml:HERE', hint: 'allow_env: [DYLD_LIBRARY_PATH]' }],
  ['PATH allowed for another name only', { dep: web(['allow_env: [LD_PRELOAD]', 'variables: { PATH: /tmp } #HERE']), where: 'deployments.yaml:HERE', hint: 'allow_env: [PATH]' }],
  ['PATH in a docker container env', { dep: api('docker', ['image: nginx', 'env: { PATH: /tmp } #HERE']), args: deployApi, where: 'deployments.yaml:HERE', hint: 'allow_env: [PATH]' }],
  ['LD_ in compose env_vars', { dep: api('docker-compose', ['env_vars: { LD_AUDIT: /tmp/x } #HERE']), files: { 'docker-compose.yml': 'services: {}\n' }, args: deployApi, where: 'deployments.yaml:HERE', hint: 'allow_env: [LD_AUDIT]' }],
  ['a secret name that is no variable name', { dep: `secrets: ["MY-TOKEN"] #HERE\n${web()}`, where: 'deployments.yaml:HERE', hint: 'is not an environment variable name' }],
  ['a secret that is not set', { dep: `secrets: [API_TOKEN] #HERE\n${web()}`, where: 'deployments.yaml:HERE', hint: 'export API_TOKEN=...' }],
  ['an undefined ${name}', { dep: web(['variables: { URL: "${NOPE}" } #HERE']), where: 'deployments.yaml:HERE', hint: 'give a fallback like ${NOPE:-value}' }],

  // Command-line parsing.
  ['an unknown flag before the command, --version after it', { args: ['--typo', 'deploy', 'web', '-e', 'dev', '--version', '1.2.3'], where: "unknown option '--typo'", hint: 'put the command\'s own flags after it' }],
  ['an unknown flag before the command', { args: ['--force', 'deploy', 'web', '-e', 'dev'], where: "unknown option '--force'", hint: 'deploy --help' }],
  ['--version with a command', { args: ['--version', 'deploy', 'web', '-e', 'dev'], where: "--version prints deployctl's own version", hint: 'write --version after the command' }],
  ['--json --version', { args: ['--json', '-V'], where: "-V prints deployctl's own version", hint: 'run deployctl --version alone' }],
  ...(['deploy web -e dev', 'rollback web -e dev', 'promote web --to prod', 'diff dev prod', 'config web -e dev', 'health web -e dev', 'validate', 'status', 'history', 'list', 'unlock web -e dev'] as const).map(
    (command): [string, Case] => [`an unknown flag after ${command.split(' ')[0]}`, { args: [...command.split(' '), '--typo'], where: "unknown option '--typo'", hint: `see: deployctl ${command.split(' ')[0]} --help` }],
  ),
  ['a missing -e', { args: ['deploy', 'web', '--version', '1'], where: "required option '-e, --env <env>'", hint: 'deploy --help' }],
  ['an unknown command', { args: ['deplyo', 'web'], where: "unknown command 'deplyo'", hint: 'deployctl --help' }],
  ['an extra argument', { args: ['deploy', 'web', 'api', '-e', 'dev'], where: 'too many arguments', hint: 'deploy --help' }],
  ['a --log-format that does not exist', { args: ['deploy', 'web', '-e', 'dev', '--log-format', 'xml'], where: "'xml' is invalid", hint: 'deploy --help' }],

  // Unknown apps and environments, names that try to escape a path.
  ['an unknown app', { args: ['deploy', 'wbe', '-e', 'dev', '--version', '1'], where: 'unknown app "wbe"', hint: 'did you mean "web"' }],
  ['an unknown environment', { args: ['deploy', 'web', '-e', 'prdo', '--version', '1'], where: 'unknown environment "prdo"', hint: 'did you mean "prod"' }],
  ['an app name escaping a path', { args: ['deploy', '../../etc', '-e', 'dev', '--version', '1'], where: 'invalid app name "../../etc"', hint: 'lower-case letters' }],
  ['an environment name escaping a path', { args: ['deploy', 'web', '-e', '../x', '--version', '1'], where: 'invalid environment name "../x"', hint: 'lower-case letters' }],
  ['an app name with a slash', { args: ['rollback', 'web/../../x', '-e', 'dev'], where: 'invalid app name', hint: 'lower-case letters' }],
  ['an upper-case app name', { args: ['config', 'WEB', '-e', 'dev'], where: 'invalid app name "WEB"', hint: 'lower-case letters' }],
  ['an app name with dots only', { args: ['unlock', '..', '-e', 'dev'], where: 'invalid app name ".."', hint: 'lower-case letters' }],
  ['an unknown app for health', { args: ['health', 'nope', '-e', 'dev'], where: 'unknown app "nope"', hint: 'deployments.yaml defines: web' }],
  ['an unknown app for promote', { args: ['promote', 'nope', '--to', 'prod'], where: 'nope has never been deployed to dev', hint: 'deployctl deploy nope -e dev' }],
  ['an unknown environment for diff', { args: ['diff', 'dev', 'nope'], where: '"nope"', hint: 'dev, prod' }],
  ['an invalid app name in the config', { dep: web([], ['Api_X/..: #HERE', '  type: shell', '  commands: [[echo]]']), where: 'deployments.yaml:HERE', hint: 'invalid app name' }],
  ['an invalid environment name in the config', { env: 'environments:\n  dev: {}\n  ../prod: {} #HERE\n', where: 'environments.yaml:HERE', hint: 'invalid environment name' }],
  ['an override for an unknown environment', { dep: web(['environments:', '  staging: { timeout: 1m } #HERE']), where: 'deployments.yaml:HERE', hint: 'unknown environment "staging"' }],
  ['requires: an unknown environment', { env: 'environments:\n  dev: {}\n  prod: { requires: [qa] } #HERE\n', where: 'environments.yaml:HERE', hint: 'unknown environment "qa"' }],
  ['promotion: an unknown environment', { env: 'promotion: [dev, qa] #HERE\nenvironments:\n  dev: {}\n  prod: {}\n', where: 'environments.yaml:HERE', hint: 'unknown environment "qa"' }],

  // Versions.
  ...['1.0; rm -rf /', '$(touch x)', '`id`', '../x', '-1', 'a b', 'x'.repeat(129), '1.0\n2', 'v1|x', '.hidden', '1.0&', 'é1'].map((version): [string, Case] => [
    `--version ${JSON.stringify(version).slice(0, 30)}`,
    { args: ['deploy', 'web', '-e', 'dev', `--version=${version}`], where: 'invalid version', hint: 'a version is 1-128 characters' },
  ]),
];

// --- running the corpus ---

let seedHome: string;
let seedConfig: string;
const base = { dep: web(), env: ENVIRONMENTS };

function hashTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) {
        out[`${relative(dir, path)}/`] = 'dir';
        walk(path);
      } else out[relative(dir, path)] = createHash('sha256').update(readFileSync(path)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

function lineOf(text: string | Buffer | undefined): number | undefined {
  if (text === undefined) return undefined;
  const lines = (typeof text === 'string' ? text : text.toString('latin1')).split('\n');
  const at = lines.findIndex((l) => l.includes('#HERE'));
  return at < 0 ? undefined : at + 1;
}

interface Outcome {
  code: number | null;
  stderr: string;
  stdout: string;
  markerRan: boolean;
  before: Record<string, string>;
  after: Record<string, string>;
}

/** The CLI's main function in this process, as bin/deployctl.cjs calls it: most cases, for speed. */
async function runMain(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  const { main } = await import('../../src/cli/main.js');
  const capture = () => {
    const stream = new PassThrough();
    let text = '';
    stream.on('data', (d) => (text += d));
    return { stream, text: () => text };
  };
  const stdout = capture();
  const stderr = capture();
  const stdin = new PassThrough();
  stdin.end();
  const code = await main(['node', 'deployctl', ...args], { stdout: stdout.stream, stderr: stderr.stream, stdin, env, cwd: repoRoot });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

async function runCase(c: Case, spawned: boolean): Promise<Outcome> {
  const dir = tempDir('deployctl-bad-');
  const dep = c.dep ?? base.dep;
  if (!(typeof dep === 'string' && dep === '' && c.files)) writeFileSync(join(dir, 'deployments.yaml'), dep);
  writeFileSync(join(dir, 'environments.yaml'), c.env ?? base.env);
  for (const [name, text] of Object.entries(c.files ?? {})) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  const home = tempDir('deployctl-bad-home-');
  cpSync(seedHome, home, { recursive: true });
  const marker = join(tempDir('deployctl-bad-marker-'), 'ran');
  const before = hashTree(home);
  const env = cleanEnv({ DEPLOYCTL_HOME: home, DEPLOYCTL_CONFIG_DIR: dir, MARKER_FILE: marker, CI: '1', ...c.processEnv });
  const run = spawned ? await runCli(c.args ?? DEPLOY, { env, timeoutMs: 60_000 }) : await runMain(c.args ?? DEPLOY, env);
  return { ...run, markerRan: existsSync(marker), before, after: hashTree(home) };
}

const outcomes = new Map<string, Promise<Outcome>>();
/** The cases run a few at a time: each spawns the built CLI. */
function schedule(): void {
  const queue = [...cases];
  const workers = 6;
  const slots: Array<Promise<void>> = [];
  const resolvers = new Map<string, (o: Outcome) => void>();
  for (const [name] of queue) outcomes.set(name, new Promise((resolve) => resolvers.set(name, resolve)));
  for (let w = 0; w < workers; w++) {
    slots.push(
      (async () => {
        for (let next = queue.shift(); next; next = queue.shift()) {
          const [name, c] = next;
          // Every eighth case, and the command-line ones, through the built binary as users run it.
          const spawned = cases.findIndex(([n]) => n === name) % 8 === 0 || /flag|--version|command|argument/.test(name);
          resolvers.get(name)!(await runCase(c, spawned).catch((error) => ({ code: -1, stderr: String(error), stdout: '', markerRan: false, before: {}, after: { error: String(error) } })));
        }
      })(),
    );
  }
}

beforeAll(async () => {
  // A real deploy first: the state folder holds a history, an index and an audit log to keep intact.
  seedConfig = tempDir('deployctl-bad-seed-');
  writeFileSync(join(seedConfig, 'deployments.yaml'), base.dep);
  writeFileSync(join(seedConfig, 'environments.yaml'), base.env);
  seedHome = tempDir('deployctl-bad-seed-home-');
  const marker = join(tempDir('deployctl-bad-marker-'), 'ran');
  for (const version of ['0.8.0', '0.9.0']) {
    const seeded = await runCli(['deploy', 'web', '-e', 'dev', '--version', version], { env: cleanEnv({ DEPLOYCTL_HOME: seedHome, DEPLOYCTL_CONFIG_DIR: seedConfig, MARKER_FILE: marker }) });
    expect(seeded.code, seeded.stderr).toBe(0);
  }
  expect(existsSync(marker)).toBe(true);
  schedule();
}, 60_000);

describe('the bad-input corpus: refused before anything runs', () => {
  it('holds at least 150 cases, each with its own name', () => {
    expect(cases.length).toBeGreaterThanOrEqual(150);
    expect(new Set(cases.map(([name]) => name)).size).toBe(cases.length);
  });

  it.each(cases)('%s', async (_name, c) => {
    const outcome = await outcomes.get(_name)!;
    const output = `${outcome.stderr}${outcome.stdout}`;
    expect(outcome.code, output).toBe(2);
    const here = lineOf(c.where.toString().includes('environments.yaml') ? c.env : c.dep);
    if (typeof c.where === 'string') {
      expect(output).toContain(c.where.replace('HERE', `${here}:`));
      if (c.where.includes('HERE')) expect(output).toMatch(new RegExp(`${c.where.replace('.', '\\.').replace('HERE', `${here}:\\d+`)}`));
    } else {
      expect(output).toMatch(c.where);
    }
    if (typeof c.hint === 'string') expect(output).toContain(c.hint);
    else expect(output).toMatch(c.hint);
    if ((c.args ?? DEPLOY)[0] !== 'validate') expect(output).toMatch(/hint: /);
    expect(output).not.toMatch(/internal error|at .*\.js:\d+/);
    expect(outcome.markerRan, 'a command or hook ran').toBe(false);
    expect(outcome.after).toEqual(outcome.before);
  }, 120_000);
});

describe('start-up', () => {
  let server: Server | undefined;
  afterAll(() => server?.close());

  it('exits 130 on a SIGINT that arrives before a command installs its own handler (health waiting on a server)', async () => {
    let arrived: () => void = () => {};
    const requested = new Promise<void>((resolve) => (arrived = resolve));
    server = createServer(() => arrived()); // never answers
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const dir = tempDir('deployctl-bad-sigint-');
    writeFileSync(join(dir, 'environments.yaml'), ENVIRONMENTS);
    writeFileSync(join(dir, 'deployments.yaml'), web([`health_check: { url: "http://127.0.0.1:${port}/", timeout: 1m, retries: 0 }`]));
    const child = spawn(process.execPath, [cliPath, 'health', 'web', '-e', 'dev', '--version', '1'], { env: cleanEnv({ DEPLOYCTL_HOME: tempDir(), DEPLOYCTL_CONFIG_DIR: dir }), stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    await requested;
    child.kill('SIGINT');
    expect(await exited).toBe(130);
  }, 60_000);
});
