/**
 * The ids claim family: what cases/ids.test.ts observes, and the rules
 * of A3, A4, A7, A8, A15, C1 over it.
 */
import type { Claim, ObservationIndex, Usable } from '../claims.js';
import { list } from './prose.js';

/** IDs one task reported about itself, and what its own /proc status said. */
export interface TaskIds {
  tid: number;
  role: 'leader' | 'thread';
  libcGetpid: number;
  rawGetpid: number;
  /** Absent when the libc has no gettid() wrapper. */
  libcGettid?: number;
  rawGettid: number;
  /** From /proc/TGID/task/TID/status. */
  statusTgid: number;
  statusPid: number;
}

export interface IdsObservations {
  /** A thread group made by the ids probe: every task's IDs, and the task directory. */
  threadGroupIds: {
    via: 'pthread' | 'clone';
    threads: number;
    tgid: number;
    tasks: TaskIds[];
    /** Numeric names in /proc/TGID/task. */
    taskDir: number[];
    /** Threads: line of /proc/TGID/status. */
    statusThreads: number;
    /** The Name:/Pid:/Tgid: fields of every task's status have the same keys as a process's. */
    taskStatusKeysLikeProcess: boolean;
  };
  /** A process with one task, and a search of all of /proc for another task with its TGID. */
  singleThreadProcess: {
    pid: number;
    task: TaskIds;
    statusThreads: number;
    taskDir: number[];
    othersWithTgid: { pid: number; tid: number }[];
  };
  /** The thread running main() left first; the rest of the group was inspected. */
  leaderExitFirst: {
    method: 'pthread_exit' | 'sys_exit';
    tgid: number;
    /** State letter of /proc/TGID/status while the others still ran (proc(5)). */
    leaderState: string;
    statusThreads: number;
    taskDir: number[];
    survivors: { tid: number; statusTgid: number; state: string }[];
    /** getpid() of the thread that reported after the leader left. */
    reporterGetpid: number;
  };
}

export const groupsLabel = (gs: Usable<'threadGroupIds'>[]): string =>
  `${gs.length} thread groups (${gs.map((g) => `${g.result.via} x${g.result.threads}`).join(', ')})`;

/** Every task seen with its IDs: the single-threaded process and every thread group. */
export function allTasks(o: ObservationIndex): (TaskIds & { where: string })[] {
  return [
    ...o.all('threadGroupIds').flatMap((g) => g.result.tasks.map((t) => ({ ...t, where: `${g.variant} TGID ${g.result.tgid}` }))),
    ...o.all('singleThreadProcess').map((s) => ({ ...s.result.task, where: `single-threaded PID ${s.result.pid}` })),
  ];
}

export const IDS_CLAIMS: Claim[] = [
  {
    id: 'A3',
    source: 'answer 1',
    statement: 'An ordinary single-threaded process has PID equal to TGID, and no other task carries its TGID.',
    needs: ['singleThreadProcess'],
    decide(o) {
      const bad = o.all('singleThreadProcess').filter((s) => {
        const r = s.result;
        return !(r.task.statusPid === r.pid && r.task.statusTgid === r.pid && r.statusThreads === 1 &&
          r.taskDir.length === 1 && r.taskDir[0] === r.pid && r.othersWithTgid.length === 0);
      });
      const seen = o.all('singleThreadProcess').map((s) => s.result);
      if (bad.length) {
        return {
          verdict: 'refuted',
          explanation: `A single-threaded process did not look as claimed: ${bad
            .map((b) => `PID ${b.result.pid} had Pid ${b.result.task.statusPid}, Tgid ${b.result.task.statusTgid}, Threads ${b.result.statusThreads}, task dir [${b.result.taskDir}], other tasks with its TGID [${b.result.othersWithTgid.map((x) => x.tid)}]`)
            .join('; ')}.`,
        };
      }
      return {
        verdict: 'confirmed',
        explanation: `For ${seen.map((r) => `PID ${r.pid}`).join(', ')}: status said Pid = Tgid = PID and Threads: 1, /proc/PID/task held only the PID, and a search of every task of every process in /proc found no other task with that Tgid.`,
      };
    },
  },

  {
    id: 'A4',
    source: 'answer 1',
    statement: 'A multi-threaded process is a set of tasks that share one TGID.',
    needs: ['threadGroupIds'],
    decide(o) {
      const groups = o.all('threadGroupIds');
      const problems: string[] = [];
      for (const g of groups) {
        const r = g.result;
        const pids = new Set(r.tasks.map((t) => t.statusPid));
        const foreign = r.tasks.filter((t) => t.statusTgid !== r.tgid);
        if (foreign.length) problems.push(`${g.variant}: tasks ${list(foreign.map((t) => t.tid))} had another Tgid`);
        if (pids.size !== r.tasks.length) problems.push(`${g.variant}: two tasks had the same Pid`);
        if (r.statusThreads !== r.tasks.length) problems.push(`${g.variant}: Threads: ${r.statusThreads} for ${r.tasks.length} tasks`);
        const dir = [...r.taskDir].sort((a, b) => a - b).join();
        if (dir !== r.tasks.map((t) => t.tid).sort((a, b) => a - b).join()) problems.push(`${g.variant}: task dir [${list(r.taskDir)}] is not the group's TIDs`);
      }
      if (problems.length) return { verdict: 'refuted', explanation: `Threads did not share one TGID as claimed: ${problems.join('; ')}.` };
      return {
        verdict: 'confirmed',
        explanation: `In ${groupsLabel(groups)}, every task's status had Tgid equal to the leader's PID, each task had a Pid of its own, Threads: counted them all, and /proc/TGID/task listed exactly their TIDs.`,
      };
    },
  },

  {
    id: 'A7',
    source: 'answer 1',
    statement: 'getpid() returns the TGID, in every task of a process.',
    needs: ['threadGroupIds', 'singleThreadProcess'],
    decide(o) {
      const tasks = allTasks(o);
      const rawWrong = tasks.filter((t) => t.rawGetpid !== t.statusTgid);
      const libcWrong = tasks.filter((t) => t.libcGetpid !== t.statusTgid);
      if (rawWrong.length) {
        return {
          verdict: 'refuted',
          explanation: `The getpid system call returned something other than the Tgid in status for ${rawWrong.length} tasks, e.g. ${rawWrong[0]!.where} task ${rawWrong[0]!.tid}: getpid ${rawWrong[0]!.rawGetpid}, Tgid ${rawWrong[0]!.statusTgid}.`,
        };
      }
      if (libcWrong.length) {
        return {
          verdict: 'nuanced',
          explanation: `The raw SYS_getpid returned the Tgid in all ${tasks.length} tasks, but libc getpid() did not in ${libcWrong.length} (a cached value?), e.g. ${libcWrong[0]!.where} task ${libcWrong[0]!.tid}: ${libcWrong[0]!.libcGetpid}.`,
        };
      }
      return {
        verdict: 'confirmed',
        explanation: `In all ${tasks.length} tasks observed (${groupsLabel(o.all('threadGroupIds'))}, and a single-threaded process), both libc getpid() and raw SYS_getpid returned the Tgid that /proc/TGID/task/TID/status showed.`,
      };
    },
  },

  {
    id: 'A8',
    source: 'answer 1',
    statement: "gettid() returns the task's own PID.",
    needs: ['threadGroupIds', 'singleThreadProcess'],
    decide(o) {
      const tasks = allTasks(o);
      const rawWrong = tasks.filter((t) => t.rawGettid !== t.statusPid);
      const libcWrong = tasks.filter((t) => t.libcGettid !== undefined && t.libcGettid !== t.statusPid);
      const noLibc = tasks.filter((t) => t.libcGettid === undefined);
      if (rawWrong.length) {
        const t = rawWrong[0]!;
        return { verdict: 'refuted', explanation: `SYS_gettid returned ${t.rawGettid} in ${t.where}, whose status said Pid ${t.statusPid} (and ${rawWrong.length - 1} more).` };
      }
      if (libcWrong.length || noLibc.length) {
        return {
          verdict: 'nuanced',
          explanation: `SYS_gettid returned the status Pid in all ${tasks.length} tasks, but ${libcWrong.length ? `libc gettid() disagreed in ${libcWrong.length}` : `this libc has no gettid() wrapper (${noLibc.length} tasks checked with the raw syscall only)`}.`,
        };
      }
      return {
        verdict: 'confirmed',
        explanation: `In all ${tasks.length} tasks, libc gettid() and raw SYS_gettid both returned the Pid of /proc/TGID/task/TID/status, which differs from task to task.`,
      };
    },
  },

  {
    id: 'A15',
    source: 'answer 1 (note)',
    statement: 'getpid() reports the thread group, as POSIX wants: all threads of a process get the same value from it.',
    needs: ['threadGroupIds'],
    decide(o) {
      const groups = o.all('threadGroupIds');
      const split = groups.filter((g) => new Set(g.result.tasks.map((t) => t.rawGetpid)).size !== 1);
      if (split.length) {
        return { verdict: 'refuted', explanation: `Threads of one process got different getpid() values in ${split.map((g) => g.variant).join(', ')}.` };
      }
      const differ = groups.flatMap((g) => g.result.tasks.filter((t) => t.role === 'thread' && t.rawGetpid !== t.rawGettid));
      return {
        verdict: 'confirmed',
        explanation: `In ${groupsLabel(groups)} every thread got its group's TGID from getpid(); ${differ.length} non-leader threads got a different value from gettid(), so getpid() names the process, not the task.`,
      };
    },
  },

  {
    id: 'C1',
    source: 'answer 3',
    statement: 'On Linux, threads are processes.',
    needs: ['threadGroupIds', 'singleThreadProcess'],
    decide(o) {
      const groups = o.all('threadGroupIds');
      const threads = groups.flatMap((g) => g.result.tasks.filter((t) => t.role === 'thread'));
      const ownPid = new Set(threads.map((t) => t.statusPid)).size === threads.length && threads.every((t) => t.statusPid === t.rawGettid);
      const statusLikeProcess = groups.every((g) => g.result.taskStatusKeysLikeProcess);
      if (!threads.length) return { verdict: 'inconclusive', explanation: 'No thread was observed.' };
      if (!ownPid || !statusLikeProcess) {
        return {
          verdict: 'refuted',
          explanation: `Threads did not each have a PID and a status of their own: distinct PIDs ${ownPid}, status like a process's ${statusLikeProcess}.`,
        };
      }
      const groupIdentity = threads.filter((t) => t.rawGetpid !== t.rawGettid);
      if (!groupIdentity.length) {
        return { verdict: 'confirmed', explanation: `All ${threads.length} threads had their own PID and a process-like status, and getpid() returned that same PID.` };
      }
      return {
        verdict: 'nuanced',
        explanation: `To the kernel each of the ${threads.length} threads observed is a task like a process: a PID of its own (distinct, from the same number space as processes) and a /proc status with the same fields as a process's. But the process identity user space sees is the group's: getpid() returned the TGID, not the thread's own PID, in ${groupIdentity.length} of them.`,
      };
    },
  },
];
