/** /proc lookups made from C by the lookup probe (stat, open, chdir, status). */
import type { LookupOutcome } from './rules/proc-visibility.js';
import { runProbe, type ProbeOptions } from './probe.js';
import { parseStatus, statusNumber } from './procfs.js';

export async function lookupFromC(paths: string[], opts?: ProbeOptions): Promise<LookupOutcome[]> {
  const r = await runProbe('lookup', paths, opts);
  return r.records
    .filter((x) => x.event === 'lookup')
    .map(({ path, stat, open, chdir, cwd, statusIds, uid }) => ({ path, stat, open, chdir, cwd, statusIds, uid }));
}

/** Pid and Tgid from a lookup's status lines (-1 when it could not read them). */
export function lookupIds(l: LookupOutcome): { pid: number; tgid: number; name: string; nspid: string } {
  const s = parseStatus(l.statusIds);
  return { pid: statusNumber(s, 'Pid') ?? -1, tgid: statusNumber(s, 'Tgid') ?? -1, name: s.Name ?? '', nspid: s.NSpid ?? '' };
}

/** Reached: stat, open and chdir all worked. */
export const reached = (l: LookupOutcome): boolean => l.stat === 'ok' && l.open === 'ok' && l.chdir === 'ok';
