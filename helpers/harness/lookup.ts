/** /proc lookups made from C by the proc probe (stat, open, chdir, status); what they found is read with lookup-outcome.ts. */
import type { LookupOutcome } from './lookup-outcome.js';
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

export { lookupIds, lookupSteps, reached, type LookupOutcome } from './lookup-outcome.js';
