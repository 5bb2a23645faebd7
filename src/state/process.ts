// Is the process that wrote a lock or a running record still there?
import { readdirSync, readFileSync } from 'node:fs';

export function isPidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  return !isZombie(pid);
}

/** A process that exited but was not reaped (where nothing reaps orphans) still answers kill(pid, 0). */
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return false;
  }
}

/** Start time of a process in clock ticks since boot (Linux), to tell a reused pid from the original. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Alive, and the same process as when `startTime` was taken (when both are known). */
export function isSameProcessAlive(pid: number, startTime?: string): boolean {
  if (!isPidAlive(pid)) return false;
  if (!startTime) return true;
  const now = processStartTime(pid);
  return now === undefined || now === startTime;
}

/** Pids of the processes in process group `pgid` (Linux /proc), leader included. */
function groupMembers(pgid: number): number[] {
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return [];
  }
  const members: number[] = [];
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // fields[0] is the state, fields[2] the process group
      if (Number(fields[2]) === pgid && fields[0] !== 'Z') members.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return members;
}

/**
 * Is the group that `group` recorded still running, and still that group? With its leader alive, by
 * the leader's start time; with the leader gone, by any member left: Linux never gives a new process
 * a pid still in use as a process group id, so a group with members is the one recorded.
 */
function isGroupRunning(group: { pid: number; start?: string }): boolean | undefined {
  if (process.platform !== 'linux') return undefined;
  const leaderStart = processStartTime(group.pid);
  if (leaderStart !== undefined && isPidAlive(group.pid)) return group.start !== undefined && leaderStart === group.start;
  if (leaderStart !== undefined && group.start !== undefined && leaderStart !== group.start) return false;
  return groupMembers(group.pid).length > 0;
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // gone
  }
}

/**
 * Stop what is left of the recorded process groups on this host: SIGTERM, up to `graceMs` to end,
 * then SIGKILL, waiting until they are gone. A group that cannot be checked here (not Linux) is left
 * alone and returned in leftRunning; a reused pid is never signalled.
 */
export async function stopProcessGroups(
  groups: Array<{ pid: number; start?: string; command?: string }>,
  graceMs = 3000,
): Promise<{ stopped: typeof groups; leftRunning: typeof groups }> {
  const stopped: typeof groups = [];
  const leftRunning: typeof groups = [];
  for (const group of groups) {
    const running = isGroupRunning(group);
    if (running === undefined) leftRunning.push(group);
    else if (running) stopped.push(group);
  }
  for (const group of stopped) signalGroup(group.pid, 'SIGTERM');
  const gone = () => stopped.every((g) => groupMembers(g.pid).length === 0);
  for (const deadline = Date.now() + graceMs; !gone() && Date.now() < deadline; ) await pause(25);
  if (!gone()) {
    for (const group of stopped) signalGroup(group.pid, 'SIGKILL');
    for (const deadline = Date.now() + 5000; !gone() && Date.now() < deadline; ) await pause(25);
  }
  for (const group of stopped) if (groupMembers(group.pid).length) leftRunning.push(group);
  return { stopped: stopped.filter((g) => !leftRunning.includes(g)), leftRunning };
}
