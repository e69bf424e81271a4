/**
 * The namespaces claim family: what cases/claims/namespaces.test.ts observes, and the rules
 * of A2 over it.
 */
import { nonEmpty, type Claim } from './rule.js';
import { whereFrom } from './kernel-threads.js';
import { list, oneLine, plural } from './prose.js';

export interface NamespacesObservations {
  /** Tasks in new PID namespaces: every PID each has, one per level (NSpid), and what a /proc mounted inside lists. */
  pidNamespaces: {
    depth: number;
    userns: boolean;
    asUid: number;
    /**
     * Every task of the namespaces, alive at once: getpid and gettid as it
     * got them from the raw syscalls (SYS_getpid, SYS_gettid), and the NSpid
     * line of its status read through the host's /proc (outermost first).
     */
    tasks: { level: number; role: string; getpid: number; gettid: number; nspid: number[] }[];
    /** Numeric entries of a /proc mounted in the innermost namespace (with --mount-proc). */
    innerProcEntries?: number[];
    innerProcSelf?: string;
    /** Outer PIDs of the inner tasks that the host's /proc listing shows. */
    outerListed?: number[];
  };
}

/** What a run knew of itself when a clone with namespace flags was refused (helpers/harness/environment.ts). */
export interface RefusalWorld {
  probeWrapper: string | null;
  /** The effective capabilities, or null when unknown. */
  capabilities: readonly string[] | null;
  /** "disabled", "strict" or "filter ..." (/proc/self/status Seccomp:), or null. */
  seccomp: string | null;
  /** The user-namespace sysctls, in words (helpers/harness/needs.ts usernsSettings): read only when they can be the cause. */
  usernsSettings: () => string;
}

/**
 * Why a clone with CLONE_NEW* flags (`op`, e.g. "clone(CLONE_NEWPID)") was
 * refused with `errno`, in one sentence for a skip reason: the one place that
 * decides whom to name. In order: under a probe wrapper, EINVAL is the
 * emulator's (qemu-user's do_fork(), linux-user/syscall.c, refuses a
 * fork-like clone carrying any namespace flag before any host clone, so the
 * kernel never saw it); EPERM without CAP_SYS_ADMIN is that capability
 * (clone(2): every CLONE_NEW* flag but CLONE_NEWUSER needs it, and a
 * container's default seccomp profile refuses them all without it); only a
 * CLONE_NEWUSER refusal without either cause names the user-namespace
 * sysctls; anything else is the kernel's answer as it was.
 */
export function whyNamespaceRefused(op: string, errno: string, w: RefusalWorld): string {
  const userns = /NEWUSER/.test(op);
  const noSysAdmin = w.capabilities !== null && !w.capabilities.includes('CAP_SYS_ADMIN');
  if (w.probeWrapper && errno === 'EINVAL') {
    return (
      `the wrapper ${w.probeWrapper} refused ${op} with EINVAL, not the kernel: an emulator answers the clone flag sets it cannot emulate itself ` +
      "(qemu-user's do_fork(), linux-user/syscall.c, refuses any namespace flag), so no namespace was asked of the kernel"
    );
  }
  if (errno === 'EPERM' && noSysAdmin) {
    const filter = w.seccomp?.startsWith('filter')
      ? ', and a seccomp filter is active (the default profiles of Podman and Docker refuse namespace flags without it)'
      : '';
    const need = userns ? 'which a container needs for CLONE_NEWUSER too' : 'which every CLONE_NEW* flag but CLONE_NEWUSER needs (clone(2))';
    return `${op} was refused with EPERM: this run lacks CAP_SYS_ADMIN, ${need}${filter} (its ${plural(w.capabilities!.length, 'capability', 'capabilities')}: ${list(w.capabilities!, 4)})`;
  }
  if (userns) return `the kernel refused ${op}: ${errno} (${w.usernsSettings()})`;
  return `the kernel refused ${op}: ${errno}`;
}

type NsTask = NamespacesObservations['pidNamespaces']['tasks'][number];
const who = (t: NsTask, variant: string) => `the ${t.role} at level ${t.level} ("${variant}")`;
const distinct = (t: NsTask) => new Set(t.nspid).size;

export const NAMESPACES_CLAIMS: Claim[] = [
  {
    id: 'A2',
    source: 'answer 1',
    excerpt: 'each process has a system-unique PID and a TGID',
    statement: 'Every task has a PID unique on the whole system, and a thread group ID (TGID).',
    needs: ['pidNamespaces'],
    uses: ['threadGroupIds'],
    env: ['initialPidNamespace'],
    verdicts: ['confirmed', 'refuted', 'nuanced', 'inconclusive'],
    /*
     * Refuted when the observations contradict "a PID unique system-wide":
     * two tasks alive at once with the same outermost PID, or a task whose
     * NSpid does not end in the PID it got from gettid. Nuanced only when a
     * task was observed with more than one PID (NSpid listing distinct
     * numbers), or this run itself looked from a child PID namespace: the
     * claim's "the" PID then depends on where one looks. Confirmed otherwise.
     */
    decide(o) {
      const obs = o.all('pidNamespaces');
      const all = nonEmpty(
        obs.flatMap((x) => x.result.tasks.map((t) => ({ t, variant: x.variant }))),
        'task in a new PID namespace',
      );
      const problems: string[] = [];
      /** Each problem in brief, for the summary. */
      const problemBriefs: string[] = [];
      const tgidNotes: string[] = [];
      for (const x of obs) {
        const tasks = x.result.tasks;
        // Tasks of one observation were alive at once (each waits for the release).
        const byOuter = new Map<number, NsTask[]>();
        for (const t of tasks) byOuter.set(t.nspid[0]!, [...(byOuter.get(t.nspid[0]!) ?? []), t]);
        for (const [pid, ts] of byOuter) {
          const holders = list(ts.map((t) => `the ${t.role} at level ${t.level}`));
          if (ts.length > 1) {
            problems.push(`in "${x.variant}", ${holders} had the same outermost PID ${pid} while alive at once`);
            problemBriefs.push(`${plural(ts.length, 'task')} alive at once had the outermost PID ${pid}`);
          }
        }
        for (const t of tasks) {
          if (t.nspid.at(-1) !== t.gettid) {
            problems.push(`${who(t, x.variant)} had NSpid ${t.nspid.join(' / ')}, whose last (own-level) PID is not the ${t.gettid} its gettid returned`);
            problemBriefs.push(`NSpid ${t.nspid.join(' / ')} did not end in the ${t.gettid} gettid returned`);
          }
          // The TGID: a process leads its own group; a thread's group is its creator's.
          if (t.role !== 'thread' && t.getpid !== t.gettid) tgidNotes.push(`${who(t, x.variant)} got getpid ${t.getpid} and gettid ${t.gettid}`);
          if (t.role === 'thread') {
            const leader = tasks.find((l) => l.role === 'worker' && l.level === t.level);
            if (leader && t.getpid !== leader.gettid) tgidNotes.push(`${who(t, x.variant)} got getpid ${t.getpid}, not its creator's PID ${leader.gettid}`);
          }
        }
      }
      const groups = o.all('threadGroupIds').map((g) => ({ variant: g.variant, ...g.result }));
      for (const g of groups) {
        const seen = new Map<number, number>();
        for (const t of g.tasks) seen.set(t.tid, (seen.get(t.tid) ?? 0) + 1);
        const dup = [...seen].filter(([, n]) => n > 1).map(([tid]) => tid);
        if (dup.length) {
          problems.push(`in thread group ${g.tgid} (${g.variant}), several live tasks had the TID ${list(dup)}`);
          problemBriefs.push(`in thread group ${g.tgid}, several live tasks had the TID ${list(dup, 3)}`);
        }
        const leader = g.tasks.find((t) => t.role === 'leader');
        if (!leader) tgidNotes.push(`thread group ${g.tgid} (${g.variant}) reported no leader`);
        else if (leader.tid !== g.tgid) tgidNotes.push(`in thread group ${g.tgid} (${g.variant}), the leader's TID was ${leader.tid}`);
        for (const t of g.tasks.filter((x) => x.statusTgid !== g.tgid)) {
          tgidNotes.push(`in thread group ${g.tgid} (${g.variant}), the ${t.role} ${t.tid} had Tgid ${t.statusTgid}`);
        }
      }
      if (problems.length) {
        return {
          verdict: 'refuted',
          explanation: `PIDs were not unique, or not the task's own: ${problems.join('; ')}.`,
          summary: oneLine("PIDs were not unique, or not the task's own: ", problemBriefs),
        };
      }

      const count = `${all.length} tasks in ${obs.length} runs of new PID namespaces`;
      const outerUnique = `the outermost PIDs of the tasks alive at once were distinct in every run`;
      const groupSizes = list(groups.map((g) => g.tasks.length));
      const tgidText = groups.length
        ? tgidNotes.length
          ? `every task had a TGID, but it was not always its group leader's PID: ${tgidNotes.join('; ')}`
          : `every task had a TGID: in ${groups.length} thread groups (${groupSizes} tasks) every task's Tgid was its leader's PID, ` +
            "and in the namespaces a thread's getpid was its creator's PID"
        : tgidNotes.length
          ? `the TGIDs were not always the group leader's PID: ${tgidNotes.join('; ')}`
          : `in the namespaces, each process's getpid was its own PID and a thread's its creator's (no thread group of the ids family was observed)`;
      const initial = o.env('initialPidNamespace');
      const unknownVantage = initial === null ? ' This run could not tell whether it looked from the initial PID namespace.' : '';

      const multi = all.filter(({ t }) => distinct(t) > 1);
      const limits: string[] = [];
      const limitBriefs: string[] = [];
      if (multi.length) {
        const deepest = multi.reduce((a, b) => (distinct(b.t) > distinct(a.t) ? b : a));
        // Numbers that named different tasks alive at once, at different levels.
        const repeats = obs.flatMap((x) => {
          const holders = new Map<number, NsTask[]>();
          for (const t of x.result.tasks) for (const n of new Set(t.nspid)) holders.set(n, [...(holders.get(n) ?? []), t]);
          const named = (ts: NsTask[]) => list(ts.map((t) => `the ${t.role} at level ${t.level} (host PID ${t.nspid[0]})`));
          return [...holders].filter(([, ts]) => ts.length > 1).map(([n, ts]) => `${n} was the PID of ${named(ts)} in "${x.variant}"`);
        });
        const inits = all.filter(({ t }) => t.role === 'init');
        const innermostWorkers = obs.flatMap((x) => x.result.tasks.filter((t) => t.role === 'worker' && t.level === x.result.depth));
        const forked = !innermostWorkers.length
          ? ''
          : innermostWorkers.every((w) => w.getpid === 2)
            ? ', and the process it forked got 2'
            : `, and the processes they forked got ${list(innermostWorkers.map((w) => w.getpid))}`;
        const pid1 =
          inits.length && inits.every(({ t }) => t.getpid === 1)
            ? `every namespace's init got 1 from getpid${forked}`
            : inits.length
              ? `the namespaces' inits got ${list(inits.map(({ t }) => t.getpid))} from getpid`
              : '';
        const example = `${who(deepest.t, deepest.variant)} had NSpid ${deepest.t.nspid.join(' / ')} (the host's first)`;
        const inside = repeats.length ? `, while inside, numbers named several tasks: ${list(repeats, 2)}` : '';
        const hostDistinct = `the host's numbers were distinct among tasks alive at once${inside}${pid1 ? `; ${pid1}` : ''}`;
        limits.push(`a task in a PID namespace has one PID per level: ${multi.length} of ${all.length} had several, e.g. ${example}; ${hostDistinct}`);
        limitBriefs.push(
          `${multi.length} of ${all.length} tasks in PID namespaces had one PID per level (NSpid ${deepest.t.nspid.join(' / ')}), unique only on the host`,
        );
      }
      if (initial === false) {
        limits.push(`this run itself looked from ${whereFrom(initial)}, so even its outermost PIDs are one namespace's, not the whole system's`);
        limitBriefs.push(`this run looked from ${whereFrom(initial)}, so its PIDs are not the whole system's`);
      }
      const innerProc = obs.find((x) => x.result.innerProcEntries)?.result.innerProcEntries;
      const innerText = innerProc ? ` A /proc mounted inside a namespace listed only ${list(innerProc)}.` : '';

      if (limits.length) {
        return {
          verdict: 'nuanced',
          explanation:
            `Across ${count}, every task had a PID of its own and ${outerUnique}; ${tgidText}. ` + `But ${limits.join('; and ')}.${innerText}${unknownVantage}`,
          summary: oneLine('Not one PID: ', limitBriefs),
        };
      }
      const lookedFrom = initial !== null ? ` This run looked from ${whereFrom(initial)}.` : '';
      return {
        verdict: 'confirmed',
        summary: `Across ${count}, every task had a single PID, distinct among the tasks alive at once, and a TGID.`,
        explanation:
          `Across ${count}, every task had a single PID (its NSpid named one number only, the one its gettid returned), ` +
          `and ${outerUnique}; ${tgidText}.${lookedFrom}${innerText}${unknownVantage}`,
      };
    },
  },
];
