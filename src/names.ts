// Names and versions are checked before they touch a path or a command line.
import { UsageError } from './errors.js';

const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]*$/;
const VERSION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/;
const DIGEST_PATTERN = /^(?:[A-Za-z0-9][A-Za-z0-9._+-]{0,127})?@sha256:[a-f0-9]{64}$/;

export function isValidName(name: string): boolean {
  return NAME_PATTERN.test(name) && name.length <= 100 && !name.includes('..');
}

export function assertName(kind: 'app' | 'environment', name: string): void {
  if (!isValidName(name)) {
    throw new UsageError(
      `invalid ${kind} name ${JSON.stringify(name)}`,
      `${kind} names use lower-case letters, digits, '.', '_' and '-', and start with a letter or digit`,
    );
  }
}

export function isValidVersion(version: string): boolean {
  return VERSION_PATTERN.test(version) || DIGEST_PATTERN.test(version);
}

export function assertVersion(version: string): void {
  if (!isValidVersion(version)) {
    throw new UsageError(
      `invalid version ${JSON.stringify(version)}`,
      'a version is 1-128 characters of letters, digits, ".", "_", "+" and "-", starting with a letter or digit (or an image digest "@sha256:...")',
    );
  }
}
