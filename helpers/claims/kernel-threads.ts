/**
 * The kernel-threads claim family: what cases/claims/kernel-threads.test.ts observes, and the rules
 * of T1 over it.
 */
import { Inconclusive, nonEmpty, type Claim, type Decision, type RuleEnvironment } from './rule.js';
import { list, oneLine, plural } from './prose.js';

export interface KernelThreadsObservations {
  /**
   * Every task with PF_KTHREAD in /proc/PID/stat that stayed through the
   * census, and what /proc says of each. Each count is of tasks examined;
   * what could not be read is counted by its errno, never as a value.
   */
  kernelThreads: {
    /** Kernel threads examined (listed, and still the same task after every read). */
    count: number;
    /** Listed, but gone (or the PID reused) before the census was done: not counted anywhere else. */
    vanished: number;
    /** kthreadd, when found (comm "kthreadd", parent 0). */
    kthreadd?: { pid: number; ppid: number };
    /** How many of the others have kthreadd as parent (only when kthreadd was found). */
    childrenOfKthreadd?: number;
    /** Whether status has a "Kthread:" line on this kernel (6.x prints one), and whether it agrees with the flag for every task listed. */
    kthreadLine: { present: boolean; agreesWithFlag: boolean; disagreements: number[] };
    tgidEqualsPid: number;
    tgidDiffers: { pid: number; comm: string; tgid: number }[];
    singleTask: number;
    multiTask: { pid: number; comm: string; tasks: number }[];
    /** With no VmSize line in status (proc(5): it is printed only for a task with a user address space). */
    noVmSize: number;
    /** /proc/PID/maps: empty, not empty, or refused (by errno). */
    maps: { empty: number; nonEmpty: number; unreadable: Record<string, number> };
    /** readlink(/proc/PID/exe): readable, or refused (by errno: ENOENT no executable, EACCES this reader may not look). */
    exe: { readable: number; unreadable: Record<string, number> };
    states: Record<string, number>;
    policies: Record<string, number>;
    /** kill(pid, 0) from this process, for kthreadd and a few others still there after: existence and permission only, nothing sent. */
    signal0: { pid: number; comm: string; result: string }[];
  };
}

/** "the initial PID namespace" or "a child PID namespace", for explanations (null: this run could not tell). */
export const whereFrom = (initialPidNamespace: boolean | null): string =>
  initialPidNamespace === false ? 'a child PID namespace' : initialPidNamespace ? 'the initial PID namespace' : 'a PID namespace it could not identify';

type Census = KernelThreadsObservations['kernelThreads'];
/** Where this run looked from: what decides which kernel threads it can see. */
type Vantage = Pick<RuleEnvironment, 'initialPidNamespace' | 'procMountOptions' | 'euid'>;

const of0 = (x: number, total: number) => (x === total ? `all ${total}` : `${x} of the ${total}`);
const counts = (m: Record<string, number>) =>
  Object.entries(m)
    .map(([k, n]) => `${k}: ${n}`)
    .join(', ');

/** Why a reader is refused what it asks of a task, as opposed to what the task lacks. */
const REFUSALS: Record<string, string> = {
  EACCES: 'this reader was refused before the kernel looked',
  EPERM: 'this reader was refused before the kernel looked',
};

function judgeCensus(k: Census, vantage: Vantage): { verdict: 'confirmed' | 'nuanced' | 'refuted'; text: string; summary: string } {
  const from = ` from ${whereFrom(vantage.initialPidNamespace)}`;
  if (k.count === 0) {
    const mount = `/proc mounted "${vantage.procMountOptions ?? 'with options that could not be read'}"`;
    const looked = vantage.euid === null ? mount : `${mount}, euid ${vantage.euid}`;
    const exited = k.vanished ? `; ${k.vanished} listed ones exited before they could be examined` : '';
    throw new Inconclusive(`No kernel thread was visible${from} (${looked})${exited}: T1 could not be observed.`, `no kernel thread was visible${from}`);
  }
  const n = k.count;
  const of = (x: number) => (x === n ? `all ${n}` : `${x} of ${n}`);

  // How they were found: the kernel's own marks, as observed.
  const line = k.kthreadLine;
  const kthreadLine = !line.present
    ? ' (this kernel prints no "Kthread:" line in status)'
    : line.agreesWithFlag
      ? ' (and "Kthread: 1" in status, which agreed with the flag for every task listed)'
      : ` (status's "Kthread:" line disagreed with the flag for PID ${list(line.disagreements)}: these are counted by the flag)`;
  const vanished = k.vanished ? `; ${k.vanished} more exited during the census and are not counted` : '';
  const found = `${n} tasks carry PF_KTHREAD in /proc/PID/stat${kthreadLine}${vanished}`;

  const tasksOf = (m: Census['multiTask'][number]) => `${m.pid} ${m.comm}: ${m.tasks}`;
  const like = [
    `each is listed by readdir(/proc) with a /proc/PID directory${from}`,
    k.tgidEqualsPid ? `Tgid = Pid in ${of(k.tgidEqualsPid)}, as for a process` : '',
    `${of(k.singleTask)} have a single task${k.multiTask.length ? ` (${k.multiTask.length} have more: ${list(k.multiTask.map(tasksOf))})` : ''}`,
    `each has a scheduler state and policy (states ${counts(k.states)}; policies ${counts(k.policies)})`,
  ];
  const found0 = k.signal0.filter((s) => s.result === 'ok' || s.result === 'EPERM');
  if (found0.length) {
    const answers = list(found0.map((s) => `${s.pid} ${s.comm}: ${s.result}`));
    const eperm = found0.some((s) => s.result === 'EPERM') ? '; EPERM: it exists, this reader may not signal it' : '';
    like.push(`kill(pid, 0) found ${of0(found0.length, k.signal0.length)} tried (${answers}${eperm}), with no signal sent`);
  }
  if (k.exe.readable) like.push(`the exe link of ${of(k.exe.readable)} could be read, as a process's can`);
  if (n - k.noVmSize) like.push(`${of(n - k.noVmSize)} have a VmSize line, as a process with an address space does`);
  if (k.maps.nonEmpty) like.push(`${of(k.maps.nonEmpty)} have a non-empty /proc/PID/maps`);

  // Differences, each only from its count.
  const unlike: string[] = [];
  /** Each difference in brief, for the summary. */
  const unlikeBrief: string[] = [];
  if (k.noVmSize) {
    unlike.push(`${of(k.noVmSize)} have no VmSize line in status, i.e. no user address space`);
    unlikeBrief.push(`no user address space in ${of(k.noVmSize)}`);
  }
  if (k.maps.empty) {
    unlike.push(`${of(k.maps.empty)} have an empty /proc/PID/maps`);
    unlikeBrief.push(`empty maps in ${of(k.maps.empty)}`);
  }
  const noExe = k.exe.unreadable.ENOENT ?? 0;
  if (noExe) {
    unlike.push(`the exe link of ${of(noExe)} gave ENOENT: no executable file behind them`);
    unlikeBrief.push(`no executable in ${of(noExe)}`);
  }
  if (k.kthreadd && k.childrenOfKthreadd) {
    const children = k.childrenOfKthreadd === n - 1 ? `all ${n - 1} others` : `${k.childrenOfKthreadd} of the other ${n - 1}`;
    const started = "started by the kernel, not by a user process's clone(2)";
    unlike.push(`kthreadd (PID ${k.kthreadd.pid}) has parent ${k.kthreadd.ppid}, and ${children} are its children: ${started}`);
    unlikeBrief.push(`${children} started by kthreadd, not by a process`);
  }

  // What could not be looked at: limits, not differences.
  const limits: string[] = [];
  const other = (m: Record<string, number>, skip: string[]) => Object.entries(m).filter(([e]) => !skip.includes(e));
  for (const [e, c] of other(k.exe.unreadable, ['ENOENT'])) {
    limits.push(`the exe link of ${of(c)} gave ${e}${REFUSALS[e] ? ` (${REFUSALS[e]} for an executable): not evidence either way` : ''}`);
  }
  for (const [e, c] of Object.entries(k.maps.unreadable)) limits.push(`/proc/PID/maps of ${of(c)} gave ${e}${REFUSALS[e] ? ` (${REFUSALS[e]})` : ''}`);

  // What a process never shows.
  const against: string[] = [];
  const againstBrief: string[] = [];
  if (k.tgidDiffers.length) {
    const differing = list(k.tgidDiffers.map((t) => `${t.pid} ${t.comm}: Tgid ${t.tgid}`));
    against.push(`${of(k.tgidDiffers.length)} have Tgid different from Pid (${differing}), as only a non-leader thread has`);
    againstBrief.push(`${of(k.tgidDiffers.length)} have Tgid different from Pid, as only a non-leader thread has`);
  }
  const lost = k.signal0.filter((s) => s.result === 'ESRCH');
  if (lost.length) {
    const gone = list(lost.map((s) => `${s.pid} ${s.comm}`));
    against.push(`kill(pid, 0) answered ESRCH for ${gone}, still listed in /proc: kill(2) does not find it as a process`);
    againstBrief.push(`kill(pid, 0) answered ESRCH for ${plural(lost.length, 'listed one')}`);
  }
  const odd = k.signal0.filter((s) => !['ok', 'EPERM', 'ESRCH'].includes(s.result));
  if (odd.length) limits.push(`kill(pid, 0) gave ${list(odd.map((s) => `${s.pid}: ${s.result}`))}`);

  const differ = unlike.length ? `Unlike user processes: ${unlike.join('; ')}.` : '';
  const notSeen = limits.length ? ` Not observed: ${limits.join('; ')}.` : '';
  const likeText = like.filter(Boolean).join('; ');
  if (against.length) {
    return {
      verdict: 'refuted',
      text: `${found}. Unlike any process: ${against.join('; ')}. Otherwise: ${likeText}.${differ ? ` ${differ}` : ''}${notSeen}`,
      summary: oneLine(`Of ${n} kernel threads, unlike any process: `, againstBrief),
    };
  }
  if (unlike.length) {
    return {
      verdict: 'nuanced',
      text: `${found}. Like processes: ${likeText}. ${differ}${notSeen}`,
      summary: oneLine(`${n} kernel threads look like processes in /proc, but unlike them: `, unlikeBrief, ', '),
    };
  }
  return {
    verdict: 'confirmed',
    text: `${found}. In every property observed they are like processes: ${likeText}.${notSeen}`,
    summary: `All ${n} kernel threads observed were like processes in every property observed.`,
  };
}

export const KERNEL_THREADS_CLAIMS: Claim[] = [
  {
    id: 'T1',
    source: 'title',
    excerpt: '"Are Linux kernel threads really kernel processes?" (kernel threads such as kthreadd and its children)',
    statement: 'Kernel threads (kthreadd and the threads it starts) are processes in the same sense as user processes.',
    needs: ['kernelThreads'],
    env: ['initialPidNamespace', 'procMountOptions', 'euid'],
    verdicts: ['confirmed', 'nuanced', 'refuted', 'inconclusive'],
    expectedIn: {
      'pid-namespace': {
        verdict: 'inconclusive',
        because: 'No kernel thread is visible from a child PID namespace: kthreadd and the threads it starts are in the initial one.',
      },
      hidepid: {
        verdict: 'inconclusive',
        because: 'Kernel threads belong to root, and /proc mounted hidepid=invisible hides them from the other user this run is.',
      },
      container: {
        verdict: 'inconclusive',
        because:
          'The container has its own PID namespace and /proc, as Podman gives it: kthreadd and the threads it starts are in the initial one, so none is visible.',
      },
    },
    decide(o): Decision {
      const censuses = nonEmpty(o.all('kernelThreads'), 'census of kernel threads');
      const vantage: Vantage = { initialPidNamespace: o.env('initialPidNamespace'), procMountOptions: o.env('procMountOptions'), euid: o.env('euid') };
      const judged = censuses.map((c) => judgeCensus(c.result, vantage));
      const rank = { confirmed: 0, nuanced: 1, refuted: 2 } as const;
      const verdict = judged.reduce((a, b) => (rank[b.verdict] > rank[a.verdict] ? b : a)).verdict;
      // The summary of the census that gave the verdict (the first such, when there are several).
      const summary = judged.find((j) => j.verdict === verdict)!.summary;
      return { verdict, explanation: judged.map((j, i) => (judged.length > 1 ? `(${i + 1}) ${j.text}` : j.text)).join(' '), summary };
    },
  },
];
