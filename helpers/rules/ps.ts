/**
 * The ps claim family: what cases/ps.test.ts observes, and the rules
 * of C4 over it.
 */
import type { Claim, ObservationIndex, Usable } from './rule.js';



export interface PsObservations {
  /** What the real procps ps printed while a probe held its threads alive. */
  psView: {
    procps: string;
    tgid: number;
    tids: number[];
    views: { args: string[]; exitCode: number; tgidShown: boolean; threadTidsShown: number[]; showsThreads: boolean }[];
  };
}

export const PS_CLAIMS: Claim[] = [
  {
    id: 'C4',
    source: 'answer 3',
    statement: 'Threads appear in the output of ps.',
    needs: ['psView'],
    decide(o) {
      const obs = o.all('psView').map((p) => p.result);
      const views = obs.flatMap((p) => p.views.map((v) => ({ ...v, tids: p.tids, tgid: p.tgid, cmd: `ps ${v.args.join(' ')}` })));
      const plain = views.filter((v) => !v.args.includes('-p') && !v.args.some((a) => /L|T|H/.test(a) && a !== '-eH'));
      const threadViews = views.filter((v) => v.showsThreads);
      const byTid = views.filter((v) => v.args[0] === '-p');
      const procps = obs[0]!.procps;
      const pByTid = byTid.map((v) => `\`${v.cmd}\` for a non-leader TID ${v.exitCode === 0 ? (v.tgidShown || v.threadTidsShown.length ? 'printed a row for it' : 'printed no row of the group') : `exited ${v.exitCode} with no row`}`).join('; ');
      if (!threadViews.length) {
        return { verdict: 'refuted', explanation: `No ps view showed the threads (${procps}): ${views.map((v) => v.cmd).join(', ')}.` };
      }
      if (plain.every((v) => v.showsThreads)) {
        return { verdict: 'confirmed', explanation: `Every ps view tried showed each thread as a row (${procps}): ${plain.map((v) => v.cmd).join(', ')}.` };
      }
      return {
        verdict: 'nuanced',
        explanation: `Threads appear in ps only when asked for (${procps}): ${plain.filter((v) => !v.showsThreads).map((v) => `\`${v.cmd}\``).join(', ')} showed one row for the whole process; ${threadViews.map((v) => `\`${v.cmd}\``).join(', ')} showed a row per thread${views.some((v) => v.showsThreads && v.threadTidsShown.length === 0) ? ' (BSD H without a TID column shows the rows, each labelled with the TGID)' : ''}. ${pByTid}.`,
      };
    },
  },
];
