// The events a deployment emits. The reporters (plain text, JSON lines, Ink) only display these.
import type { DeployRecord, HealthAttempt, StepRecord } from '../state/types.js';

/**
 * Which deployment an event belongs to, so that several running at once can report through one sink:
 * the app and environment, and the record once there is one (none while taking the lock, or for the
 * notifications sent after it is released).
 */
interface EventTarget {
  app: string;
  env: string;
  recordId?: string;
}

export type DeployEvent = (
  | { type: 'started'; app: string; env: string; version: string; action: string; recordId: string; dryRun: boolean; /** A promotion's source environment. */ from?: string }
  | { type: 'phase'; phase: string; status: 'start' | 'done' | 'failed' | 'skipped'; message?: string }
  | { type: 'step-start'; index: number; label: string; command: string[]; shell?: boolean; dryRun: boolean }
  | { type: 'output'; index: number; line: string; stream: 'stdout' | 'stderr' }
  | { type: 'step-end'; index: number; step: StepRecord }
  | { type: 'health-attempt'; attempt: HealthAttempt }
  | { type: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; message: string }
  | { type: 'finished'; record: DeployRecord }
) & {
  /** Set by the engine on every event it emits. */
  target?: EventTarget;
};

export type EventSink = (event: DeployEvent) => void;

/** A sink that stamps each event with its target (an event that already names one keeps it). */
export function forTarget(sink: EventSink, target: EventTarget): EventSink {
  return (event) => sink(event.target ? event : { ...event, target });
}
