// /metrics: what this `serve` ran since it started, in Prometheus' text format.
type Labels = Record<string, string>;

const escape = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const key = (labels: Labels) =>
  Object.entries(labels)
    .map(([k, v]) => `${k}="${escape(v)}"`)
    .join(',');

export class Metrics {
  private readonly runs = new Map<string, number>();
  private readonly durations = new Map<string, { sum: number; count: number }>();
  private readonly requests = new Map<string, number>();

  /** A deploy, promotion or rollback run through serve, by its outcome. */
  recordRun(labels: { app: string; env: string; action: string; result: string }, seconds: number): void {
    const k = key(labels);
    this.runs.set(k, (this.runs.get(k) ?? 0) + 1);
    const d = key({ app: labels.app, env: labels.env, action: labels.action });
    const sum = this.durations.get(d) ?? { sum: 0, count: 0 };
    sum.sum += seconds;
    sum.count += 1;
    this.durations.set(d, sum);
  }

  recordRequest(route: string, status: number): void {
    const k = key({ route, status: String(status) });
    this.requests.set(k, (this.requests.get(k) ?? 0) + 1);
  }

  render(approvalsPending: number): string {
    const lines = [
      '# HELP deployctl_runs_total Deployments, promotions and rollbacks run through serve, by result.',
      '# TYPE deployctl_runs_total counter',
      ...[...this.runs].map(([k, v]) => `deployctl_runs_total{${k}} ${v}`),
      '# HELP deployctl_run_duration_seconds How long the runs took.',
      '# TYPE deployctl_run_duration_seconds summary',
      ...[...this.durations].flatMap(([k, v]) => [`deployctl_run_duration_seconds_sum{${k}} ${v.sum}`, `deployctl_run_duration_seconds_count{${k}} ${v.count}`]),
      '# HELP deployctl_approvals_pending Approval requests waiting for a decision.',
      '# TYPE deployctl_approvals_pending gauge',
      `deployctl_approvals_pending ${approvalsPending}`,
      '# HELP deployctl_http_requests_total HTTP requests served, by route and status.',
      '# TYPE deployctl_http_requests_total counter',
      ...[...this.requests].map(([k, v]) => `deployctl_http_requests_total{${k}} ${v}`),
    ];
    return `${lines.join('\n')}\n`;
  }
}
