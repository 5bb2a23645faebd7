// Approvals in PostgreSQL: one row per request; the decision is set once, by the first UPDATE that
// finds none (serve taking a click, a waiting CI run expiring it), whatever machine each runs on.
import type { Approval, ApprovalDecision, ApprovalRequest, ApprovalStore } from '../approvals.js';
import { newApprovalId } from '../approvals.js';
import type { Database } from './database.js';

type Row = { request: ApprovalRequest; decision: ApprovalDecision | null };

const approvalOf = (row: Row): Approval => ({ ...row.request, status: row.decision?.status ?? 'pending', ...(row.decision ? { decision: row.decision } : {}) });

export class PgApprovalStore implements ApprovalStore {
  constructor(private readonly db: Database) {}

  async create(request: Omit<ApprovalRequest, 'id'>): Promise<Approval> {
    const full: ApprovalRequest = { id: newApprovalId(), ...request };
    await this.db.write('write an approval request', 'INSERT INTO deployctl_approvals (id, request) VALUES ($1, $2)', [full.id, JSON.stringify(full)]);
    return { ...full, status: 'pending' };
  }

  async update(request: ApprovalRequest): Promise<void> {
    await this.db.write('write an approval request', 'UPDATE deployctl_approvals SET request = $2 WHERE id = $1', [request.id, JSON.stringify(request)]);
  }

  async get(id: string): Promise<Approval | undefined> {
    const [row] = await this.db.read<Row>('SELECT request, decision FROM deployctl_approvals WHERE id = $1', [id]);
    return row ? approvalOf(row) : undefined;
  }

  async decide(id: string, decision: ApprovalDecision): Promise<{ approval: Approval; won: boolean }> {
    const won = await this.db.write<Row>('record an approval decision', 'UPDATE deployctl_approvals SET decision = $2 WHERE id = $1 AND decision IS NULL RETURNING request, decision', [
      id,
      JSON.stringify(decision),
    ]);
    const approval = await this.get(id);
    if (!approval) throw new Error(`no approval request ${id}`);
    return { approval, won: won.length > 0 };
  }

  async pending(): Promise<Approval[]> {
    const rows = await this.db.read<Row>('SELECT request, decision FROM deployctl_approvals WHERE decision IS NULL ORDER BY created_at');
    return rows.map(approvalOf);
  }
}
