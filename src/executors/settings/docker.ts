// docker: the image, how it is built, and the container it runs in.
import { isAbsolute, resolve } from 'node:path';
import { duration, envMap, names, stringMap, type ExecutorSettings } from './parts.js';

export interface DockerSettings {
  image?: string;
  build?: boolean | { dockerfile?: string; context?: string; target?: string; args?: Record<string, string | number | boolean> };
  container_name?: string;
  ports?: string[];
  port?: number | string;
  env?: Record<string, string | number | boolean>;
  volumes?: string[];
  restart?: string;
  /** Milliseconds once loaded. */
  stop_timeout?: number;
  network?: string;
  command?: string[];
}

export const dockerSettings: ExecutorSettings = {
  type: 'docker',
  schema: {
    image: { type: 'string', description: 'image name without tag; the version is the tag (default with build: the app name)' },
    build: {
      type: ['object', 'boolean'],
      additionalProperties: false,
      properties: { dockerfile: { type: 'string' }, context: { type: 'string' }, target: { type: 'string', description: 'the stage of a multi-stage Dockerfile to build (--target)' }, args: stringMap('build arguments') },
      description: 'the build section ({ dockerfile, context, target, args }; true: the Dockerfile in path)',
    },
    container_name: { type: 'string', description: 'container name (APP-ENV)' },
    ports: names('published ports, HOST:CONTAINER'),
    port: { type: ['integer', 'string'], description: 'one port published as PORT:PORT (ports: for more)' },
    env: envMap('container environment, passed through the environment'),
    volumes: names('volumes, SRC:DST[:ro]'),
    restart: { type: 'string', description: 'restart policy (unless-stopped)' },
    stop_timeout: { ...duration, description: 'how long docker stop gives the old container to exit after SIGTERM before it is killed (10s)' },
    network: { type: 'string', description: 'docker network (host)' },
    command: { type: 'array', items: { type: 'string' }, description: 'container command argv' },
  },
  paths: [],
  missing: (c) => (c.image || c.build ? undefined : 'a docker app needs image: (to pull), or build: (an image named after the app)'),
  resolve(c) {
    if (!c.build || typeof c.build !== 'object') return;
    const build = c.build as { context?: string; dockerfile?: string };
    build.context = resolve(c.path, build.context ?? '.');
    if (build.dockerfile) build.dockerfile = isAbsolute(build.dockerfile) ? build.dockerfile : resolve(c.path, build.dockerfile);
  },
  impliedPaths(c) {
    if (!c.build || typeof c.build !== 'object') return [];
    const build = c.build as { context: string; dockerfile?: string };
    return [
      ['build.context', build.context, 'folder'],
      ...(build.dockerfile ? [['build.dockerfile', build.dockerfile, 'file'] as [string, string, 'file']] : []),
    ];
  },
};
