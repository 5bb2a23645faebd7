// Without --version or version:, the version is the short commit SHA of the checkout the app lives
// in, with -dirty when the tree has changes (as Kamal does).
import { execFileSync } from 'node:child_process';

export function gitVersion(dir: string): string | undefined {
  try {
    const sha = execFileSync('git', ['-C', dir, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    if (!sha) return undefined;
    const status = execFileSync('git', ['-C', dir, 'status', '--porcelain', '--untracked-files=no'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return status.trim() ? `${sha}-dirty` : sha;
  } catch {
    return undefined;
  }
}
