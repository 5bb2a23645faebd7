// A real full disk: a small tmpfs mounted for one test (as root: see tmpfsMissing in tools.ts), filled
// with a filler file down to a chosen number of free pages, freed again, turned read-only.
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, readdirSync, rmSync, statfsSync, statSync, truncateSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './cli.js';

export class SmallDisk {
  private constructor(readonly dir: string) {}

  /** Mount a tmpfs of `kb` KiB in a fresh temp folder. */
  static mount(kb = 1024): SmallDisk {
    const dir = tempDir('deployctl-disk-');
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${kb}k,mode=0755`, 'tmpfs', dir], { stdio: 'pipe' });
    return new SmallDisk(dir);
  }

  /** Free blocks (pages: tmpfs gives every non-empty file whole pages). */
  freeBlocks(): number {
    return statfsSync(this.dir).bavail;
  }

  blockSize(): number {
    return statfsSync(this.dir).bsize;
  }

  /** Fill every free page (a write then fails with ENOSPC), leaving `leave` pages free. */
  fill(leave = 0): void {
    const file = join(this.dir, 'filler');
    const fd = openSync(file, 'a');
    const chunk = Buffer.alloc(64 * 1024, 1);
    try {
      for (;;) writeSync(fd, chunk);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
    } finally {
      closeSync(fd);
    }
    if (leave > 0) truncateSync(file, statSync(file).size - leave * this.blockSize());
    if (this.freeBlocks() !== leave) throw new Error(`the disk has ${this.freeBlocks()} free pages, not ${leave}`);
  }

  /** Remove every filler file (the tests' and those a deploy command wrote). */
  free(): void {
    for (const name of readdirSync(this.dir)) if (name.startsWith('filler')) rmSync(join(this.dir, name));
  }

  remount(mode: 'ro' | 'rw'): void {
    execFileSync('mount', ['-o', `remount,${mode}`, this.dir], { stdio: 'pipe' });
  }

  unmount(): void {
    execFileSync('umount', [this.dir], { stdio: 'pipe' });
    rmSync(this.dir, { recursive: true, force: true });
  }
}
