/**
 * Every signal the TypeScript side sends goes through here, and each function
 * accepts only targets the suite created, checked just before kill(2):
 *   signalOwnTask       a task below this process in the process tree (a probe,
 *                       a nested run), still with the start time it had when it
 *                       was announced (PIDs are reused)
 *   signalOwnChild      a process this process spawned itself (its PPid is us)
 *   signalOwnChildGroup the process group led by such a child (probes' reapers
 *                       are started with setsid)
 *   signalProbeExecutable  a process running a binary of our probe cache
 * Anything else throws ForeignTaskError. Kernel threads and foreign processes
 * get at most signal 0 (probeExists), which sends nothing.
 * (The probes' own C code signals only the tasks it made: native-helpers/signals.c,
 * thread-group.c, reaper.c.)
 */
import { readlinkSync } from 'node:fs';
import { ifStillThere, readStat, readStatus, statusNumber } from './procfs.js';

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

/** Is pid below this process in the process tree? (Every reaper is our child, every probe below one.) */
function descendsFromUs(pid: number): boolean {
  for (let p = pid, hops = 0; p > 1 && hops < 64; hops++) {
    const ppid = ifStillThere(() => statusNumber(readStatus(p), 'PPid'));
    if (ppid === undefined) return false;
    if (ppid === process.pid) return true;
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
  if (!descendsFromUs(task.pid)) {
    throw new ForeignTaskError(`refusing to signal PID ${task.pid}: it is not below this process (${process.pid}) in the process tree`);
  }
}

/** Send `signal` to a task the suite created; throws ForeignTaskError for anything else. */
export function signalOwnTask(task: TaskIdentity, signal: NodeJS.Signals): void {
  assertOwnTask(task);
  process.kill(task.pid, signal);
}

/** Signal 0: does the task exist (and may we signal it)? Sends nothing (kill(2)). 'ok', or the error's code (ESRCH, EPERM). */
export function probeExists(pid: number): string {
  try {
    process.kill(pid, 0);
    return 'ok';
  } catch (e) {
    return String((e as { code?: string }).code ?? e);
  }
}

const ppidOf = (pid: number): number | undefined => ifStillThere(() => statusNumber(readStatus(pid), 'PPid'));

/** Signal a process this process spawned itself. */
export function signalOwnChild(pid: number, signal: NodeJS.Signals): void {
  const ppid = ppidOf(pid);
  if (ppid === undefined) return; // gone already: nothing to signal
  if (ppid !== process.pid) throw new ForeignTaskError(`refusing to signal PID ${pid}: its parent is ${ppid}, not this process (${process.pid})`);
  process.kill(pid, signal);
}

/** Signal the process group led by a child of ours (started with setsid). */
export function signalOwnChildGroup(pid: number, signal: NodeJS.Signals): void {
  const st = ifStillThere(() => readStat(pid));
  if (!st) return;
  if (st.ppid !== process.pid || st.pgrp !== pid) {
    throw new ForeignTaskError(`refusing to signal process group ${pid}: it is not led by a child of this process`);
  }
  process.kill(-pid, signal);
}

/** Signal a process whose executable is in our probe cache: only ours run those. */
export function signalProbeExecutable(pid: number, probeDir: string, signal: NodeJS.Signals): void {
  let exe: string;
  try {
    exe = readlinkSync(`/proc/${pid}/exe`);
  } catch (e) {
    if (!identify(pid)) return; // gone already
    // A kernel thread has no executable (ENOENT); another user's process cannot be read (EACCES).
    throw new ForeignTaskError(
      `refusing to signal PID ${pid}: its executable cannot be read (${(e as NodeJS.ErrnoException).code}), so it is not known to be ours`,
    );
  }
  if (!exe.startsWith(`${probeDir}/`)) throw new ForeignTaskError(`refusing to signal PID ${pid}: it runs ${exe}, not a clonelab probe`);
  process.kill(pid, signal);
}
