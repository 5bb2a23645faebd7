// What the application core needs from the world, in one small container. The CLI builds one per
// command (cli/core-deps.ts), the board one per action; tests hand in fakes. Never a CLI context.
import type { ApprovalSubject, EngineDeps } from '../engine/deploy.js';
import type { EventSink } from '../engine/events.js';
import type { Identity } from '../identity.js';
import type { Runner } from '../executors/types.js';
import type { CiInfo, DeployRecord } from '../state/types.js';
import type { StateStore } from '../state/port.js';

/**
 * Who approves a deployment of a protected environment (and a terraform apply): `--yes` given up front,
 * a terminal prompt, or nobody (no terminal, CI: refused with exit 6 and the way out). A Slack button
 * will be one more.
 */
export interface Approver {
  /** Approval given before the question (--yes, a button already pressed). */
  readonly approved: boolean;
  /** Someone can be asked now; when false, a deployment that needs approval is refused (exit 6). */
  readonly canAsk: boolean;
  /** Ask a yes/no question (about what, when the engine says); only called when canAsk. */
  ask(question: string, about?: ApprovalSubject): Promise<boolean>;
}

/** The moving parts of a deployment, loaded only by the commands that run something: what the engine gets of them. */
export interface EngineParts extends Pick<EngineDeps, 'getExecutor' | 'planHooks' | 'runHealthCheck' | 'resolveTools' | 'probeTool'> {
  /** The engine's runner factory, with the environment the commands run in. */
  createRunner(options: Parameters<EngineDeps['createRunner']>[0] & { env?: NodeJS.ProcessEnv }): Runner;
  /** Send the notifications of a finished record; returns what was sent (never throws). */
  notify?(
    record: DeployRecord,
    config: unknown,
    options: { secretValues: string[]; previousVersion?: string; warn: (message: string) => void; onSend: (targets: string[]) => void },
  ): Promise<Array<{ target: string; ok: boolean }>>;
}

export interface CoreDeps {
  /** The state store, opened on first use (config errors come first, and touch no state). */
  state(): Promise<StateStore>;
  /** Where environments.yaml and deployments.yaml are. */
  configDir: string;
  /** The process environment: config interpolation, secrets, child processes. */
  env: NodeJS.ProcessEnv;
  /** The runner factory, executors, hooks and health checks, loaded when first needed. */
  engine(): Promise<EngineParts>;
  clock(): Date;
  /** Who deploys from where: the same in the record, the lock and the audit log. */
  identity: Identity;
  ci?: CiInfo;
  /** A one-line description of the request for locks and records: "deploy web -e prod --version 1.2". */
  commandLine: string;
  /** Where a deployment's events go: the terminal reporter, the board, a chat thread. */
  emit: EventSink;
  /** Aborted to stop a running deployment (Ctrl-C). */
  signal?: AbortSignal;
  approver: Approver;
}
