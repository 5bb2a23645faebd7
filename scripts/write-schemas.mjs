// Writes config/environments.schema.json and config/deployments.schema.json from one description of
// the settings, so the app, defaults, per-environment overrides and environment blocks never drift.
// The build runs it (after tsc, before compile-schemas.mjs); a test checks the files are current.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

// The executors' own settings (src/executors/settings/*.ts), as compiled by tsc: run after it.
const { EXECUTOR_SETTINGS, commandSchema: command, duration, envMap, names } = await import(pathToFileURL(join(root, 'dist/executors/settings/index.js')).href);
const on = { type: 'array', items: { enum: ['failure', 'success', 'rollback', 'promote'] }, description: 'which results to notify about (default: all)' };
// An HTTP token, or ${...} to be interpolated (the result is checked when the app is resolved).
const httpToken = '^([!#$%&\'*+.^_`|~0-9A-Za-z-]|\\$\\{[^}]*\\})+$';

const healthCheck = {
  type: 'object',
  additionalProperties: false,
  description: 'how to tell that the deployed version is serving',
  properties: {
    type: { enum: ['http', 'tcp', 'command'], description: 'http (default when url is set), tcp or command' },
    url: { type: 'string', description: 'http: the URL to request' },
    method: { type: 'string', pattern: httpToken, description: 'http: the method (GET)' },
    headers: { type: 'object', additionalProperties: { type: 'string' } },
    expected_status: { type: ['integer', 'array', 'string'], minimum: 100, maximum: 599, items: { type: 'integer', minimum: 100, maximum: 599 }, description: 'a code, a list of codes, a class like 2xx, or a range like 200-299 (default 2xx)' },
    body_contains: { type: 'string', description: 'http: text the body must contain' },
    json: {
      type: 'object',
      additionalProperties: false,
      required: ['path', 'equals'],
      properties: { path: { type: 'string', description: 'like $.version' }, equals: { description: 'the value it must have' } },
    },
    insecure: { type: 'boolean', description: 'http: accept any TLS certificate' },
    ca_file: { type: 'string', description: 'http: CA certificate file (relative to the app path)' },
    host: { type: 'string', description: 'tcp: host (127.0.0.1)' },
    port: { type: ['integer', 'string'], minimum: 1, maximum: 65535, description: 'tcp: port (1-65535)' },
    command: { type: 'array', items: { type: 'string' }, minItems: 1, description: 'command: argv; exit 0 means healthy' },
    retries: { type: 'integer', minimum: 0, description: 'retries after the first attempt' },
    interval: { ...duration, description: 'first delay between attempts, doubled each time' },
    max_interval: { ...duration, description: 'longest delay between attempts' },
    timeout: { ...duration, description: 'time limit of one attempt' },
    start_period: { ...duration, description: 'grace period before the first attempt' },
    success_threshold: { type: 'integer', minimum: 1, description: 'consecutive successes required' },
    deadline: { ...duration, description: 'overall time limit of the check (default 5m)' },
  },
};

const notifications = {
  type: 'object',
  additionalProperties: false,
  properties: {
    timeout: { ...duration, description: 'overall time limit of the notifications of one deployment, retries included (10s)' },
    slack: {
      type: 'object',
      additionalProperties: false,
      // Not required here: an app or environment may override only `on:` or `channel:`; the merged
      // settings are checked for a webhook_url when the app is resolved.
      properties: { webhook_url: { type: 'string' }, channel: { type: 'string' }, on },
    },
    webhooks: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['url'],
        properties: { url: { type: 'string' }, headers: { type: 'object', additionalProperties: { type: 'string' } }, on },
      },
    },
  },
};

const typeSettings = Object.fromEntries(Object.entries(EXECUTOR_SETTINGS).map(([type, settings]) => [type, settings.schema]));

const common = {
  path: { type: 'string', description: 'folder the app lives in, relative to deployments.yaml' },
  version: { type: 'string', description: 'default version when --version is not given' },
  repo: { type: 'string', description: 'a git checkout, for diff to list commits between versions' },
  description: { type: 'string' },
  variables: envMap('variables: ${NAME} in the config, and in every command\'s environment'),
  allow_env: names('variables that may set what changes how every child runs (PATH, NODE_OPTIONS, LD_*, DYLD_*): refused unless named here'),
  secrets: names('variables read from the process environment and shown as *** everywhere'),
  timeout: { ...duration, description: 'time limit of each command' },
  hooks: {
    type: 'object',
    additionalProperties: false,
    properties: { pre_deploy: { type: 'array', items: command }, post_deploy: { type: 'array', items: command } },
  },
  health_check: healthCheck,
  pre_check: { ...healthCheck, description: 'checked before anything runs (the target is reachable); failing it stops the deploy with exit 4 and changes nothing' },
  rollback: {
    type: 'object',
    additionalProperties: false,
    properties: { auto: { type: 'boolean' }, max_attempts: { type: 'integer', minimum: 1 } },
  },
  retention: { type: 'object', additionalProperties: false, properties: { keep: { type: 'integer', minimum: 1 } } },
  notifications,
};

const types = Object.keys(typeSettings);
const ref = (name) => ({ $ref: `#/definitions/${name}` });

// Every setting is described once under `definitions` and referenced from the places it may appear
// (defaults, an app, an app's per-environment override), so the precompiled validator checks it with
// one function instead of copies of the same code. A type's own keys are `TYPE.KEY`.
const commonRefs = Object.fromEntries(Object.keys(common).map((key) => [key, ref(key)]));
commonRefs.pre_check = { description: common.pre_check.description, allOf: [ref('health_check')] };
const typeRefs = (type) => Object.fromEntries(Object.keys(typeSettings[type]).map((key) => [key, ref(`${type}.${key}`)]));
const definitions = {
  ...Object.fromEntries(Object.entries(common).filter(([key]) => key !== 'pre_check')),
  ...Object.fromEntries(types.flatMap((type) => Object.entries(typeSettings[type]).map(([key, schema]) => [`${type}.${key}`, schema]))),
};
// `defaults:` apply to apps of every type: any type's key may be there (docker's build, an object or
// true/false, covers docker-compose's true/false). An app's keys are those of its type only.
const anyTypeRefs = Object.assign({}, ...types.slice().reverse().map(typeRefs));
const settings = { ...commonRefs, ...anyTypeRefs };
for (const type of types) {
  definitions[`settings.${type}`] = { type: 'object', additionalProperties: false, properties: { ...commonRefs, ...typeRefs(type) }, description: `the settings of a ${type} app` };
  definitions[`app.${type}`] = {
    type: 'object',
    additionalProperties: false,
    properties: {
      type: { const: type },
      ...commonRefs,
      ...typeRefs(type),
      environments: { type: 'object', description: 'per-environment overrides of any setting above', additionalProperties: ref(`settings.${type}`) },
    },
  };
}

// Discriminated by `type`: a key that belongs to another type (a shell app with playbook:) is an error at its line.
const app = {
  type: 'object',
  required: ['type'],
  properties: { type: { enum: types, description: 'how this app is deployed' } },
  allOf: types.map((type) => ({ if: { properties: { type: { const: type } }, required: ['type'] }, then: ref(`app.${type}`) })),
};

const deployments = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'deployctl/deployments.schema.json',
  title: 'deployctl deployments.yaml',
  type: 'object',
  additionalProperties: false,
  required: ['deployments'],
  // x-...: free for anchors to reuse with aliases and merge keys (<<: *common), as in compose files.
  patternProperties: { '^x-': {} },
  definitions: { ...definitions, settings: { type: 'object', additionalProperties: false, properties: settings } },
  properties: {
    defaults: { description: 'settings every app starts from', allOf: [ref('settings')] },
    secrets: names('variables read from the process environment and shown as *** everywhere'),
    tools: { type: 'object', additionalProperties: { type: 'string' }, description: 'paths of the tools: { kubectl: /opt/bin/kubectl }' },
    notifications: ref('notifications'),
    chatops: {
      type: 'object',
      additionalProperties: false,
      description: 'deployctl serve: who may deploy, promote and roll back from Slack, and who approves protected environments',
      properties: {
        channel: { type: 'string', description: 'the Slack channel id for deployment and approval messages (C0123...)' },
        allow: { type: 'object', additionalProperties: { type: 'array', items: { type: 'string' } }, description: 'Slack user ids allowed to deploy, promote and roll back, by environment; "*" for the others' },
        approvers: { type: 'object', additionalProperties: { type: 'array', items: { type: 'string' } }, description: 'Slack user ids who may approve, by protected environment; "*" for the others' },
        approval_timeout: { ...duration, description: 'how long an approval request waits for a decision (1h)' },
      },
    },
    state: {
      type: 'object',
      additionalProperties: false,
      properties: { url: { type: 'string', description: 'postgres://USER@HOST/DB (a team) or file:DIR; ${VAR} is read from the environment' } },
      description: 'where history, locks and the audit log live (after --state and DEPLOYCTL_STATE; default file:~/.deployctl)',
    },
    deployments: { type: 'object', additionalProperties: app, description: 'the apps, by name' },
  },
};

// Each block of an environment is its own definition too: the validator compiles (on first use) only
// the functions for the blocks a file has.
const environmentDefinitions = {
  health_check: healthCheck,
  notifications,
  ...Object.fromEntries(
    Object.entries(typeSettings).map(([type, props]) => [
      type,
      { type: 'object', additionalProperties: false, properties: { path: common.path, timeout: common.timeout, ...props }, description: `settings for ${type} apps in this environment` },
    ]),
  ),
};

const environment = {
  type: 'object',
  additionalProperties: false,
  properties: {
    description: { type: 'string' },
    variables: envMap('variables of this environment'),
    protected: { type: 'boolean', description: 'a deploy or promotion here needs approval (--yes in CI)' },
    requires: names('environments the version must have succeeded in before it is promoted here'),
    soak: { ...duration, description: 'how long the version must have run in the previous environment before promotion here' },
    ...Object.fromEntries(Object.keys(environmentDefinitions).map((key) => [key, ref(key)])),
  },
};

const environments = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'deployctl/environments.schema.json',
  title: 'deployctl environments.yaml',
  type: 'object',
  additionalProperties: false,
  required: ['environments'],
  definitions: { ...environmentDefinitions, environment },
  properties: {
    promotion: names('promotion order (default: the order of environments below)'),
    environments: { type: 'object', additionalProperties: ref('environment'), description: 'the environments, in promotion order' },
  },
};

export const schemas = { environments, deployments };

export function writeSchemas() {
  for (const [name, schema] of Object.entries(schemas)) {
    writeFileSync(join(root, 'config', `${name}.schema.json`), `${JSON.stringify(schema, null, 2)}\n`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) writeSchemas();
