/**
 * Finds tasks of ours still alive: processes whose executable lives in the
 * probe cache (the reaper and every probe). Used after each test file and
 * after the whole run; a probe that left something behind is a defect.
 */
import { readlinkSync } from 'node:fs';
import { ifStillThere, listProc, readStat, readStatus, statusNumber } from './procfs.js';
import { signalProbeExecutable } from './own-tasks.js';

export interface LeftoverTask {
  pid: number;
  state: string;
  exe: string;
}

function isDescendant(pid: number, ancestor: number): boolean {
  for (let p = pid, hops = 0; p > 1 && hops < 64; hops++) {
    const ppid = ifStillThere(() => statusNumber(readStatus(p), 'PPid'));
    if (ppid === undefined) return false;
    if (ppid === ancestor) return true;
    p = ppid;
  }
  return false;
}

/**
 * Processes running a binary from `probeDir`, optionally only those below
 * `ancestor`. With `kill`, each found is sent SIGKILL: its executable proves
 * it is one of ours.
 */
export function leftoverProbeTasks(probeDir: string, opts: { ancestor?: number; kill?: boolean } = {}): LeftoverTask[] {
  const found: LeftoverTask[] = [];
  for (const pid of listProc()) {
    if (pid === process.pid) continue;
    let exe: string;
    try {
      exe = readlinkSync(`/proc/${pid}/exe`);
    } catch {
      continue; // another user's process (EACCES), a kernel thread or zombie (ENOENT)
    }
    if (!exe.startsWith(`${probeDir}/`)) continue;
    if (opts.ancestor !== undefined && !isDescendant(pid, opts.ancestor)) continue;
    const state = ifStillThere(() => readStat(pid).state);
    if (state === undefined) continue;
    found.push({ pid, state, exe });
    if (opts.kill) {
      try {
        signalProbeExecutable(pid, probeDir, 'SIGKILL');
      } catch {
        /* exited meanwhile */
      }
    }
  }
  return found;
}
