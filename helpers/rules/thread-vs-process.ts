/**
 * The thread-vs-process claim family: what cases/thread-vs-process.test.ts observes, and the rules
 * of A1, A6, B1, B5 over it.
 */
import type { Claim, ObservationIndex, Usable } from '../claims.js';
import { groupsLabel } from './ids.js';
import { hasFlag, matrixRows } from './clone.js';
import { list } from './prose.js';


export interface ThreadVsProcessObservations {
  /** A non-leader thread ends: with exit_group (libc exit()) or the raw exit syscall. */
  exitScope: { how: 'exit_group' | 'sys_exit'; groupEnded: boolean; exitStatus: number | null; leaderWentOn: boolean };
  /** SIGTERM (default action) sent with tgkill to one thread. */
  fatalSignal: { signal: string | null; groupEnded: boolean };
  /** A non-leader thread called execve. */
  execFromThread: { oldTgid: number; oldTid: number; getpid: number; gettid: number; threadsAfter: number };
  /** The main thread left; the harness sent SIGUSR1 to the TGID. */
  leaderExitSignal: { tgid: number; workerTid: number; leaderState: string; handlerTid: number };
  /** getppid() in the leader, in a thread, and in a thread made by that thread. */
  threadParent: { leaderPpid: number; threadPpid: number; nestedPpid: number; threadTid: number; nestedTid: number };
  /** Credentials changed in one thread (raw syscall) or through libc: each task's Uid: line. */
  credsPerTask: { mode: 'raw' | 'libc'; changedIn: number; uids: { tid: number; uid: string }[] };
  /** Affinity and nice set on one TID; each task's own scheduling fields. */
  schedPerTask: {
    target: number;
    cpus: number;
    tasks: { tid: number; cpusAllowed: string; nice: number; state: string; cpuTicks: number }[];
  };
}

export const THREAD_VS_PROCESS_CLAIMS: Claim[] = [
  {
    id: 'A1',
    source: 'answer 1',
    statement: 'Inside the kernel, each thing that can be scheduled and run is called a process.',
    needs: ['schedPerTask'],
    decide(o) {
      const sp = o.all('schedPerTask')[0]!.result;
      const target = sp.tasks.find((t) => t.tid === sp.target)!;
      const others = sp.tasks.filter((t) => t.tid !== sp.target);
      const perTaskNice = others.every((t) => t.nice !== target.nice);
      const perTaskAffinity = sp.cpus < 2 || others.every((t) => t.cpusAllowed !== target.cpusAllowed);
      if (!perTaskNice || !perTaskAffinity) {
        return { verdict: 'refuted', explanation: `Scheduling settings made on one TID applied to the whole group: nice ${sp.tasks.map((t) => t.nice)}, affinity ${sp.tasks.map((t) => t.cpusAllowed)}.` };
      }
      return {
        verdict: 'nuanced',
        explanation: `What the kernel schedules is each thread on its own: nice 7 and affinity to CPU 0 set on TID ${sp.target} changed only that task (nice ${sp.tasks.map((t) => `${t.tid}:${t.nice}`).join(', ')}; Cpus_allowed_list ${sp.tasks.map((t) => `${t.tid}:${t.cpusAllowed}`).join(', ')}), and every task had its own state and CPU time (${sp.tasks.map((t) => `${t.tid}: ${t.state}, ${t.cpuTicks} ticks`).join('; ')}). The kernel's own word for that unit is "task" (/proc/PID/task/TID, struct task_struct); calling each a "process" is the answer's vocabulary, not the kernel's, which keeps "process" for the thread group (getpid(), /proc/PID).`,
      };
    },
  },

  {
    id: 'A6',
    source: 'answer 1',
    statement: 'In a multi-threaded process the task whose PID equals the TGID is the main thread.',
    needs: ['threadGroupIds', 'leaderExitFirst'],
    uses: ['leaderExitSignal', 'execFromThread'],
    decide(o) {
      const groups = o.all('threadGroupIds');
      const wrongLeader = groups.filter((g) => g.result.tasks.some((t) => t.role === 'leader' && t.statusPid !== g.result.tgid));
      if (wrongLeader.length) {
        return { verdict: 'refuted', explanation: `The thread that ran main() did not have PID = TGID in ${wrongLeader.map((g) => g.variant).join(', ')}.` };
      }
      const exits = o.all('leaderExitFirst');
      const headless = exits.filter((e) => {
        const r = e.result;
        return r.survivors.length > 0 && r.survivors.every((s) => s.statusTgid === r.tgid) && r.leaderState !== 'R' && r.leaderState !== 'S';
      });
      const base = `In ${groupsLabel(groups)} the task that ran main() had PID = TGID.`;
      if (headless.length) {
        return {
          verdict: 'nuanced',
          explanation: `${base} But the main thread can leave first: after ${headless
            .map((e) => `${e.result.method} in main (TGID ${e.result.tgid})`)
            .join(' and ')}, the other threads ran on with Tgid ${headless.map((e) => e.result.tgid).join('/')}, while the PID=TGID task was in state ${headless
            .map((e) => e.result.leaderState)
            .join('/')} (zombie): a thread group can live with no running task whose PID equals its TGID.${o
            .all('leaderExitSignal')
            .map((l) => ` A signal sent to that TGID then was handled by thread ${l.result.handlerTid}.`)
            .join('')}${o
            .all('execFromThread')
            .map((x) => ` And after execve in non-leader thread ${x.result.oldTid}, that thread became the one with PID = TGID (${x.result.gettid}).`)
            .join('')}`,
        };
      }
      return { verdict: 'confirmed', explanation: `${base} When main() exited first the group did not live on without it.` };
    },
  },

  {
    id: 'B1',
    source: 'answer 2',
    statement: 'On Linux there is no difference at all between a thread and a process.',
    needs: ['exitScope', 'fatalSignal', 'execFromThread', 'threadParent', 'signalLanding'],
    uses: ['cloneMatrix', 'credsPerTask', 'leaderExitSignal', 'schedPerTask'],
    decide(o) {
      const diffs: string[] = [];
      const eg = o.all('exitScope').find((e) => e.result.how === 'exit_group')?.result;
      const se = o.all('exitScope').find((e) => e.result.how === 'sys_exit')?.result;
      if (eg?.groupEnded) diffs.push(`exit() in one thread ended all of its group (exit status ${eg.exitStatus}), where the raw exit syscall ended only the caller${se?.leaderWentOn ? ' and the leader went on' : ''}`);
      const fs = o.all('fatalSignal')[0]?.result;
      if (fs?.groupEnded) diffs.push(`a ${fs.signal} sent with tgkill to one thread ended the whole group`);
      const ex = o.all('execFromThread')[0]?.result;
      if (ex && ex.getpid === ex.oldTgid && ex.oldTid !== ex.oldTgid) diffs.push(`execve in thread ${ex.oldTid} replaced the whole group (${ex.threadsAfter} thread left) and that thread became PID ${ex.getpid}, the old TGID`);
      const tp = o.all('threadParent')[0]?.result;
      if (tp && tp.nestedPpid === tp.leaderPpid) diffs.push(`a thread made by thread ${tp.threadTid} reported getppid() ${tp.nestedPpid}, the group's parent, not its creator`);
      const sl = o.all('signalLanding')[0]?.result;
      const k = sl?.sends.find((s) => s.method === 'kill' && s.to === sl.target);
      if (k?.landed === 'shared') diffs.push(`kill() on a thread's ID signalled the whole process`);
      const rows = matrixRows(o).filter((r) => r.accepted && hasFlag(r, 'THREAD') && !r.waitable && !r.exitSignalToCaller);
      if (rows.length) diffs.push(`${rows.length} CLONE_THREAD children could not be waited for and sent no exit signal`);
      const libc = o.all('credsPerTask').find((c) => c.result.mode === 'libc')?.result;
      const raw = o.all('credsPerTask').find((c) => c.result.mode === 'raw')?.result;
      if (libc && raw) diffs.push(`credentials are per task in the kernel (a raw setresuid changed ${raw.uids.filter((u) => u.uid.startsWith('65534')).length} of ${raw.uids.length} tasks) but libc makes every thread change them together`);
      const le = o.all('leaderExitSignal')[0]?.result;
      if (le && le.handlerTid === le.workerTid) diffs.push(`after the main thread exited (state ${le.leaderState}), a signal to its TGID was handled by thread ${le.handlerTid}`);
      if (!diffs.length) return { verdict: 'confirmed', explanation: 'None of the thread-group behaviours tested set a thread apart from a process.' };
      return { verdict: 'refuted', explanation: `Observed differences: ${diffs.map((d, i) => `(${i + 1}) ${d}`).join('; ')}. A separate process does none of this.` };
    },
  },

  {
    id: 'B5',
    source: 'answer 2',
    statement: 'Other operating systems separate threads and processes much more than Linux does.',
    needs: [],
    notTestable: 'It speaks of other operating systems; a run on a Linux kernel observes only Linux.',
  },
];
