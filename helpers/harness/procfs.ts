/**
 * The one place clonelab reads and parses /proc (proc(5); the kernel side is
 * fs/proc/array.c and fs/proc/base.c).
 */
import { readdirSync, readFileSync } from 'node:fs';

export const PROC = '/proc';

/** /proc/PID/status as key -> raw value text (tabs and units kept). */
export type Status = Record<string, string>;

export function parseStatus(text: string): Status {
  const out: Status = {};
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) out[line.slice(0, colon)] = line.slice(colon + 1).trim();
  }
  return out;
}

/** A numeric status field ("Tgid", "Pid", "PPid", "Threads", ...). */
export function statusNumber(s: Status, key: string): number | undefined {
  const v = s[key];
  if (v === undefined) return undefined;
  const n = Number.parseInt(v, 10);
  return Number.isNaN(n) ? undefined : n;
}

/** "NSpid:\t1234\t1" -> [1234, 1]: one PID per PID-namespace level, outermost first. */
export function statusNumbers(s: Status, key: string): number[] | undefined {
  const v = s[key];
  return v === undefined ? undefined : v.split(/\s+/).filter(Boolean).map(Number);
}

/** The per-task flag of a kernel thread in /proc/PID/stat's flags (include/linux/sched.h: PF_KTHREAD). */
export const PF_KTHREAD = 0x00200000;

/** Fields of /proc/PID/stat we name; `fields` keeps all, 1-based as in proc(5). */
export interface Stat {
  pid: number;
  comm: string;
  state: string;
  ppid: number;
  pgrp: number;
  session: number;
  /** PF_* flags (include/linux/sched.h), e.g. PF_KTHREAD 0x00200000. */
  flags: number;
  utime: number;
  stime: number;
  priority: number;
  nice: number;
  numThreads: number;
  /** Clock ticks after boot: with the PID it identifies a task, since PIDs are reused. */
  starttime: number;
  processor: number;
  /** fields[n] is proc(5)'s field (n); fields[0] is unused. */
  fields: string[];
}

/**
 * Parse /proc/PID/stat. comm (field 2) is in parentheses and may itself hold
 * spaces and ')' characters, so split at the *last* ')' (proc(5)).
 */
export function parseStat(text: string): Stat {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) throw new Error(`not a /proc/PID/stat line: ${text.slice(0, 120)}`);
  const rest = text
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  const fields = ['', text.slice(0, open).trim(), text.slice(open + 1, close), ...rest];
  const num = (i: number) => Number(fields[i]);
  return {
    pid: num(1),
    comm: fields[2]!,
    state: fields[3]!,
    ppid: num(4),
    pgrp: num(5),
    session: num(6),
    flags: num(9),
    utime: num(14),
    stime: num(15),
    priority: num(18),
    nice: num(19),
    numThreads: num(20),
    starttime: num(22),
    processor: num(39),
    fields,
  };
}

/** Numeric names of one readdir(3) of a directory (/proc, /proc/PID/task). */
export function numericEntries(dir: string): number[] {
  return readdirSync(dir)
    .filter((n) => /^\d+$/.test(n))
    .map(Number);
}

export const listProc = (): number[] => numericEntries(PROC);
export const listTasks = (tgid: number): number[] => numericEntries(`${PROC}/${tgid}/task`).sort((a, b) => a - b);

/** Path of a task's directory: /proc/PID, or /proc/TGID/task/TID. */
export const taskDir = (pid: number, tid?: number): string => (tid === undefined ? `${PROC}/${pid}` : `${PROC}/${pid}/task/${tid}`);

export const readStatusText = (pid: number, tid?: number): string => readFileSync(`${taskDir(pid, tid)}/status`, 'utf8');
export const readStatus = (pid: number, tid?: number): Status => parseStatus(readStatusText(pid, tid));
export const readStatText = (pid: number, tid?: number): string => readFileSync(`${taskDir(pid, tid)}/stat`, 'utf8');
export const readStat = (pid: number, tid?: number): Stat => parseStat(readStatText(pid, tid));

/** errno name of a failed fs call, or undefined when it was not an errno error. */
export function errnoOf(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e ? String(e.code) : undefined;
}

/**
 * Read something about a task that may exit meanwhile: ENOENT and ESRCH
 * become undefined (the task vanished between listing and reading).
 */
export function ifStillThere<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch (e) {
    const code = errnoOf(e);
    if (code === 'ENOENT' || code === 'ESRCH') return undefined;
    throw e;
  }
}

/** Every visible task whose status says Tgid = tgid, searched across all of /proc/*\/task. */
export function tasksWithTgid(tgid: number): { pid: number; tid: number }[] {
  const found = [];
  for (const pid of listProc()) {
    for (const tid of ifStillThere(() => listTasks(pid)) ?? []) {
      const s = ifStillThere(() => readStatus(pid, tid));
      if (s && statusNumber(s, 'Tgid') === tgid) found.push({ pid, tid });
    }
  }
  return found;
}

/** The named lines of a status text, verbatim: evidence without the other 50 lines. */
export function statusLines(text: string, keys: readonly string[]): string {
  return text
    .split('\n')
    .filter((l) => keys.includes(l.slice(0, l.indexOf(':'))))
    .join('\n');
}

/** Signal numbers in a status mask (SigPnd, ShdPnd, SigBlk...): bit n-1 is signal n (proc(5)). */
export function signalsInMask(hex: string | undefined): number[] {
  if (!hex) return [];
  const bits = BigInt(`0x${hex}`);
  const out: number[] = [];
  for (let sig = 1; sig <= 64; sig++) if ((bits >> BigInt(sig - 1)) & 1n) out.push(sig);
  return out;
}

/**
 * Where a blocked signal is queued now (signal(7)): the group's shared set
 * (ShdPnd, the same in every task's status), the target's private set
 * (SigPnd), the leader's, another thread's, or nowhere.
 */
export function whereQueued(tgid: number, tids: number[], target: number, sig: number): 'shared' | 'target' | 'leader' | 'elsewhere' | 'none' {
  if (signalsInMask(readStatus(tgid, tgid).ShdPnd).includes(sig)) return 'shared';
  const holders = tids.filter((t) => signalsInMask(readStatus(tgid, t).SigPnd).includes(sig));
  if (holders.includes(target)) return 'target';
  if (holders.includes(tgid)) return 'leader';
  return holders.length ? 'elsewhere' : 'none';
}
