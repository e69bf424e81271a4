/** /proc lookups made from C by the lookup probe (stat, open, chdir, status). */
import type { LookupOutcome } from './rules/proc-visibility.js';
import { runProbe, type ProbeOptions } from './probe.js';
import { parseStatus, statusNumber, statusNumbers } from './procfs.js';

export async function lookupFromC(paths: string[], opts?: ProbeOptions): Promise<LookupOutcome[]> {
  const r = await runProbe('lookup', paths, opts);
  return r.records.flatMap((x) => (x.event === 'lookup'
    ? [{
      path: x.path,
      stat: x.stat,
      open: x.open,
      chdir: x.chdir,
      ...(x.cwd !== undefined ? { cwd: x.cwd } : {}),
      ...(x.cwdErrno !== undefined ? { cwdErrno: x.cwdErrno } : {}),
      ...(x.status !== undefined ? { status: x.status } : {}),
      ...(x.statusIds !== undefined ? { statusIds: x.statusIds } : {}),
      uid: x.uid,
    }]
    : []));
}

/**
 * What the status read through a lookup said: each field only if its line
 * was there. Undefined when the status was not read (the lookup says why).
 */
export function lookupIds(l: LookupOutcome): { pid?: number; tgid?: number; name?: string; nspid?: number[] } | undefined {
  if (l.statusIds === undefined) return undefined;
  const s = parseStatus(l.statusIds);
  return { pid: statusNumber(s, 'Pid'), tgid: statusNumber(s, 'Tgid'), name: s.Name, nspid: statusNumbers(s, 'NSpid') };
}

/** Reached: stat, open and chdir all worked. */
export const reached = (l: LookupOutcome): boolean => l.stat === 'ok' && l.open === 'ok' && l.chdir === 'ok';

/** "stat ok, open ok, chdir ENOENT": the steps of a lookup as observed. */
export const lookupSteps = (l: LookupOutcome): string => `stat ${l.stat}, open ${l.open}, chdir ${l.chdir}`;
