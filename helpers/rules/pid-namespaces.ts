/**
 * The pid-namespaces claim family: what cases/pid-namespaces.test.ts observes, and the rules
 * of A2 over it.
 */
import type { Claim, ObservationIndex, Usable } from '../claims.js';
import { list } from './prose.js';


export interface PidNamespacesObservations {
  /** Tasks in new PID namespaces: every PID each has, one per level (NSpid), and what a /proc mounted inside lists. */
  pidNamespaces: {
    depth: number;
    userns: boolean;
    asUid: number;
    tasks: { level: number; role: string; getpid: number; gettid: number; nspid: number[] }[];
    /** Numeric entries of a /proc mounted in the innermost namespace (with --mount-proc). */
    innerProcEntries?: number[];
    innerProcSelf?: string;
    /** Outer PIDs of the inner tasks that the host's /proc listing shows. */
    outerListed?: number[];
  };
}

export const PID_NAMESPACES_CLAIMS: Claim[] = [
  {
    id: 'A2',
    source: 'answer 1',
    statement: 'Every task has a PID unique on the whole system, and a thread group ID (TGID).',
    needs: ['pidNamespaces'],
    uses: ['threadGroupIds', 'vantage'],
    decide(o) {
      const ns = o.all('pidNamespaces').map((x) => x.result);
      const tasks = ns.flatMap((n) => n.tasks);
      const multi = tasks.filter((t) => t.nspid.length > 1);
      const groups = o.all('threadGroupIds');
      const v = o.all('vantage')[0];
      if (!multi.length) return { verdict: 'confirmed', explanation: 'Every task observed had a single PID.' };
      const deepest = ns.reduce((a, b) => (b.depth > a.depth ? b : a));
      const example = deepest.tasks.find((t) => t.role === 'worker')!;
      return {
        verdict: 'nuanced',
        explanation: `Each task has a TGID${groups.length ? ` (in ${groups.length} thread groups every thread's Tgid was its leader's PID)` : ''} and a PID of its own, but a task in a PID namespace has one PID per level, and only the outermost is unique system-wide: e.g. a process ${deepest.depth} levels deep had NSpid ${example.nspid.join(' / ')} (host first). Inside, numbers repeat those of other tasks: every namespace's init was PID 1 and its next process PID 2${ns.some((n) => n.innerProcEntries) ? `, and a /proc mounted inside listed only [${ns.find((n) => n.innerProcEntries)!.innerProcEntries!.join(', ')}]` : ''}.${v && v.result.initialPidNamespace === false ? ' This run itself was in a child PID namespace, so even its "system-wide" view was one namespace\'s.' : ''}`,
      };
    },
  },
];
