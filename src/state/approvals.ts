// Approvals, for protected environments: a request (who asks to deploy what where, until when) and,
// once, a decision (approved, rejected, expired: by whom, when). The file backend keeps a request in
// approvals/{id}.json and its decision in approvals/{id}.decision.json, created exclusively: the first
// decision wins, however many processes (serve, a waiting CI run) race to make one.
import { link, mkdir, open, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic.js';
import { randomHex } from './random-hex.js';
import { guardWrite } from './write-error.js';

export type ApprovalAction = 'deploy' | 'promote' | 'rollback' | 'destroy';
export type ApprovalStatus = 'pending' | 'approved' | 'rejected' | 'expired';

export interface ApprovalRequest {
  id: string;
  action: ApprovalAction;
  app: string;
  env: string;
  version?: string;
  /** The deployctl arguments that do it, when `serve` runs it once approved (asked in Slack). */
  args?: string[];
  /** Where the request came from: Slack (serve runs it) or a CLI run that waits for the decision. */
  origin: 'slack' | 'cli';
  requestedBy: { name: string; slackId?: string };
  requestedAt: string;
  expiresAt: string;
  /** The approval message in Slack, to update with the decision. */
  message?: { channel: string; ts: string };
}

export interface ApprovalDecision {
  status: Exclude<ApprovalStatus, 'pending'>;
  at: string;
  by?: { name: string; slackId?: string };
  reason?: string;
}

export interface Approval extends ApprovalRequest {
  status: ApprovalStatus;
  decision?: ApprovalDecision;
}

export interface ApprovalStore {
  create(request: Omit<ApprovalRequest, 'id'>): Promise<Approval>;
  /** Replaces the request's fields (the Slack message once posted); a decision is never changed. */
  update(request: ApprovalRequest): Promise<void>;
  get(id: string): Promise<Approval | undefined>;
  /** Records the decision unless one was made already; returns the approval as it now stands. */
  decide(id: string, decision: ApprovalDecision): Promise<{ approval: Approval; won: boolean }>;
  pending(): Promise<Approval[]>;
}

const ID = /^apr_[0-9a-f]{16}$/;

export function newApprovalId(): string {
  return `apr_${process.getBuiltinModule('node:crypto').randomBytes(8).toString('hex')}`;
}

export class FileApprovalStore implements ApprovalStore {
  private readonly dir: string;
  constructor(home: string) {
    this.dir = join(home, 'approvals');
  }

  private async ready(): Promise<void> {
    await guardWrite('create the approvals folder', this.dir, () => mkdir(this.dir, { recursive: true, mode: 0o700 }));
  }

  async create(request: Omit<ApprovalRequest, 'id'>): Promise<Approval> {
    await this.ready();
    const full: ApprovalRequest = { id: newApprovalId(), ...request };
    await this.update(full);
    return { ...full, status: 'pending' };
  }

  async update(request: ApprovalRequest): Promise<void> {
    await this.ready();
    const file = join(this.dir, `${request.id}.json`);
    await guardWrite('write an approval request', file, () => writeFileAtomic(file, `${JSON.stringify(request, null, 2)}\n`));
  }

  async get(id: string): Promise<Approval | undefined> {
    if (!ID.test(id)) return undefined;
    let request: ApprovalRequest;
    try {
      request = JSON.parse(await readFile(join(this.dir, `${id}.json`), 'utf8')) as ApprovalRequest;
    } catch {
      return undefined;
    }
    let decision: ApprovalDecision | undefined;
    try {
      decision = JSON.parse(await readFile(join(this.dir, `${id}.decision.json`), 'utf8')) as ApprovalDecision;
    } catch {
      decision = undefined;
    }
    return { ...request, status: decision?.status ?? 'pending', decision };
  }

  async decide(id: string, decision: ApprovalDecision): Promise<{ approval: Approval; won: boolean }> {
    const found = await this.get(id);
    if (!found) throw new Error(`no approval request ${id}`);
    let won = false;
    if (!found.decision) {
      const file = join(this.dir, `${id}.decision.json`);
      // Written whole into a file of its own, then linked to its name: link() fails if the name exists,
      // so the first decision wins, and nobody ever reads a decision half written (the loser of a race
      // reads the winner's whole file, never an empty one it would take for no decision yet).
      const temp = `${file}.${randomHex(6)}.tmp`;
      won = await guardWrite('record an approval decision', file, async () => {
        try {
          const handle = await open(temp, 'wx', 0o600);
          try {
            await handle.writeFile(`${JSON.stringify(decision)}\n`);
            await handle.sync();
          } finally {
            await handle.close();
          }
          try {
            await link(temp, file);
          } catch (error) {
            if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
            throw error;
          }
        } finally {
          await rm(temp, { force: true });
        }
        return true;
      });
    }
    return { approval: (await this.get(id))!, won };
  }

  async pending(): Promise<Approval[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch {
      return [];
    }
    const ids = names.filter((n) => /^apr_[0-9a-f]{16}\.json$/.test(n)).map((n) => n.slice(0, -5));
    const all = await Promise.all(ids.map((id) => this.get(id)));
    return all.filter((a): a is Approval => a !== undefined && a.status === 'pending');
  }
}

/** Approvals held in memory (the in-memory backend): the same rules, the first decision wins. */
export class MemoryApprovalStore implements ApprovalStore {
  private readonly requests = new Map<string, ApprovalRequest>();
  private readonly decisions = new Map<string, ApprovalDecision>();
  constructor(private readonly onChange: () => void = () => {}) {}

  async create(request: Omit<ApprovalRequest, 'id'>): Promise<Approval> {
    const full: ApprovalRequest = { id: newApprovalId(), ...request };
    await this.update(full);
    return { ...structuredClone(full), status: 'pending' };
  }

  async update(request: ApprovalRequest): Promise<void> {
    this.requests.set(request.id, structuredClone(request));
    this.onChange();
  }

  async get(id: string): Promise<Approval | undefined> {
    const request = this.requests.get(id);
    if (!request) return undefined;
    const decision = this.decisions.get(id);
    return { ...structuredClone(request), status: decision?.status ?? 'pending', ...(decision ? { decision: structuredClone(decision) } : {}) };
  }

  async decide(id: string, decision: ApprovalDecision): Promise<{ approval: Approval; won: boolean }> {
    if (!this.requests.has(id)) throw new Error(`no approval request ${id}`);
    const won = !this.decisions.has(id);
    if (won) {
      this.decisions.set(id, structuredClone(decision));
      this.onChange();
    }
    return { approval: (await this.get(id))!, won };
  }

  async pending(): Promise<Approval[]> {
    const all = await Promise.all([...this.requests.keys()].map((id) => this.get(id)));
    return all.filter((a): a is Approval => a !== undefined && a.status === 'pending');
  }
}
