/**
 * What tests record: named observation kinds, each with the shape of its
 * result. Claim rules (helpers/claims.ts) read these; tests attach them to
 * their vitest task (`task.meta.observations`), and the reporter collects them
 * from every worker. One kind may come from several variants of a test
 * (pthread or clone, 1 or 64 threads): each is a separate observation.
 */
import { test as base } from 'vitest';

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

export interface ObservationResults {
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

export type ObservationKind = keyof ObservationResults;

export interface Observation<K extends ObservationKind = ObservationKind> {
  kind: K;
  /** Which variant of the experiment this was, e.g. "pthread x64". */
  variant: string;
  result: ObservationResults[K];
  /** What was seen, as seen: probe records, /proc text, transcripts. */
  evidence: Record<string, unknown>;
}

/** As stored in a report: with the test that made it and how that test ended. */
export interface RecordedObservation extends Observation {
  test: string;
  testState: string;
}

declare module '@vitest/runner' {
  interface TaskMeta {
    observations?: Observation[];
  }
}

export type Observe = <K extends ObservationKind>(
  kind: K,
  variant: string,
  result: ObservationResults[K],
  evidence: Record<string, unknown>,
) => void;

/**
 * vitest's `test`, with an `observe` fixture that attaches observations to the
 * running test. Record before asserting: a failing assertion then still
 * leaves the observation (what the kernel did) in the report.
 */
export const test = base.extend<{ observe: Observe }>({
  // eslint-disable-next-line no-empty-pattern
  observe: async ({ task }, use) => {
    const list: Observation[] = (task.meta.observations ??= []);
    await use((kind, variant, result, evidence) => {
      list.push({ kind, variant, result, evidence } as Observation);
    });
  },
});
