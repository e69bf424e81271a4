/**
 * The rule of A2 (helpers/claims/namespaces.ts), fed the healthy run's
 * observations mutated as another kernel, libc or environment would leave them.
 */
import type { Draft } from '../../helpers/claims/rule-cases.js';
import { ruleCases } from '../../helpers/claims/rule-cases.js';
import { describe, expect, test } from 'vitest';
import { whyNamespaceRefused } from '../../helpers/claims/namespaces.js';

const twoLevels = (d: Draft) => d.result('pidNamespaces', 'two levels');

/** A kernel that accepts CLONE_NEWPID and makes no namespace: every task has its host PID only. */
function singlePidWorld(d: Draft): void {
  for (const ns of d.results('pidNamespaces')) {
    for (const t of ns.tasks) {
      t.nspid = [t.nspid[0]!];
      t.gettid = t.nspid[0]!;
    }
    for (const t of ns.tasks) {
      const leader = t.role === 'thread' ? ns.tasks.find((w) => w.role === 'worker' && w.level === t.level) : t;
      t.getpid = leader!.gettid;
    }
    delete ns.innerProcEntries;
    delete ns.innerProcSelf;
  }
}

ruleCases(
  'A2',
  {
    verdict: 'nuanced',
    says: [
      'one PID per level',
      /NSpid \d+ \/ \d+ \/ \d+ \(the host's first\)/,
      'were distinct in every run',
      /1 was the PID of the init at level 1 .* the init at level 2/,
      "every namespace's init got 1 from getpid, and the process it forked got 2",
      "every task's Tgid was its leader's PID",
    ],
    saysNot: ['single PID'],
  },
  [
    {
      name: 'two live tasks with the same outermost PID',
      mutate: (d) => {
        const ns = twoLevels(d);
        ns.tasks[1]!.nspid[0] = ns.tasks[0]!.nspid[0]!;
      },
      verdict: 'refuted',
      says: ['had the same outermost PID', 'while alive at once'],
    },
    {
      name: 'NSpid with the same PID at every level (not the one gettid gave)',
      mutate: (d) => {
        const t = twoLevels(d).tasks.find((x) => x.role === 'worker')!;
        t.nspid = t.nspid.map(() => t.nspid[0]!);
      },
      verdict: 'refuted',
      says: ['whose last (own-level) PID is not the'],
    },
    {
      name: 'NSpid with one level only for a task in a namespace',
      mutate: (d) => {
        const t = d.result('pidNamespaces', 'one level').tasks.find((x) => x.role === 'thread')!;
        t.nspid = [t.nspid[0]!];
      },
      verdict: 'refuted',
      says: ['the thread at level 1 ("one level") had NSpid'],
    },
    {
      name: 'two live threads of one group with the same TID',
      mutate: (d) => {
        const g = d.result('threadGroupIds');
        g.tasks[2] = { ...g.tasks[2]!, tid: g.tasks[1]!.tid };
      },
      verdict: 'refuted',
      says: ['several live tasks had the TID'],
    },
    {
      name: 'a kernel whose CLONE_NEWPID makes no namespace: one PID per task',
      mutate: singlePidWorld,
      verdict: 'confirmed',
      says: ['every task had a single PID', 'This run looked from the initial PID namespace'],
      saysNot: ['one PID per level', 'init got 1'],
    },
    {
      name: 'one PID per task, but the run itself in a child PID namespace',
      mutate: (d) => {
        singlePidWorld(d);
        d.environment({ initialPidNamespace: false });
      },
      verdict: 'nuanced',
      says: ['this run itself looked from a child PID namespace'],
      saysNot: ['one PID per level'],
    },
    {
      name: 'one PID per task, the PID namespace the run looked from unknown (its ns/pid unreadable)',
      mutate: (d) => {
        singlePidWorld(d);
        d.environment({ initialPidNamespace: null });
      },
      verdict: 'confirmed',
      says: ['This run could not tell whether it looked from the initial PID namespace.'],
      saysNot: ['This run looked from'],
    },
    {
      name: "a namespace's init that got 7 from getpid",
      mutate: (d) => {
        for (const t of d.results('pidNamespaces').flatMap((n) => n.tasks)) if (t.role === 'init') t.getpid = 7;
      },
      verdict: 'nuanced',
      says: ["the namespaces' inits got 7", 'got getpid 7 and gettid 1'],
      saysNot: ["every namespace's init got 1"],
    },
    {
      name: 'no worker recorded (a probe that stopped early): no crash, no clause about it',
      mutate: (d) => {
        for (const n of d.results('pidNamespaces')) n.tasks = n.tasks.filter((t) => t.role !== 'worker');
      },
      verdict: 'nuanced',
      says: ["every namespace's init got 1 from getpid"],
      saysNot: ['the process it forked'],
    },
    {
      name: "a thread whose Tgid is not its leader's PID",
      mutate: (d) => {
        const g = d.result('threadGroupIds');
        g.tasks[1]!.statusTgid = g.tasks[1]!.tid;
      },
      verdict: 'nuanced',
      says: ["it was not always its group leader's PID", 'had Tgid'],
      saysNot: ["every task's Tgid was its leader's PID"],
    },
    {
      name: 'no thread group of the ids family observed',
      mutate: (d) => {
        d.drop('threadGroupIds');
      },
      verdict: 'nuanced',
      says: ['no thread group of the ids family was observed'],
    },
    {
      name: 'the namespaces observed, but no task in them',
      mutate: (d) => {
        for (const n of d.results('pidNamespaces')) n.tasks = [];
      },
      verdict: 'inconclusive',
      says: ['No task in a new PID namespace was observed'],
    },
    {
      name: 'the namespace test set aside: clone refused with EPERM',
      mutate: (d) => {
        d.fail('pidNamespaces', 'the kernel refused clone(CLONE_NEWPID): EPERM');
      },
      verdict: 'inconclusive',
      says: ['clone(CLONE_NEWPID): EPERM'],
    },
  ],
);

/** The one place that says why a clone with namespace flags was refused (the skip reasons of the namespace cases). */
describe('whyNamespaceRefused', () => {
  const host = { probeWrapper: null, capabilities: ['CAP_SYS_ADMIN', 'CAP_SETUID'], seccomp: 'disabled', usernsSettings: () => 'user.max_user_namespaces=0' };
  const container = { ...host, capabilities: ['CAP_CHOWN', 'CAP_SETUID'], seccomp: 'filter (1 filter)' };
  test.for([
    // Under qemu-user, EINVAL is do_fork()'s: the kernel never saw the flags.
    [
      'wrapper',
      'clone(CLONE_NEWPID)',
      'EINVAL',
      { ...host, probeWrapper: 'qemu-x86_64 (7.2)' },
      ['the wrapper qemu-x86_64 (7.2) refused clone(CLONE_NEWPID) with EINVAL, not the kernel'],
      ['the kernel refused', 'max_user_namespaces'],
    ],
    // In a container without CAP_SYS_ADMIN: the capability, not the user-namespace sysctls.
    [
      'no CAP_SYS_ADMIN',
      'clone(CLONE_NEWPID)',
      'EPERM',
      container,
      ['lacks CAP_SYS_ADMIN', 'a seccomp filter is active', '2 capabilities: CAP_CHOWN, CAP_SETUID'],
      ['max_user_namespaces', 'wrapper'],
    ],
    [
      'user namespace, privileged run',
      'clone(CLONE_NEWUSER|CLONE_NEWPID)',
      'ENOSPC',
      host,
      ['the kernel refused clone(CLONE_NEWUSER|CLONE_NEWPID): ENOSPC (user.max_user_namespaces=0)'],
      ['CAP_SYS_ADMIN'],
    ],
    [
      'another errno',
      'clone(CLONE_NEWPID)',
      'ENOMEM',
      { ...host, probeWrapper: 'qemu-x86_64 (7.2)' },
      ['the kernel refused clone(CLONE_NEWPID): ENOMEM'],
      ['max_user_namespaces'],
    ],
  ] as const)('%s', ([, op, errno, world, says, saysNot]) => {
    const why = whyNamespaceRefused(op, errno, world);
    for (const s of says) expect(why).toContain(s);
    for (const s of saysNot) expect(why).not.toContain(s);
  });
});
