// Writes config/environments.schema.json and config/deployments.schema.json from one description of
// the settings, so the app, defaults, per-environment overrides and environment blocks never drift.
// Run it after changing a setting: node scripts/write-schemas.mjs (a test checks the files are current).
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

const duration = { type: ['string', 'number'], pattern: '^(\\d+(\\.\\d+)?)((ms|s|m|h|d)(\\d+(\\.\\d+)?(ms|s|m|h|d))*)?$', description: 'a duration: 250ms, 5s, 1m30s, 2h, or a number of seconds' };
const scalar = { type: ['string', 'number', 'boolean'] };
const stringMap = (description) => ({ type: 'object', additionalProperties: scalar, description });
const names = (description) => ({ type: 'array', items: { type: 'string' }, description });
const command = {
  type: ['array', 'string'],
  items: { type: 'string' },
  minItems: 1,
  description: 'an argv array run directly (["npm", "run", "migrate"]), or a string run by the system shell as written',
};
const on = { type: 'array', items: { enum: ['failure', 'success', 'rollback', 'promote'] }, description: 'which results to notify about (default: all)' };

const healthCheck = {
  type: 'object',
  additionalProperties: false,
  description: 'how to tell that the deployed version is serving',
  properties: {
    type: { enum: ['http', 'tcp', 'command'], description: 'http (default when url is set), tcp or command' },
    url: { type: 'string', description: 'http: the URL to request' },
    method: { type: 'string', description: 'http: the method (GET)' },
    headers: { type: 'object', additionalProperties: { type: 'string' } },
    expected_status: { type: ['integer', 'array', 'string'], items: { type: 'integer' }, description: 'a code, a list of codes, a class like 2xx, or a range like 200-299 (default 2xx)' },
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
    port: { type: ['integer', 'string'], description: 'tcp: port' },
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

const typeSettings = {
  'docker-compose': {
    compose_file: { type: 'string', description: 'compose file, relative to path (docker-compose.yml)' },
    project: { type: 'string', description: 'compose project name (APP-ENV)' },
    env_vars: stringMap('variables for the compose file, passed through the environment'),
    services: names('only these services'),
    build: { type: 'boolean', description: 'build the services that have a build section on each deploy: up --build (default true); false leaves it to compose, which builds only missing images; a rollback never builds' },
    pull: { enum: ['always', 'missing', 'never'], description: "compose's pull policy for up (missing): --pull with the plugin; docker-compose v1 pulls first for always, and has no never" },
  },
  docker: {
    image: { type: 'string', description: 'image name without tag; the version is the tag (default with build: the app name)' },
    build: {
      type: ['object', 'boolean'],
      additionalProperties: false,
      properties: { dockerfile: { type: 'string' }, context: { type: 'string' }, args: stringMap('build arguments') },
      description: 'docker: the build section ({ dockerfile, context, args }; true: the Dockerfile in path); docker-compose: true or false',
    },
    container_name: { type: 'string', description: 'container name (APP-ENV)' },
    ports: names('published ports, HOST:CONTAINER'),
    port: { type: ['integer', 'string'], description: 'one port published as PORT:PORT (ports: for more)' },
    env: stringMap('container environment, passed through the environment'),
    volumes: names('volumes, SRC:DST[:ro]'),
    restart: { type: 'string', description: 'restart policy (unless-stopped)' },
    stop_timeout: { ...duration, description: 'how long docker stop gives the old container to exit after SIGTERM before it is killed (10s)' },
    network: { type: 'string', description: 'docker network (host)' },
    command: { type: 'array', items: { type: 'string' }, description: 'container command argv' },
  },
  kubernetes: {
    manifests: { type: 'string', description: 'a manifest file or a folder of them, relative to deployments.yaml' },
    kustomize: { type: 'string', description: 'a kustomize folder, relative to deployments.yaml' },
    context: { type: 'string', description: 'kube context' },
    namespace: { type: 'string', description: 'namespace' },
    rollout_timeout: duration,
  },
  terraform: {
    var_file: { type: 'string', description: 'a .tfvars file, relative to path' },
    vars: stringMap('more -var values'),
    version_var: { type: 'string', description: 'the terraform variable that receives the version (app_version)' },
    auto_approve: { type: 'boolean', description: 'apply the plan without asking' },
    workspace: { type: 'string' },
  },
  ansible: {
    inventory: { type: 'string', description: 'inventory, relative to path' },
    playbook: { type: 'string', description: 'playbook, relative to path' },
    vault_password_file: { type: 'string' },
    extra_vars_file: { type: 'string' },
    limit: { type: 'string' },
    tags: { type: 'string' },
    check: { type: 'boolean', description: 'run with --check --diff' },
  },
  shell: {
    commands: { type: 'array', items: command, minItems: 1, description: 'the commands, in order' },
  },
};

const common = {
  path: { type: 'string', description: 'folder the app lives in, relative to deployments.yaml' },
  version: { type: 'string', description: 'default version when --version is not given' },
  repo: { type: 'string', description: 'a git checkout, for diff to list commits between versions' },
  description: { type: 'string' },
  variables: stringMap('variables: ${NAME} in the config, and in every command\'s environment'),
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

// docker's build (an object, or true/false) also covers docker-compose's (true/false): apps of both types share the key.
const allTypeSettings = Object.assign({}, ...Object.values(typeSettings), { build: typeSettings.docker.build });
const settingSchemas = { ...common, ...allTypeSettings };
const types = Object.keys(typeSettings);

// Every setting is described once under `definitions` and referenced from the three places it may
// appear (defaults, an app, an app's per-environment override), so the precompiled validator checks it
// with one function instead of three copies of the same code.
const ref = (name) => ({ $ref: `#/definitions/${name}` });
const settings = Object.fromEntries(Object.keys(settingSchemas).map((key) => [key, ref(key)]));
settings.pre_check = { description: common.pre_check.description, allOf: [ref('health_check')] };
const definitions = Object.fromEntries(Object.entries(settingSchemas).filter(([key]) => key !== 'pre_check'));

const app = {
  type: 'object',
  additionalProperties: false,
  required: ['type'],
  properties: {
    type: { enum: types, description: 'how this app is deployed' },
    ...settings,
    environments: {
      type: 'object',
      description: 'per-environment overrides of any setting above',
      additionalProperties: ref('settings'),
    },
  },
};

const deployments = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'deployctl/deployments.schema.json',
  title: 'deployctl deployments.yaml',
  type: 'object',
  additionalProperties: false,
  required: ['deployments'],
  definitions: { ...definitions, settings: { type: 'object', additionalProperties: false, properties: settings } },
  properties: {
    defaults: { description: 'settings every app starts from', allOf: [ref('settings')] },
    secrets: names('variables read from the process environment and shown as *** everywhere'),
    tools: { type: 'object', additionalProperties: { type: 'string' }, description: 'paths of the tools: { kubectl: /opt/bin/kubectl }' },
    notifications: ref('notifications'),
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
    variables: stringMap('variables of this environment'),
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

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const [name, schema] of Object.entries(schemas)) {
    writeFileSync(join(root, 'config', `${name}.schema.json`), `${JSON.stringify(schema, null, 2)}\n`);
  }
}
