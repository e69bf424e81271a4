/** /proc lookups made from C by the proc probe (stat, open, chdir, status). */
import type { LookupOutcome } from '../claims/proc.js';
import { runProbe, type ProbeOptions } from './probe.js';

export async function lookupFromC(paths: string[], opts?: ProbeOptions): Promise<LookupOutcome[]> {
  const r = await runProbe('proc', paths, opts);
  return r.records.flatMap((x) =>
    x.event === 'lookup'
      ? [
          {
            path: x.path,
            stat: x.stat,
            open: x.open,
            chdir: x.chdir,
            ...(x.cwd !== undefined ? { cwd: x.cwd } : {}),
            ...(x.cwdErrno !== undefined ? { cwdErrno: x.cwdErrno } : {}),
            ...(x.status !== undefined ? { status: x.status } : {}),
            ...(x.statusIds !== undefined ? { statusIds: x.statusIds } : {}),
            uid: x.uid,
          },
        ]
      : [],
  );
}

// The pure parts live with the rules that read lookups, so that rules need not load the probe harness.
export { lookupIds, lookupSteps, reached } from '../claims/proc.js';
