// Building blocks of the settings' JSON Schema fragments, and the description of a setting that names a
// file or folder. Pure data: scripts/write-schemas.mjs builds config/*.schema.json from the fragments.
import type { AppConfig, AppType } from '../../config/types.js';

export type JsonSchema = Record<string, unknown>;

export const DURATION_PATTERN = '^(\\d+(\\.\\d+)?)((ms|s|m|h|d)(\\d+(\\.\\d+)?(ms|s|m|h|d))*)?$';
export const duration: JsonSchema = { type: ['string', 'number'], pattern: DURATION_PATTERN, description: 'a duration: 250ms, 5s, 1m30s, 2h, or a number of seconds' };
export const scalar: JsonSchema = { type: ['string', 'number', 'boolean'] };
export const stringMap = (description: string): JsonSchema => ({ type: 'object', additionalProperties: scalar, description });
/** A map of environment variables: NAME=value, names as a shell accepts them. */
export const envMap = (description: string): JsonSchema => ({ type: 'object', propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }, additionalProperties: scalar, description });
export const names = (description: string): JsonSchema => ({ type: 'array', items: { type: 'string' }, description });

/**
 * A setting naming a file or folder. `base`: relative to deployments.yaml's folder (`config`) or to the
 * app's `path:` (`app`). `kind`: what must be there when the app is resolved.
 */
export interface PathSetting {
  key: string;
  kind: 'file' | 'folder' | 'file or folder';
  base: 'config' | 'app';
}

/** What one executor type declares about its settings. */
export interface ExecutorSettings {
  type: AppType;
  /** JSON Schema of each of the type's own keys (the common ones, path, timeout, hooks..., are not here). */
  schema: Record<string, JsonSchema>;
  /** The keys that name files or folders: resolved to absolute paths, then checked. */
  paths: PathSetting[];
  /** What the type cannot do without, in words, when it is missing; checked on the merged config. */
  missing?(config: AppConfig): string | undefined;
  /** What `destroy` needs that is not configured (ansible's destroy_playbook...): the key and what to add, in words. */
  destroyMissing?(config: AppConfig): { key: string; message: string } | undefined;
  /**
   * The paths the type needs that no key names, or that a key names in its own way (a default file, a
   * nested setting), as [key path for the message, absolute path, kind]. After `paths` are resolved.
   */
  impliedPaths?(config: AppConfig): Array<[string, string, PathSetting['kind']]>;
  /** Resolve what `paths` cannot describe (nested settings), after `paths`. */
  resolve?(config: AppConfig, resolvePath: (value: string) => string, pathGiven: boolean): void;
}
