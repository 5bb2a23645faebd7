// The shapes of the configuration after it has been read, validated, merged and interpolated.

export const APP_TYPES = ['docker-compose', 'docker', 'kubernetes', 'terraform', 'ansible', 'shell'] as const;
export type AppType = (typeof APP_TYPES)[number];

/** A command in `commands:` or a hook: an argv array run directly, or a string run by the system shell. */
export type CommandSpec = string[] | string;

export interface HealthCheckConfig {
  type: 'http' | 'tcp' | 'command';
  // http
  url?: string;
  method?: string;
  headers?: Record<string, string>;
  expected_status?: number | number[] | string;
  body_contains?: string;
  json?: { path: string; equals: unknown };
  insecure?: boolean;
  ca_file?: string;
  // tcp
  host?: string;
  port?: number;
  // command
  command?: string[];
  // timing: durations are already converted to milliseconds
  retries?: number;
  interval?: number;
  max_interval?: number;
  timeout?: number;
  start_period?: number;
  success_threshold?: number;
  deadline?: number;
}

interface HooksConfig {
  pre_deploy?: CommandSpec[];
  post_deploy?: CommandSpec[];
}

interface RollbackPolicy {
  auto: boolean;
  max_attempts: number;
}

/**
 * One app's configuration for one environment, after the merge
 * (defaults < `defaults:` < environment < app < app's env override < --set) and interpolation.
 * Durations are milliseconds. Paths are absolute.
 */
export interface AppConfig {
  type: AppType;
  /** Directory the app's tool runs in: `path:` resolved against deployments.yaml's folder. */
  path: string;
  version?: string;
  variables: Record<string, string>;
  /** Names of variables whose values come from the process environment and are redacted everywhere. */
  secrets: string[];
  timeout: number;
  hooks: HooksConfig;
  health_check?: HealthCheckConfig;
  /** Checked before anything runs: the target is reachable. */
  pre_check?: HealthCheckConfig;
  rollback: RollbackPolicy;
  retention?: { keep: number };
  repo?: string;
  /** The type's own settings (commands, compose_file, image, manifests, var_file, playbook, ...). */
  [key: string]: unknown;
}

export interface EnvironmentConfig {
  name: string;
  protected: boolean;
  requires: string[];
  /** Milliseconds the version must have run healthy in the source before promotion. */
  soak?: number;
  variables: Record<string, string>;
  /** Per-type settings merged under the app's own (`kubernetes: { context, namespace }`, ...). */
  settings: Record<string, Record<string, unknown>>;
}

/** Everything the commands need: the loaded files, and a way to resolve one app in one environment. */
export interface LoadedConfig {
  dir: string;
  environmentsFile: string;
  deploymentsFile: string;
  /** Environment names in promotion order. */
  environments: EnvironmentConfig[];
  apps: string[];
  tools: Record<string, string>;
  notifications?: unknown;
  /** `chatops:` of deployments.yaml, for deployctl serve (as written; server/chatops-config.ts reads it). */
  chatops?: unknown;
}

export interface ResolveOptions {
  /** `--set key=value` pairs, in order. */
  set?: string[];
  /** `--version`; otherwise the app's `version:`, else the git short SHA of its checkout. */
  version?: string;
  /** Process environment used for `${NAME}` and secrets (defaults to process.env). */
  processEnv?: NodeJS.ProcessEnv;
}

export interface ResolvedApp {
  app: string;
  env: string;
  environment: EnvironmentConfig;
  version: string;
  /** Where the version came from, for messages. */
  versionSource: 'flag' | 'config' | 'git' | 'record';
  config: AppConfig;
  /** The secret values to redact (never stored). */
  secretValues: string[];
}
