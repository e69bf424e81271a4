/**
 * Every signal the TypeScript side sends goes through here, and only to a
 * task the suite created: one that descends from a reaper this process
 * started (helpers/probe.ts) and still has the start time it had when it was
 * announced, since PIDs are reused. Anything else is refused before kill(2).
 * Kernel threads and foreign processes may at most be probed with signal 0
 * (probeExists), which sends nothing.
 */
import { ifStillThere, readStat, readStatus, statusNumber } from './procfs.js';
import { liveReaperPids } from './probe.js';

/** A task as the suite knows it: PID plus start time (clock ticks after boot). */
export interface TaskIdentity {
  pid: number;
  starttime: number;
}

export class ForeignTaskError extends Error {
  override name = 'ForeignTaskError';
}

/** The identity of a task now, or undefined if it is gone. */
export function identify(pid: number): TaskIdentity | undefined {
  const st = ifStillThere(() => readStat(pid));
  return st && { pid, starttime: st.starttime };
}

/** Is pid below one of our live reapers in the process tree? */
function descendsFromOurReaper(pid: number): boolean {
  const reapers = liveReaperPids();
  for (let p = pid, hops = 0; p > 1 && hops < 64; hops++) {
    const ppid = ifStillThere(() => statusNumber(readStatus(p), 'PPid'));
    if (ppid === undefined) return false;
    if (reapers.has(ppid)) return true;
    p = ppid;
  }
  return false;
}

/**
 * Throws ForeignTaskError unless the task is one the suite created and is
 * still the same task. Call it before any signal the suite causes, also one
 * sent by a real shell's kill builtin.
 */
export function assertOwnTask(task: TaskIdentity): void {
  const now = identify(task.pid);
  if (!now) throw new ForeignTaskError(`refusing to signal PID ${task.pid}: it no longer exists`);
  if (now.starttime !== task.starttime) {
    throw new ForeignTaskError(`refusing to signal PID ${task.pid}: its start time changed (${task.starttime} -> ${now.starttime}), the PID was reused`);
  }
  if (!descendsFromOurReaper(task.pid)) {
    throw new ForeignTaskError(`refusing to signal PID ${task.pid}: it is not a task of a probe this run started`);
  }
}

/** Send `signal` to a task the suite created; throws ForeignTaskError for anything else. */
export function signalOwnTask(task: TaskIdentity, signal: NodeJS.Signals): void {
  assertOwnTask(task);
  process.kill(task.pid, signal);
}

/** Signal 0: does the task exist (and may we signal it)? Sends nothing (kill(2)). */
export function probeExists(pid: number): 'ok' | string {
  try {
    process.kill(pid, 0);
    return 'ok';
  } catch (e) {
    return String((e as { code?: string }).code ?? e);
  }
}
