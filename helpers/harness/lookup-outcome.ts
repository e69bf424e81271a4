/**
 * What one /proc lookup made from C by the proc probe (native-helpers/proc.c)
 * found, and how to read it: plain data and pure functions, so that the rules
 * that judge lookups (helpers/claims/proc.ts) read them without loading the
 * probe runner (helpers/harness/lookup.ts runs the lookups).
 */
import { parseStatus, statusNumber, statusNumbers } from './procfs.js';

/**
 * One /proc lookup made by the proc probe: each step "ok" or an errno name.
 * A step that could not be tried is absent, never an empty string.
 */
export interface LookupOutcome {
  path: string;
  stat: string;
  open: string;
  chdir: string;
  /** getcwd(3) after the chdir: only when both worked. */
  cwd?: string;
  /** getcwd(3)'s errno when the chdir worked and getcwd did not. */
  cwdErrno?: string;
  /** Reading PATH/status through the opened directory, "ok" or errno: absent when the open failed. */
  status?: string;
  /** Name/Tgid/Pid/NSpid lines of PATH/status, as read there: only when it was read. */
  statusIds?: string;
  uid: number;
}

/** Reached: stat, open and chdir all worked. */
export const reached = (l: LookupOutcome): boolean => l.stat === 'ok' && l.open === 'ok' && l.chdir === 'ok';

/** The lookup found no such task: stat and chdir both ENOENT. */
export const noSuchTask = (l: LookupOutcome): boolean => l.stat === 'ENOENT' && l.chdir === 'ENOENT';

/** "stat ok, open ok, chdir ENOENT": the steps of a lookup as observed. */
export const lookupSteps = (l: LookupOutcome): string => `stat ${l.stat}, open ${l.open}, chdir ${l.chdir}`;

/** What the status read through a lookup said, each field only if its line was there; undefined when not read. */
export function lookupIds(l: LookupOutcome): { pid?: number; tgid?: number; name?: string; nspid?: number[] } | undefined {
  if (l.statusIds === undefined) return undefined;
  const s = parseStatus(l.statusIds);
  return { pid: statusNumber(s, 'Pid'), tgid: statusNumber(s, 'Tgid'), name: s.Name, nspid: statusNumbers(s, 'NSpid') };
}
