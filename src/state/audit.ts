// ~/.deployctl/audit.log: one JSON line per action. Each line is one O_APPEND write, so lines from
// concurrent processes never interleave. Read from the end, so a long log costs no more than a short one.
// A line the disk takes only part of (full) is cut off again: a line is in the log whole or not at all.
import { closeSync, fstatSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { guardWrite } from './write-error.js';

export interface AuditEntry {
  at: string;
  action: 'deploy' | 'rollback' | 'promote' | 'destroy' | 'unlock' | 'prune' | 'approval' | 'chatops';
  app?: string;
  env?: string;
  version?: string;
  result: string;
  recordId?: string;
  user: string;
  host: string;
  details?: Record<string, unknown>;
}

export function auditPath(home: string): string {
  return join(home, 'audit.log');
}

/** Append one line; on a full or read-only disk a StateWriteError, and the log as it was. */
export async function appendAudit(home: string, entry: AuditEntry): Promise<void> {
  const file = auditPath(home);
  const line = Buffer.from(`${JSON.stringify(entry)}\n`);
  // Synchronous calls: one small append (see atomic.ts).
  await guardWrite('write the audit log', file, async () => {
    const fd = openSync(file, 'a', 0o600);
    let written = 0;
    try {
      // One write takes the whole line but on a full disk, which may take part of it and refuse the rest.
      while (written < line.length) written += writeSync(fd, line, written, line.length - written);
    } catch (error) {
      // Cut the part that went in, so the next line does not start inside this one.
      if (written > 0) {
        try {
          ftruncateSync(fd, fstatSync(fd).size - written);
        } catch {
          // the write's own error says more
        }
      }
      throw error;
    } finally {
      closeSync(fd);
    }
  });
}

export async function readAudit(home: string, options: { limit: number }): Promise<AuditEntry[]> {
  let handle;
  try {
    handle = await open(auditPath(home), 'r');
  } catch {
    return [];
  }
  try {
    const { size } = await handle.stat();
    const entries: AuditEntry[] = [];
    let position = size;
    let carry = '';
    const chunk = 64 * 1024;
    while (position > 0 && entries.length < options.limit) {
      const length = Math.min(chunk, position);
      position -= length;
      const buffer = Buffer.alloc(length);
      await handle.read(buffer, 0, length, position);
      const lines = (buffer.toString('utf8') + carry).split('\n');
      carry = position > 0 ? lines.shift()! : '';
      for (const line of lines.reverse()) {
        if (!line.trim()) continue;
        try {
          entries.push(JSON.parse(line) as AuditEntry);
        } catch {
          // a damaged line is skipped
        }
        if (entries.length >= options.limit) break;
      }
    }
    if (carry.trim() && entries.length < options.limit) {
      try {
        entries.push(JSON.parse(carry) as AuditEntry);
      } catch {
        // skipped
      }
    }
    return entries;
  } finally {
    await handle.close();
  }
}
