// The commits between two versions that are git refs (tags, with or without a leading v, or SHAs).
import { execFileSync } from 'node:child_process';

function resolveRef(repo: string, version: string): string | undefined {
  for (const ref of [version, `v${version}`, version.replace(/-dirty$/, '')]) {
    try {
      return execFileSync('git', ['-C', repo, 'rev-parse', '--verify', '--quiet', `${ref}^{commit}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      // not this spelling
    }
  }
  return undefined;
}

/** `git log --oneline from..to`, or undefined when either version is not a ref of the repo. */
export function gitCommitsBetween(repo: string, from: string, to: string): string[] | undefined {
  const a = resolveRef(repo, from);
  const b = resolveRef(repo, to);
  if (!a || !b) return undefined;
  try {
    const out = execFileSync('git', ['-C', repo, 'log', '--oneline', '--no-decorate', `${a}..${b}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return out.trim() ? out.trim().split('\n') : [];
  } catch {
    return undefined;
  }
}
