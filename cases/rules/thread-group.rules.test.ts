/**
 * Rule tests of the thread-group family (A1, A6, B1, B5): the healthy
 * run's observations, mutated the way another kernel, libc or environment
 * would leave them (helpers/claims/rule-cases.ts).
 */
import { expect, test } from 'vitest';
import { healthyObservations, judge, QEMU_USER_WRAPPER, ruleCases, type Draft } from '../../helpers/claims/rule-cases.js';

// ------------------------------------------------------------------ A1

const sched = (d: Draft) => d.result('schedPerTask');
const schedTarget = (d: Draft) => {
  const sp = sched(d);
  const t = sp.tasks.find((x) => x.tid === sp.target);
  if (!t) throw new Error('fixture: no target task in schedPerTask');
  return t;
};
const schedOthers = (d: Draft) => sched(d).tasks.filter((x) => x.tid !== sched(d).target);

ruleCases(
  'A1',
  {
    verdict: 'nuanced',
    summarySays: [/getpid returned the group's ID \d+/],
    says: [/nice \d+ set on TID \d+/, 'affinity to CPU', "the kernel's getpid returned", 'own state and CPU time'],
    saysNot: ['not compared'],
  },
  [
    {
      name: 'a kernel whose getpid gives every task its own ID (each scheduled thing a process)',
      mutate: (d) => {
        for (const t of sched(d).tasks) t.getpid = t.tid;
      },
      verdict: 'confirmed',
      says: ['scheduled on its own', 'its own ID from getpid'],
      saysNot: ['But', 'getpid returned'],
    },
    {
      name: 'setpriority on one TID applied to the whole group',
      mutate: (d) => {
        for (const t of schedOthers(d)) t.nice = sched(d).niceWanted;
      },
      verdict: 'refuted',
      says: ['also changed the nice value of TID'],
      saysNot: ['scheduled on its own'],
    },
    {
      name: 'sched_setaffinity on one TID pinned the whole group',
      mutate: (d) => {
        for (const t of schedOthers(d)) t.cpusAllowed = String(sched(d).cpu);
      },
      verdict: 'refuted',
      says: [/also pinned TID .* to CPU \d/],
      saysNot: ['nice value of TID'],
    },
    {
      name: 'setpriority refused with EPERM (a seccomp filter): nothing was applied to anyone',
      mutate: (d) => d.fail('schedPerTask', 'setpriority(PRIO_PROCESS, 4242, 7) failed: EPERM'),
      verdict: 'inconclusive',
      says: ['setpriority(PRIO_PROCESS, 4242, 7) failed: EPERM'],
      saysNot: ['applied', 'scheduled on its own'],
    },
    {
      name: 'sched_setaffinity refused with EPERM',
      mutate: (d) => d.fail('schedPerTask', 'sched_setaffinity(4242, CPU 0) failed: EPERM'),
      verdict: 'inconclusive',
      says: ['sched_setaffinity(4242, CPU 0) failed: EPERM'],
    },
    {
      name: 'one CPU allowed: affinity is not set, and the explanation says it was not compared',
      mutate: (d) => {
        const sp = sched(d);
        delete sp.cpu;
        sp.cpus = 1;
        for (const t of sp.tasks) t.cpusBefore = t.cpusAllowed = '0';
      },
      verdict: 'nuanced',
      says: ['CPU affinity was not compared: only 1 CPU was allowed'],
      saysNot: ['affinity to CPU'],
    },
    {
      name: 'a group already at nice 10: the value asked for and seen is what the explanation gives',
      mutate: (d) => {
        const sp = sched(d);
        for (const t of sp.tasks) {
          t.nice += 10;
          t.niceBefore += 10;
        }
        sp.niceWanted = 17;
      },
      verdict: 'nuanced',
      says: [/nice 17 set on TID/, /: 10 to 17/],
      saysNot: ['nice 7 '],
    },
    {
      name: 'setpriority returned 0 but the nice value did not move',
      mutate: (d) => {
        const t = schedTarget(d);
        t.nice = t.niceBefore;
      },
      verdict: 'inconclusive',
      says: ['no visible effect'],
    },
  ],
);

// ------------------------------------------------------------------ A6

const leaderExits = (d: Draft) => d.results('leaderExitFirst');

// The summary names the nuance (a group running on without its main thread), not the confirming "had PID = TGID".
ruleCases(
  'A6',
  {
    verdict: 'nuanced',
    says: ['had PID = TGID', 'a zombie (state Z)', 'was handled by thread', 'handed over'],
    summarySays: ['not always a live main thread', /threads of TGID \d+ ran on while it was a zombie/],
  },
  [
    {
      name: 'the thread that ran main has a PID other than the TGID',
      mutate: (d) => {
        const g = d.result('threadGroupIds');
        const leader = g.tasks.find((t) => t.role === 'leader');
        if (!leader) throw new Error('fixture: no leader');
        leader.statusPid = g.tgid + 1;
      },
      verdict: 'refuted',
      says: ['did not have PID = TGID'],
    },
    {
      name: "a kernel where main leaving ends the group, and execve hands over the leader's PID",
      mutate: (d) => {
        for (const r of leaderExits(d)) r.survivors = [];
        d.drop('leaderExitSignal');
      },
      verdict: 'confirmed',
      says: ['no other thread of TGID', 'handed over'],
      saysNot: ['zombie', 'But'],
    },
    {
      name: "the leader's state after it exited is D, not Z: not called a zombie",
      mutate: (d) => {
        for (const r of leaderExits(d)) r.leaderState = 'D';
        d.result('leaderExitSignal').leaderState = 'D';
      },
      verdict: 'confirmed',
      says: ['was in state D'],
      saysNot: ['zombie', 'handled by thread'],
    },
    {
      name: 'the leader-exit observations could not be completed (status unreadable)',
      mutate: (d) => d.fail('leaderExitFirst', 'State of /proc/4242/status could not be read'),
      verdict: 'inconclusive',
      says: ['State of /proc/4242/status could not be read'],
    },
    {
      name: "execve from a thread that does not hand over the leader's PID",
      mutate: (d) => {
        for (const r of leaderExits(d)) r.survivors = [];
        d.drop('leaderExitSignal');
        const x = d.result('execFromThread');
        x.gettid = x.oldTid;
      },
      verdict: 'nuanced',
      says: [/new program ran with gettid \d+ and getpid \d+: no task of it had PID = TGID/],
      saysNot: ['handed over', 'zombie'],
    },
    {
      name: 'no handler ran for the signal sent to the TGID after the leader left',
      mutate: (d) => {
        const l = d.result('leaderExitSignal');
        l.handled = false;
        delete l.handlerTid;
      },
      verdict: 'nuanced',
      says: ['a zombie (state Z)'],
      saysNot: ['handled by thread'],
    },
    {
      name: 'no task was recorded as the one that ran main',
      mutate: (d) => {
        for (const g of d.results('threadGroupIds')) for (const t of g.tasks) t.role = 'thread';
      },
      verdict: 'inconclusive',
      says: ['ran main'],
    },
  ],
);

// ------------------------------------------------------------------ B1

const ending = (d: Draft, kind: 'exitScope' | 'fatalSignal', variant: string) => d.result(kind, variant);

/** The thread group's ending as a kernel ending only the actor would leave it. */
function onlyTheThreadEnded(d: Draft, kind: 'exitScope' | 'fatalSignal', variant: string): void {
  const e = ending(d, kind, variant);
  e.ended = [e.actor];
  e.remaining = e.members.filter((m) => m !== e.actor);
  e.groupEnded = false;
  e.leaderWentOn = true;
  delete e.statusOf;
  delete e.exitCode;
  delete e.killedBy;
}

/** Every behaviour B1 compares made the same for a thread as for a process. */
function threadsLikeProcesses(d: Draft): void {
  onlyTheThreadEnded(d, 'exitScope', 'exit_group thread');
  onlyTheThreadEnded(d, 'fatalSignal', 'SIGTERM via tgkill thread');
  const x = d.result('execFromThread');
  x.threadsAfter = x.threadsBefore;
  x.getpid = x.gettid = x.oldTid;
  const p = d.result('threadParent');
  p.nestedPpid = p.threadTid;
  for (const l of d.results('signalLanding')) for (const s of l.sends) if (s.to === l.target) s.landed = 'target';
  for (const m of d.results('cloneMatrix'))
    for (const r of m.rows) if (r.accepted && r.flags.split('|').includes('THREAD')) r.waitable = r.exitSignalToCaller = true;
  const libc = d.result('credsPerTask', 'libc');
  for (const u of libc.uids) if (u.tid !== libc.changedIn) u.uid = '0\t0\t0\t0';
}

ruleCases(
  'B1',
  {
    verdict: 'refuted',
    summarySays: [/^\d+ differences from a process: libc exit in a thread ended \d+ of the \d+ tasks of its group/],
    says: [
      /\(1\) libc exit in thread \d+ ended 3 of its 3 tasks/,
      'where libc exit in child process',
      'killed by SIGTERM',
      "left its parent's 3 threads running",
      "its creator's process",
      "glibc 2.36's setresuid changed all 3 threads",
    ],
    saysNot: ['A separate process does none of this', 'Not compared'],
  },
  [
    {
      // A real run under qemu-user 7.2: do_prctl() answers PR_SET_CHILD_SUBREAPER with EINVAL, so the ending probes stop.
      name: 'the endings not observed under an emulator: the other differences still refute, the endings named with why',
      mutate: (d) => {
        d.fail('exitScope', "probe 'thread-group --scenario end' failed: exited with status 1 (error records: prctl-subreaper: EINVAL)");
        d.fail('fatalSignal', "probe 'thread-group --scenario end' failed: exited with status 1 (error records: prctl-subreaper: EINVAL)");
        d.environment({ probeWrapper: QEMU_USER_WRAPPER });
      },
      verdict: 'refuted',
      says: [
        'Not compared: libc exit: in a thread was not observed completely (prctl-subreaper: EINVAL)',
        'a fatal signal sent with tgkill: in a thread was not observed completely',
        'The probes ran under the wrapper qemu-x86_64',
        "its creator's process",
      ],
      saysNot: ['ended 3 of its 3 tasks'],
    },
    {
      name: 'nothing differs where compared and the endings were not observed: inconclusive, naming why',
      mutate: (d) => {
        d.fail('exitScope', "probe 'thread-group --scenario end' failed: exited with status 1 (error records: prctl-subreaper: EINVAL)");
        d.fail('fatalSignal', "probe 'thread-group --scenario end' failed: exited with status 1 (error records: prctl-subreaper: EINVAL)");
        d.drop('cloneMatrix').drop('credsPerTask').drop('leaderExitSignal');
        for (const x of d.results('execFromThread')) x.threadsAfter = x.threadsBefore;
        for (const p of d.results('threadParent')) p.nestedPpid = p.threadTid;
        for (const l of d.results('signalLanding')) for (const s of l.sends) if (s.method === 'kill' && s.to === l.target) s.landed = 'target';
      },
      verdict: 'inconclusive',
      says: ['not everything could be compared', 'prctl-subreaper: EINVAL'],
    },
    {
      name: 'a kernel where exit ends only the calling thread',
      mutate: (d) => onlyTheThreadEnded(d, 'exitScope', 'exit_group thread'),
      verdict: 'refuted',
      says: ['a SIGTERM sent with tgkill to thread', /Alike: libc exit in thread \d+ ended 1 of its 3 tasks/],
      saysNot: [/\(\d\) libc exit in thread/],
    },
    {
      name: 'a kernel where a fatal signal kills only the target thread',
      mutate: (d) => onlyTheThreadEnded(d, 'fatalSignal', 'SIGTERM via tgkill thread'),
      verdict: 'refuted',
      says: [/exit in thread \d+ ended 3/, /Alike: a SIGTERM sent with tgkill to thread \d+ ended 1 of its 3 tasks/],
      saysNot: [/\(\d\) a SIGTERM sent with tgkill to thread/],
    },
    {
      name: 'tgkill refused with EPERM for the process baseline only: that comparison is not made, and says why',
      mutate: (d) =>
        d.fail(
          'fatalSignal',
          "probe 'thread-group --scenario end --unit process --how tgkill' failed: exited with status 1 (error records: tgkill: EPERM)",
          'SIGTERM via tgkill process',
        ),
      verdict: 'refuted',
      says: ['Not compared: a SIGTERM sent with tgkill: in a child process (the baseline) was not observed completely', 'tgkill: EPERM'],
      saysNot: ['SIGTERM sent with tgkill to thread', 'a null sent'],
    },
    {
      name: 'libc setresuid changing only the calling thread: no credentials difference is claimed',
      mutate: (d) => {
        const libc = d.result('credsPerTask', 'libc');
        for (const u of libc.uids) if (u.tid !== libc.changedIn) u.uid = '0\t0\t0\t0';
      },
      verdict: 'refuted',
      saysNot: ["'s setresuid changed all", /\(\d\) the kernel keeps credentials/],
    },
    {
      name: 'a kernel whose raw setresuid changes the whole group',
      mutate: (d) => {
        for (const u of d.result('credsPerTask', 'raw').uids) u.uid = '65534\t65534\t65534\t65534';
      },
      verdict: 'refuted',
      says: [/a raw setresuid in thread \d+ changed the credentials of all 3 tasks/],
    },
    {
      name: 'kill(2) on the TID refused (EPERM): the landing comparison is not made',
      mutate: (d) => {
        for (const l of d.results('signalLanding')) for (const s of l.sends) if (s.method === 'kill' && s.to === l.target) s.result = 'EPERM';
      },
      verdict: 'refuted',
      says: ['Not compared: signals to TID', 'kill EPERM'],
      saysNot: ['queued the signal for its whole process'],
    },
    {
      name: 'a kernel where a thread is a process in every respect observed',
      mutate: threadsLikeProcesses,
      verdict: 'confirmed',
      says: ['a thread did what a process did', /exit in thread \d+ ended 1 of its 3 tasks/],
      saysNot: ['differences'],
    },
    {
      name: 'no difference seen, but the process baselines of the endings were not observed',
      mutate: (d) => {
        threadsLikeProcesses(d);
        d.fail('exitScope', 'fork: EAGAIN', 'exit_group process').fail('fatalSignal', 'fork: EAGAIN', 'SIGTERM via tgkill process');
      },
      verdict: 'inconclusive',
      says: ['not everything could be compared', 'in a child process (the baseline) was not observed completely', 'fork: EAGAIN'],
    },
  ],
);

// ------------------------------------------------------------------ B5

test('B5 is not testable by nature, whatever was observed: it speaks of other operating systems', () => {
  const failedAll = healthyObservations().map((o) => ({
    kind: o.kind,
    variant: o.variant,
    complete: false as const,
    unobserved: 'a fault of the rule test',
    evidence: {},
    test: o.test,
    testState: 'failed',
  }));
  for (const list of [healthyObservations(), [], failedAll]) {
    const e = judge('B5', list);
    expect(e.verdict).toBe('not-testable');
    expect(e.explanation).toContain('other operating systems');
    expect(e.used).toEqual([]);
  }
});
