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

/** CPU-time fields of one stat file (proc(5) fields 14, 15, 20), in clock ticks. */
export interface CpuFields {
  pid: number;
  utime: number;
  stime: number;
  numThreads: number;
}

/** One /proc lookup made by the lookup probe: each step "ok" or an errno name. */
export interface LookupOutcome {
  path: string;
  stat: string;
  open: string;
  chdir: string;
  cwd: string;
  /** Name/Tgid/Pid/NSpid lines of PATH/status, as read there. */
  statusIds: string;
  uid: number;
}

/** One child of the sharing matrix: accepted or the errno; when accepted, what it shared. */
export interface ShareRow {
  flags: string;
  accepted: boolean;
  errno?: string;
  /** Resources the parent saw the child's change to (memory, files, fs, sighand, sysvsem). */
  shared?: { memory: boolean; files: boolean; fs: boolean; sighand: boolean; sysvsem: boolean };
  sameTgid?: boolean;
  waitable?: boolean;
  exitSignalToCaller?: boolean;
  parentIsCallersParent?: boolean;
  callerSuspended?: boolean;
  /** clone's return value equalled the child's own gettid(). */
  returnedChildTid?: boolean;
  /** The parts of one resource disagreed (e.g. the child's open seen, its close not). */
  inconsistent?: string[];
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
  /** One readdir(3) of /proc, and one of /proc/TGID/task, while a probe held its threads alive. */
  procListing: {
    threads: number;
    tgid: number;
    tids: number[];
    tgidListed: boolean;
    /** Non-leader TIDs that the /proc listing did contain (should be none). */
    nonLeaderListed: number[];
    taskDir: number[];
    /** Where /proc/self and /proc/thread-self pointed, read by each task itself. */
    selfLinks: { tid: number; procSelf: string; procThreadSelf: string }[];
  };
  /** Every numeric entry of one /proc listing, its status read: Tgid = Pid? */
  procListingScan: {
    entries: number;
    checked: number;
    tgidEqualsPid: number;
    mismatches: { entry: number; tgid: number; pid: number }[];
    /** Entries gone between the listing and the read of their status. */
    vanished: number;
  };
  /** A non-leader TID, absent from the /proc listing, looked up directly from C. */
  hiddenTidLookup: {
    tgid: number;
    tid: number;
    listedInProc: boolean;
    lookup: LookupOutcome;
    statusPid: number;
    statusTgid: number;
    /** Numeric names in /proc/TID/task. */
    taskDirViaTid: number[];
    cpu: { viaTid: CpuFields; viaTaskDir: CpuFields; group: CpuFields };
  };
  /** `cd /proc/TID` for a non-leader TID, in a real shell. */
  shellCd: {
    shell: string;
    shellPath: string;
    tid: number;
    tgid: number;
    exitCode: number;
    pwd: string;
    statusPid: number;
    statusTgid: number;
    /** `ls /proc | grep -x TID`: exit 1 and no output when the TID is not listed. */
    lsGrepExit: number;
    lsGrepOut: string;
  };
  /** /proc/TID after the thread exited and was joined, polled until it went away. */
  exitedTidLookup: { tid: number; tgid: number; lookup: LookupOutcome; polls: number; ms: number };
  /** A number no task can have: /proc/sys/kernel/pid_max itself (PIDs are below it). */
  unusedPidLookup: { pid: number; pidMax: number; lookup: LookupOutcome };
  /** Tasks in a child PID namespace, looked up from outside by their inner PIDs. */
  pidnsInnerLookup: {
    userns: boolean;
    tasks: { role: string; innerPid: number; outerPid: number; outside: LookupOutcome; sameTask: boolean }[];
  };
  /** /proc mounted with hidepid in a private mount namespace, read by an unprivileged user. */
  hidepidLookup: {
    mountOption: string;
    uid: number;
    tgid: number;
    tid: number;
    hidden: LookupOutcome[];
    /** The same lookups as the same user on a /proc mounted without hidepid. */
    control: LookupOutcome[];
  };
  /** All 256 combinations of the eight sharing flags through one API, one probe process. */
  cloneMatrix: { api: 'clone' | 'clone3'; rows: ShareRow[]; probeMs: number; perComboUs: number };
  /** A child made with one CLONE_NEW* flag: which namespace inodes differ from the creator's. */
  cloneNamespaces: { flag: string; withUserns: boolean; accepted: boolean; errno?: string; differ: string[]; same: string[] };
  /** What the kernel wrote for CLONE_PARENT_SETTID, CLONE_CHILD_CLEARTID and CLONE_PIDFD. */
  cloneIdsWritten: {
    api: 'clone' | 'clone3';
    flags: string;
    childTid: number;
    parentTid: number;
    childTidAfterExit: number;
    pidfd: number;
    pidfdPid: number | null;
  };
  /** Flag sets the kernel must refuse, each tried through one API: expected errno and result. */
  cloneRules: { rows: { rule: string; api: 'clone' | 'clone3'; flags: string; exitSignal: number; expected: string; result: string }[] };
  /** Which system call (and flags) a libc function used, seen by strace. */
  libcCreation: { call: string; syscall: string; flags: string; returned: number; made: number; straceVersion: string };
  /** A fork-like child (exit signal only): what it shares all the same. */
  forkLikeShares: { offsetSeenByParent: number; mapShared: boolean; namespacesSame: string[]; namespacesDiffer: string[] };
  /** Signals sent to a non-leader TID (and for comparison to the TGID and the leader), all blocked: where each was queued. */
  signalLanding: {
    tgid: number;
    target: number;
    sends: { method: string; sig: number; to: number; result: string; landed: 'shared' | 'target' | 'leader' | 'elsewhere' | 'none' }[];
    /** Then one other thread unblocked the signal: whose handler ran (0: none within 300 ms). */
    handlers: { method: string; sig: number; unblockedIn: number; handlerTid: number; stillPendingOnTarget: boolean }[];
    /** Calls that must fail: signal 0 (nothing is sent) to an exited TID, tgkill with a wrong TGID. */
    errors: { method: string; target: string; result: string }[];
  };
  /** `kill -SIG TID` typed in a real shell. */
  shellKill: { shell: string; tid: number; sig: number; exitCode: number; landed: string };
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
  /** What the real procps ps printed while a probe held its threads alive. */
  psView: {
    procps: string;
    tgid: number;
    tids: number[];
    views: { args: string[]; exitCode: number; tgidShown: boolean; threadTidsShown: number[]; showsThreads: boolean }[];
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
