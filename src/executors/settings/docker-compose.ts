// docker-compose: the compose file, the project, and what `up` builds and pulls.
import { join } from 'node:path';
import { envMap, names, type ExecutorSettings } from './parts.js';

export interface DockerComposeSettings {
  compose_file?: string;
  project?: string;
  env_vars?: Record<string, string | number | boolean>;
  services?: string[];
  build?: boolean;
  pull?: 'always' | 'missing' | 'never';
}

export const dockerComposeSettings: ExecutorSettings = {
  type: 'docker-compose',
  schema: {
    compose_file: { type: 'string', description: 'compose file, relative to path (docker-compose.yml)' },
    project: { type: 'string', description: 'compose project name (APP-ENV)' },
    env_vars: envMap('variables for the compose file, passed through the environment'),
    services: names('only these services'),
    build: { type: 'boolean', description: 'build the services that have a build section on each deploy: up --build (default true); false leaves it to compose, which builds only missing images; a rollback never builds' },
    pull: { enum: ['always', 'missing', 'never'], description: "compose's pull policy for up (missing): --pull with the plugin; docker-compose v1 pulls first for always, and has no never" },
  },
  paths: [{ key: 'compose_file', kind: 'file', base: 'app' }],
  impliedPaths: (c) => (c.compose_file === undefined ? [['compose_file', join(c.path, 'docker-compose.yml'), 'file']] : []),
};
