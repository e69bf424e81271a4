/**
 * The kernel-threads claim family: what cases/kernel-threads.test.ts observes, and the rules
 * of T1 over it.
 */
import type { Claim, ObservationIndex, Usable } from './rule.js';
import { list } from './prose.js';


export interface KernelThreadsObservations {
  /** Where this run looks from: its PID namespace depth and /proc, and whether kernel threads are visible. */
  vantage: { pidNamespaceDepth: number; initialPidNamespace: boolean | null; procMountOptions: string | null; euid: number; kernelThreadsVisible: number };
  /** Every task with PF_KTHREAD in /proc/PID/stat, and what /proc says of each. */
  kernelThreads: {
    count: number;
    kthreadd: { pid: number; ppid: number } | null;
    /** Whether status has a "Kthread:" line on this kernel (recent kernels print one), and whether it agrees with the flag everywhere. */
    kthreadLine: { present: boolean; agreesWithFlag: boolean; disagreements: number[] };
    tgidEqualsPid: number;
    singleTask: number;
    multiTask: { pid: number; comm: string; tasks: number }[];
    childrenOfKthreadd: number;
    noVmSize: number;
    emptyMaps: number;
    exeErrnos: Record<string, number>;
    states: Record<string, number>;
    policies: Record<string, number>;
    /** kill(pid, 0) from this process: existence and permission only, nothing sent. */
    signal0: { pid: number; comm: string; result: string }[];
  };
}

/** "the initial PID namespace" or "a child PID namespace", for explanations. */
export const whereFrom = (v: KernelThreadsObservations['vantage']): string =>
  v.initialPidNamespace === false ? 'a child PID namespace' : v.initialPidNamespace ? 'the initial PID namespace' : 'a PID namespace it could not identify';

export const KERNEL_THREADS_CLAIMS: Claim[] = [
  {
    id: 'T1',
    source: 'title',
    statement: 'Kernel threads (kthreadd and the threads it starts) are processes in the same sense as user processes.',
    needs: ['kernelThreads'],
    uses: ['vantage'],
    decide(o) {
      const k = o.all('kernelThreads')[0]!.result;
      const v = o.all('vantage')[0]?.result;
      const like = [
        `each has a PID and a /proc/PID directory listed by readdir like any process (${k.count} seen${v ? ` from ${whereFrom(v)}` : ''})`,
        `Tgid = Pid in ${k.tgidEqualsPid} of ${k.count}`,
        `${k.singleTask} have a single task${k.multiTask.length ? ` (${k.multiTask.length} have more: ${k.multiTask.map((m) => `${m.pid} ${m.comm}: ${m.tasks}`).join(', ')})` : ''}`,
        `scheduling states ${Object.entries(k.states).map(([s, n]) => `${s}: ${n}`).join(', ')} and policies ${Object.entries(k.policies).map(([p, n]) => `${p}: ${n}`).join(', ')}, as for any task`,
        `kill(pid, 0) answered ${[...new Set(k.signal0.map((x) => x.result))].join('/')} (no real signal was sent)`,
      ];
      const unlike = [
        `none has a user address space: no VmSize line in ${k.noVmSize} of ${k.count}, empty maps in ${k.emptyMaps}, and the exe link unreadable (${Object.entries(k.exeErrnos).map(([e, n]) => `${e}: ${n}`).join(', ')}${k.exeErrnos.EACCES ? '; EACCES means this unprivileged reader was refused before the kernel looked for an executable' : ''})`,
        k.kthreadd ? `${k.childrenOfKthreadd} of ${k.count} are kthreadd (PID ${k.kthreadd.pid}, parent ${k.kthreadd.ppid}) or its children: they are started inside the kernel, not by clone(2) from user space` : 'kthreadd itself was not among them',
        `the kernel marks them with PF_KTHREAD in the stat flags${k.kthreadLine.present ? ', and this kernel also prints "Kthread: 1" in their status' : ' (this kernel prints no Kthread: line in status)'}`,
      ];
      const central = k.tgidEqualsPid === k.count;
      return {
        verdict: central ? 'nuanced' : 'refuted',
        explanation: `As the kernel shows them in /proc, kernel threads are tasks like processes: ${like.join('; ')}. But not in every sense: ${unlike.join('; ')}.`,
      };
    },
  },
];
