// docker-compose: the compose file, the project, and what `up` builds and pulls.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { COMPOSE_DEFAULT_FILES } from '../compose-files.js';
import { envMap, names, type ExecutorSettings } from './parts.js';

export interface DockerComposeSettings {
  /** One file or several (-f a -f b); none: compose's own discovery. */
  compose_file?: string | string[];
  env_file?: string | string[];
  profiles?: string[];
  project?: string;
  env_vars?: Record<string, string | number | boolean>;
  services?: string[];
  build?: boolean;
  pull?: 'always' | 'missing' | 'never';
}

export const dockerComposeSettings: ExecutorSettings = {
  type: 'docker-compose',
  schema: {
    compose_file: { type: ['string', 'array'], items: { type: 'string' }, minItems: 1, description: "compose file or files (-f a -f b), relative to path; default compose's own discovery: compose.yaml, compose.yml, docker-compose.yaml, docker-compose.yml and its override file" },
    env_file: { type: ['string', 'array'], items: { type: 'string' }, description: 'env file or files for the compose file (--env-file), relative to path' },
    profiles: names('compose profiles to enable (--profile)'),
    project: { type: 'string', description: 'compose project name (APP-ENV)' },
    env_vars: envMap('variables for the compose file, passed through the environment'),
    services: names('only these services'),
    build: { type: 'boolean', description: 'build the services that have a build section on each deploy: up --build (default true); false leaves it to compose, which builds only missing images; a rollback never builds' },
    pull: { enum: ['always', 'missing', 'never'], description: "compose's pull policy for up (missing): --pull with the plugin; docker-compose v1 pulls first for always, and has no never" },
  },
  paths: [
    { key: 'compose_file', kind: 'file', base: 'app' },
    { key: 'env_file', kind: 'file', base: 'app' },
  ],
  // Without compose_file: compose's own discovery, in its order; the first default file found is the one.
  impliedPaths: (c) =>
    c.compose_file === undefined && !COMPOSE_DEFAULT_FILES.some((f) => existsSync(join(c.path, f)))
      ? [['compose_file', `${join(c.path, COMPOSE_DEFAULT_FILES[0])} (or ${COMPOSE_DEFAULT_FILES.slice(1).join(', ')})`, 'file']]
      : [],
};
