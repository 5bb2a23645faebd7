// The events a deployment emits. The reporters (plain text, JSON lines, Ink) only display these.
import type { DeployRecord, HealthAttempt, StepRecord } from '../state/types.js';

export type DeployEvent =
  | { type: 'started'; app: string; env: string; version: string; action: string; recordId: string; dryRun: boolean; /** A promotion's source environment. */ from?: string }
  | { type: 'phase'; phase: string; status: 'start' | 'done' | 'failed' | 'skipped'; message?: string }
  | { type: 'step-start'; index: number; label: string; command: string[]; shell?: boolean; dryRun: boolean }
  | { type: 'output'; index: number; line: string; stream: 'stdout' | 'stderr' }
  | { type: 'step-end'; index: number; step: StepRecord }
  | { type: 'health-attempt'; attempt: HealthAttempt }
  | { type: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; message: string }
  | { type: 'finished'; record: DeployRecord };

export type EventSink = (event: DeployEvent) => void;
