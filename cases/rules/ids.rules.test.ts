/**
 * Rule tests of the ids family (A3, A4, A7, A8, A15, C1): the healthy run's
 * observations, mutated the way another kernel, libc or environment would
 * behave, and the verdict each rule must then give.
 */
import { QEMU_USER_WRAPPER, ruleCases, type Draft } from '../../helpers/claims/rule-cases.js';
import type { TaskIds } from '../../helpers/claims/ids.js';

/** Every task of every thread group (not the single-threaded process). */
const groupTasks = (d: Draft): TaskIds[] => d.results('threadGroupIds').flatMap((g) => g.tasks);
const threadsOf = (d: Draft): TaskIds[] => groupTasks(d).filter((t) => t.role === 'thread');
/** Every task seen: the thread groups' and the single-threaded process's. */
const everyTask = (d: Draft): TaskIds[] => [...groupTasks(d), ...d.results('singleThreadProcess').map((s) => s.task)];

/** A LinuxThreads-style libc: getpid returns the calling task's own PID. */
const linuxThreadsGetpid = (d: Draft) => {
  for (const t of everyTask(d)) t.libcGetpid = t.statusPid;
};
/** A libc without a gettid wrapper (musl before 1.2.2, glibc before 2.30). */
const noGettidWrapper = (d: Draft) => {
  for (const g of d.results('threadGroupIds')) g.libcHasGettid = false;
  for (const s of d.results('singleThreadProcess')) s.libcHasGettid = false;
  for (const t of everyTask(d)) delete t.libcGettid;
};
/** Every thread group reported no task at all. */
const emptyTaskLists = (d: Draft) => {
  for (const g of d.results('threadGroupIds')) g.tasks = [];
};
const STATUS_UNREADABLE = 'Tgid: of /proc/4242/task/4243/status could not be read (EACCES)';

ruleCases('A3', { verdict: 'confirmed', says: [/found no other task with Tgid \d+/, /a search of \d+ task statuses/], saysNot: ['could not be read'] }, [
  {
    name: 'another task somewhere in /proc carries the TGID',
    mutate: (d) => {
      const s = d.result('singleThreadProcess');
      s.othersWithTgid.push({ pid: s.pid + 7, tid: s.pid + 8 });
    },
    verdict: 'refuted',
    says: [/other tasks had Tgid \d+/],
  },
  {
    name: "the process's Tgid is not its PID",
    mutate: (d) => {
      d.result('singleThreadProcess').task.statusTgid += 1;
    },
    verdict: 'refuted',
    says: [/its status said Tgid \d+/],
    saysNot: ['Pid = Tgid'],
  },
  {
    // A real run under qemu-user: every emulated process holds qemu's own call_rcu thread besides the probe's tasks.
    name: 'its task directory holds a task the probe did not create, counted by Threads: (an emulator thread): no single-threaded process seen',
    mutate: (d) => {
      const s = d.result('singleThreadProcess');
      s.taskDir.push(s.pid + 1);
      s.statusThreads = 2;
      s.othersWithTgid.push({ pid: s.pid, tid: s.pid + 1 });
      d.environment({ probeWrapper: QEMU_USER_WRAPPER });
    },
    verdict: 'inconclusive',
    says: ['No single-threaded process was observed', 'the wrapper qemu-x86_64', 'call_rcu'],
    summarySays: ['did not create'],
  },
  {
    name: 'the same under a wrapper, but its own Pid is not its TGID: still refuted',
    mutate: (d) => {
      const s = d.result('singleThreadProcess');
      s.taskDir.push(s.pid + 1);
      s.statusThreads = 2;
      s.task.statusTgid += 1;
      d.environment({ probeWrapper: QEMU_USER_WRAPPER });
    },
    verdict: 'refuted',
    says: [/its status said Tgid \d+/],
  },
  {
    name: 'Threads: says 2 while its task directory holds only itself: the kernel contradicts itself',
    mutate: (d) => {
      d.result('singleThreadProcess').statusThreads = 2;
      d.environment({ probeWrapper: QEMU_USER_WRAPPER });
    },
    verdict: 'refuted',
    says: ['Threads: 2'],
  },
  {
    name: '/proc is restricted so the search reads only the process itself',
    mutate: (d) => {
      const s = d.result('singleThreadProcess');
      s.search = { processes: 1, tasksRead: 1, unreadable: 40, unreadableErrnos: ['EACCES'] };
    },
    verdict: 'inconclusive',
    says: ['read only 1 task status', 'EACCES', 'too little'],
    saysNot: ['found no other task'],
  },
  {
    name: 'some listed tasks could not be read: the search says how far it reached',
    mutate: (d) => {
      const s = d.result('singleThreadProcess');
      s.search.unreadable = 3;
      s.search.unreadableErrnos = ['EACCES'];
    },
    verdict: 'confirmed',
    says: ['3 listed tasks could not be read, EACCES'],
  },
  {
    name: "a failed test's complete observation still moves the verdict",
    mutate: (d) => {
      d.testFailed('singleThreadProcess');
      const s = d.result('singleThreadProcess');
      s.othersWithTgid.push({ pid: s.pid, tid: s.pid + 1 });
    },
    verdict: 'refuted',
    says: ['other tasks had Tgid'],
  },
  {
    name: 'its status could not be read (incomplete observation)',
    mutate: (d) => {
      d.fail('singleThreadProcess', STATUS_UNREADABLE);
    },
    verdict: 'inconclusive',
    says: [STATUS_UNREADABLE],
  },
]);

ruleCases('A4', { verdict: 'confirmed', says: ['6 thread groups', /\d+ tasks in all/], saysNot: ['Not judged'] }, [
  {
    name: "a thread's Tgid is its own PID",
    mutate: (d) => {
      const t = d.result('threadGroupIds', 'pthread x4').tasks.find((x) => x.role === 'thread')!;
      t.statusTgid = t.statusPid;
    },
    verdict: 'refuted',
    says: ['pthread x4', 'a Tgid equal to its own Pid'],
  },
  {
    name: 'a thread carries the TGID of another group',
    mutate: (d) => {
      d.result('threadGroupIds', 'clone x4').tasks[2]!.statusTgid = d.result('threadGroupIds', 'pthread x4').tgid;
    },
    verdict: 'refuted',
    says: ['clone x4', 'had another Tgid'],
  },
  {
    name: 'the task directory is missing a TID',
    mutate: (d) => {
      const g = d.result('threadGroupIds', 'pthread x64');
      g.taskDir = g.taskDir.filter((t) => t !== g.tasks[5]!.tid);
    },
    verdict: 'refuted',
    says: ['pthread x64', /task did not list \d+/],
  },
  {
    name: 'two tasks have the same Pid',
    mutate: (d) => {
      const g = d.result('threadGroupIds', 'clone x4');
      g.tasks[2]!.statusPid = g.tasks[1]!.statusPid;
    },
    verdict: 'refuted',
    says: ['belonged to more than one task'],
  },
  {
    // A real run under qemu-user: each group also held qemu's call_rcu thread, listed and counted.
    name: 'each group also holds a task the probe did not create, listed and counted (an emulator thread): judged over the probe tasks',
    mutate: (d) => {
      for (const g of d.results('threadGroupIds')) {
        g.taskDir.push(g.tgid + 100000);
        g.statusThreads += 1;
      }
      d.environment({ probeWrapper: QEMU_USER_WRAPPER });
    },
    verdict: 'confirmed',
    says: ['6 tasks the probe did not create', 'the wrapper qemu-x86_64'],
    summarySays: ['besides 6 tasks the probe did not create'],
  },
  {
    name: 'a task the probe did not create, listed but not counted by Threads:: refuted',
    mutate: (d) => {
      const g = d.result('threadGroupIds', 'pthread x4');
      g.taskDir.push(g.tgid + 100000);
      d.environment({ probeWrapper: QEMU_USER_WRAPPER });
    },
    verdict: 'refuted',
    says: ['Threads: 5 for 5 tasks, 6 tasks listed', 'which no task of the group reported'],
  },
  {
    name: 'Threads: does not count every task',
    mutate: (d) => {
      d.result('threadGroupIds', 'pthread x4').statusThreads = 1;
    },
    verdict: 'refuted',
    says: ['Threads: 1 for 5 tasks'],
  },
  {
    name: 'one group reported no task: it is set aside, the others judged',
    mutate: (d) => {
      d.result('threadGroupIds', 'pthread x1').tasks = [];
    },
    verdict: 'confirmed',
    says: ['5 thread groups', 'Not judged', 'pthread x1 (0 of 2 tasks)'],
  },
  {
    name: 'every group reported an empty task list',
    mutate: emptyTaskLists,
    verdict: 'inconclusive',
    says: ['No thread group whose every task reported its IDs'],
    saysNot: ["had the group's TGID"],
  },
  {
    name: "a failed test's complete observation still moves the verdict",
    mutate: (d) => {
      d.testFailed('threadGroupIds');
      const t = d.result('threadGroupIds', 'clone x1').tasks[1]!;
      t.statusTgid = t.statusPid;
    },
    verdict: 'refuted',
    says: ['clone x1'],
  },
]);

ruleCases('A7', { verdict: 'confirmed', says: ['both libc getpid and the getpid system call returned the Tgid', '1 single-threaded process'] }, [
  {
    name: 'a libc whose getpid is wrong only in raw clone(CLONE_THREAD) threads, which it did not make: nuanced, the split said',
    mutate: (d) => {
      for (const g of d.results('threadGroupIds')) if (g.via === 'clone') for (const t of g.tasks) if (t.role === 'thread') t.libcGetpid = t.statusPid;
      d.environment({ libc: 'musl 1.2.3' });
    },
    verdict: 'nuanced',
    says: ["musl 1.2.3's getpid returned the Tgid in all", 'threads made by a raw clone(CLONE_THREAD)', 'and the getpid system call in all'],
    summarySays: ['raw-clone threads'],
  },
  {
    name: "a LinuxThreads-style libc: getpid returns the caller's TID",
    mutate: linuxThreadsGetpid,
    verdict: 'refuted',
    says: [
      'libc getpid returned something other than the Tgid',
      'its own TID',
      'while the getpid system call returned the Tgid',
      'libc and the kernel disagree',
    ],
    saysNot: ['the getpid system call did'],
  },
  {
    name: "a kernel whose getpid returns the thread's TID while libc still gives the TGID",
    mutate: (d) => {
      for (const t of everyTask(d)) t.rawGetpid = t.statusPid;
    },
    verdict: 'refuted',
    says: ['the getpid system call did in 138 of', 'while libc getpid returned the Tgid', 'libc and the kernel disagree'],
  },
  {
    name: 'getpid differs between threads in one group, in libc and kernel alike',
    mutate: (d) => {
      const t = d.result('threadGroupIds', 'clone x4').tasks[3]!;
      t.rawGetpid = t.libcGetpid = t.statusPid;
    },
    verdict: 'refuted',
    says: ['in 1 of', 'clone x4'],
    saysNot: ['disagree'],
  },
  {
    name: 'every group reported an empty task list',
    mutate: emptyTaskLists,
    verdict: 'inconclusive',
    says: ['No thread group'],
  },
  {
    name: "a failed test's complete observation still moves the verdict",
    mutate: (d) => {
      d.testFailed('threadGroupIds');
      linuxThreadsGetpid(d);
    },
    verdict: 'refuted',
    says: ['libc getpid'],
  },
  {
    name: 'task status unreadable (incomplete observations)',
    mutate: (d) => {
      d.fail('threadGroupIds', STATUS_UNREADABLE);
    },
    verdict: 'inconclusive',
    says: [STATUS_UNREADABLE],
  },
]);

ruleCases('A8', { verdict: 'confirmed', says: ['libc gettid and the gettid system call both returned the Pid'], saysNot: ['wrapper'] }, [
  {
    // A real run with --libc musl: musl's gettid answers from the thread descriptor a raw clone shares with its creator.
    name: "musl's gettid in raw clone(CLONE_THREAD) threads returns the creator's TID: nuanced, libc's threads and the syscall right",
    mutate: (d) => {
      for (const g of d.results('threadGroupIds')) if (g.via === 'clone') for (const t of g.tasks) if (t.role === 'thread') t.libcGettid = g.tgid;
      d.environment({ libc: 'musl 1.2.3' });
    },
    verdict: 'nuanced',
    says: [/musl 1\.2\.3's gettid returned the Pid in all \d+ tasks libc made/, /: \d+, its creator, where status said Pid/, 'outside what the libc supports'],
    summarySays: ['raw-clone threads libc did not make'],
  },
  {
    name: 'the same wrong value also in a pthread_create thread: refuted',
    mutate: (d) => {
      for (const g of d.results('threadGroupIds')) if (g.via === 'clone') for (const t of g.tasks) if (t.role === 'thread') t.libcGettid = g.tgid;
      const p = d.result('threadGroupIds', 'pthread x4');
      p.tasks.find((t) => t.role === 'thread')!.libcGettid = p.tgid;
    },
    verdict: 'refuted',
    says: ['libc gettid returned something other than the Pid'],
  },
  {
    name: 'a libc whose gettid returns the TGID',
    mutate: (d) => {
      for (const t of everyTask(d)) t.libcGettid = t.statusTgid;
    },
    verdict: 'refuted',
    says: ['libc gettid returned something other than the Pid', 'the TGID', 'libc and the kernel disagree'],
  },
  {
    name: 'a libc without a gettid wrapper: the syscall alone is judged, and that is said',
    mutate: noGettidWrapper,
    verdict: 'confirmed',
    says: ['no gettid wrapper', 'in all 145 tasks only the system call', 'the gettid system call returned the Pid'],
    saysNot: [/nuanc/, 'libc gettid and'],
  },
  {
    name: 'no wrapper, and a kernel whose gettid returns the TGID',
    mutate: (d) => {
      noGettidWrapper(d);
      for (const t of everyTask(d)) t.rawGettid = t.statusTgid;
    },
    verdict: 'refuted',
    says: ['the gettid system call did', 'no gettid wrapper'],
    saysNot: ['disagree'],
  },
  {
    name: 'status unreadable (incomplete single-threaded observation)',
    mutate: (d) => {
      d.fail('singleThreadProcess', STATUS_UNREADABLE);
    },
    verdict: 'inconclusive',
    says: [STATUS_UNREADABLE],
  },
  {
    name: 'every group reported an empty task list',
    mutate: emptyTaskLists,
    verdict: 'inconclusive',
    says: ['No thread group'],
  },
  {
    name: "a failed test's complete observation still moves the verdict",
    mutate: (d) => {
      d.testFailed('singleThreadProcess');
      const t = d.result('singleThreadProcess').task;
      t.rawGettid += 1;
    },
    verdict: 'refuted',
    says: ['single-threaded process'],
  },
]);

ruleCases(
  'A15',
  {
    verdict: 'confirmed',
    says: ["every task got its group's TGID", 'from both libc getpid and the getpid system call', 'All 138 non-leader threads got their own Pid'],
  },
  [
    {
      name: "a LinuxThreads-style libc: getpid returns the caller's TID",
      mutate: linuxThreadsGetpid,
      verdict: 'refuted',
      says: ['libc getpid returned 5 different values', '4 threads their own TID', 'libc and the kernel disagree'],
      saysNot: ["every task got its group's TGID"],
    },
    {
      name: 'getpid differs between threads at the kernel',
      mutate: (d) => {
        const t = d.result('threadGroupIds', 'pthread x4').tasks[2]!;
        t.rawGetpid = t.statusPid;
      },
      verdict: 'refuted',
      says: ['pthread x4', 'the getpid system call returned 2 different values'],
    },
    {
      name: 'one value in every thread, but not the TGID (e.g. a libc caching a stale PID)',
      mutate: (d) => {
        for (const t of groupTasks(d)) t.libcGetpid = 1;
      },
      verdict: 'nuanced',
      says: ['as POSIX wants', 'libc getpid returned 1 to every task', 'libc and the kernel disagree'],
      saysNot: ["every task got its group's TGID"],
    },
    {
      name: 'every group reported an empty task list: nothing confirmed, nothing refuted',
      mutate: emptyTaskLists,
      verdict: 'inconclusive',
      says: ['No thread group'],
    },
    {
      name: "a failed test's complete observation still moves the verdict",
      mutate: (d) => {
        d.testFailed('threadGroupIds');
        linuxThreadsGetpid(d);
      },
      verdict: 'refuted',
    },
  ],
);

ruleCases(
  'C1',
  {
    verdict: 'nuanced',
    says: [/same \d+ fields/, "libc getpid and the getpid system call both returned the group's TGID, not the thread's own PID, in all 138"],
    saysNot: ['disagree'],
  },
  [
    {
      name: "a LinuxThreads-style libc: getpid returns the thread's own PID, the kernel the TGID",
      mutate: linuxThreadsGetpid,
      verdict: 'nuanced',
      says: ["libc getpid returned the thread's own PID in all 138", "the getpid system call returned the group's TGID", 'libc and the kernel disagree'],
      saysNot: ['nothing told them from processes'],
    },
    {
      name: 'a kernel and libc where getpid gives each thread its own PID',
      mutate: (d) => {
        for (const t of everyTask(d)) t.libcGetpid = t.rawGetpid = t.statusPid;
      },
      verdict: 'confirmed',
      says: ['nothing told them from processes'],
    },
    {
      name: "threads' status has fields a process's has not",
      mutate: (d) => {
        d.result('threadGroupIds', 'clone x4').statusKeySets = [[...d.result('singleThreadProcess').statusKeys, 'ThreadOnly']];
      },
      verdict: 'refuted',
      says: ['clone x4', 'had ThreadOnly besides'],
    },
    {
      name: "a thread's Pid is the TGID",
      mutate: (d) => {
        const t = threadsOf(d)[0]!;
        t.statusPid = t.statusTgid;
      },
      verdict: 'refuted',
      says: ['had the TGID as their Pid'],
    },
    {
      name: 'every group reported an empty task list',
      mutate: emptyTaskLists,
      verdict: 'inconclusive',
      says: ['No non-leader thread'],
    },
    {
      name: 'status unreadable (incomplete thread-group observations)',
      mutate: (d) => {
        d.fail('threadGroupIds', STATUS_UNREADABLE);
      },
      verdict: 'inconclusive',
      says: [STATUS_UNREADABLE],
    },
    {
      name: "a failed test's complete observation still moves the verdict",
      mutate: (d) => {
        d.testFailed('threadGroupIds');
        for (const t of everyTask(d)) t.libcGetpid = t.rawGetpid = t.statusPid;
      },
      verdict: 'confirmed',
    },
  ],
);
