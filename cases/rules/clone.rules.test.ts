/**
 * Rule tests of the clone family (A5, A9, A10, A14, B2, B3, B4, C2, C5): the
 * healthy run's observations, mutated the way another kernel, emulator, libc
 * or environment would answer.
 */
import { describe, expect, test } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Draft, FIXTURE_DIR, healthyObservations, judge, ruleCases } from '../../helpers/claims/rule-cases.js';
import type { RecordedObservation } from '../../helpers/observations.js';
import type { CloneRuleRow, ShareRow } from '../../helpers/claims/clone.js';
import { parseCreationTrace } from '../../helpers/claims/clone-trace.js';

const has = (r: { flags: string }, f: string) => r.flags.split('|').includes(f);

/** Matrix rows of the draft, of one API or both. */
const matrix = (d: Draft, api?: 'clone' | 'clone3'): ShareRow[] =>
  d
    .results('cloneMatrix')
    .filter((m) => !api || m.api === api)
    .flatMap((m) => m.rows);

const row = (d: Draft, api: 'clone' | 'clone3', flags: string): ShareRow => {
  const r = matrix(d, api).find((x) => x.flags === flags);
  if (!r) throw new Error(`no ${api} row ${flags} in the fixture`);
  return r;
};

/** Make a row what a kernel that accepted it and shared exactly by the flags would show. */
function acceptByFlags(r: ShareRow): void {
  const f = (x: string) => has(r, x);
  const callersChild = !f('THREAD') && !f('PARENT');
  Object.assign(r, {
    accepted: true,
    shared: { memory: f('VM'), files: f('FILES'), fs: f('FS'), sighand: f('SIGHAND'), sysvsem: f('SYSVSEM') },
    sameTgid: f('THREAD'),
    waitable: callersChild,
    exitSignalToCaller: callersChild,
    parentIsCallersParent: !callersChild,
    callerSuspended: f('VFORK'),
    returnedChildTid: true,
    returnedChildGetpid: !f('THREAD'),
  });
  delete r.errno;
}

/** A kernel that accepts every combination of the matrix (and shares by the flags). */
const acceptWholeMatrix = (d: Draft) =>
  matrix(d)
    .filter((r) => !r.accepted)
    .forEach(acceptByFlags);

const ruleRows = (d: Draft, rule?: string): CloneRuleRow[] =>
  d
    .results('cloneRules')
    .flatMap((x) => x.rows)
    .filter((r) => !rule || r.rule === rule);

const setRule = (d: Draft, rule: string, result: string, api?: 'clone' | 'clone3') => {
  const rows = ruleRows(d, rule).filter((r) => !api || r.api === api);
  if (!rows.length) throw new Error(`no cloneRules row ${rule}`);
  for (const r of rows) r.result = result;
};

/** A seccomp filter refusing clone3 with EPERM: every clone3 rule row answers EPERM. */
const clone3Seccomp = (d: Draft) =>
  ruleRows(d)
    .filter((r) => r.api === 'clone3')
    .forEach((r) => (r.result = 'EPERM'));

/** The kernel refusing nothing: every rule row accepted. */
const acceptAllRules = (d: Draft) => ruleRows(d).forEach((r) => (r.result = 'ok'));

/** A fork-like child that shares nothing at all. */
const forkSharesNothing = (d: Draft) => {
  for (const f of d.results('forkLikeShares')) {
    Object.assign(f, {
      offsetSeenByParent: 0,
      offsetShared: false,
      mapShared: false,
      namespacesDiffer: [...f.namespacesSame, ...f.namespacesDiffer],
      namespacesSame: [],
    });
  }
};

const THREAD_SIGHAND = 'CLONE_THREAD needs CLONE_SIGHAND';
const THREAD_NEWPID = 'CLONE_THREAD cannot go with CLONE_NEWPID';
const THREAD_NEWUSER = 'CLONE_THREAD cannot go with CLONE_NEWUSER';
const MATRIX_EPERM = 'clone refused 256 of 256 combinations with EPERM (none, VM, FS and 253 more): an environment refusal, not a flag rule';

/** No CLONE_THREAD child accepted (an emulator refusing them all with EINVAL). */
const noThreads = (d: Draft) =>
  matrix(d)
    .filter((r) => has(r, 'THREAD'))
    .forEach((r) => {
      for (const k of Object.keys(r) as (keyof ShareRow)[]) if (k !== 'flags') delete r[k];
      Object.assign(r, { accepted: false, errno: 'EINVAL' });
    });

ruleCases(
  'A5',
  { verdict: 'confirmed', says: ['shared its memory and signal handlers', 'CLONE_THREAD needs CLONE_SIGHAND (clone VM|THREAD: EINVAL', '"Sometimes more"'] },
  [
    {
      name: 'a child sharing its TGID without sharing signal handlers',
      mutate: (d) => (row(d, 'clone', 'VM|SIGHAND|THREAD').shared!.sighand = false),
      verdict: 'refuted',
      says: ['clone VM|SIGHAND|THREAD (memory shared, handlers not shared)'],
    },
    {
      name: 'a kernel accepting CLONE_THREAD without CLONE_SIGHAND (rule rows only)',
      mutate: (d) => setRule(d, THREAD_SIGHAND, 'ok'),
      verdict: 'nuanced',
      says: ['the kernel accepted clone(VM|THREAD) although CLONE_THREAD needs CLONE_SIGHAND'],
      saysNot: ['refused the flag sets that would break it: CLONE_THREAD needs'],
    },
    {
      name: 'no thread sharing anything beyond memory and handlers',
      mutate: (d) =>
        matrix(d)
          .filter((r) => r.sameTgid)
          .forEach((r) => Object.assign(r.shared!, { files: false, fs: false, sysvsem: false })),
      verdict: 'nuanced',
      says: ['"sometimes more" was not seen'],
    },
    {
      name: 'a seccomp filter refusing clone3 with EPERM (clone3 rule rows set aside)',
      mutate: clone3Seccomp,
      verdict: 'confirmed',
      says: ['Not judged as flag rules', 'clone3(VM|THREAD) EPERM', 'clone VM|THREAD: EINVAL'],
      saysNot: ['clone3 VM|THREAD: EINVAL'],
    },
    {
      name: 'the dependency rule rows refused with EPERM everywhere',
      mutate: (d) =>
        ruleRows(d)
          .filter((r) => /needs CLONE_/.test(r.rule))
          .forEach((r) => (r.result = 'EPERM')),
      verdict: 'inconclusive',
      says: ['refused by the environment', 'EPERM'],
      saysNot: ['The kernel refused'],
    },
    {
      name: "no child shared its creator's TGID",
      mutate: noThreads,
      verdict: 'inconclusive',
      says: ["No child of the sharing matrix that shared its creator's TGID was observed"],
    },
  ],
);

ruleCases('A9', { verdict: 'confirmed', says: ['Raw clone(2) created a process', 'What glibc 2.36 itself calls', 'pthread_create used clone3('] }, [
  {
    name: 'an emulator refusing CLONE_VM|CLONE_VFORK with EINVAL',
    mutate: (d) => {
      const r = row(d, 'clone', 'VM|VFORK');
      for (const k of Object.keys(r) as (keyof ShareRow)[]) if (k !== 'flags') delete r[k];
      Object.assign(r, { accepted: false, errno: 'EINVAL' });
    },
    verdict: 'refuted',
    says: ['a vfork-like child (CLONE_VM|CLONE_VFORK): clone(2) refused it with EINVAL'],
  },
  {
    name: "a fork-like child joining the caller's thread group",
    mutate: (d) => Object.assign(row(d, 'clone', 'none'), { sameTgid: true, waitable: false }),
    verdict: 'refuted',
    says: ["joined the caller's thread group"],
  },
  {
    name: 'a libc whose pthread_create() calls clone, not clone3',
    mutate: (d) => Object.assign(d.result('libcCreation', 'pthread_create'), { syscall: 'clone', failedFirst: ['clone3: ENOSYS'] }),
    verdict: 'confirmed',
    says: ['pthread_create used clone(CLONE_VM', 'after clone3: ENOSYS'],
  },
  {
    name: 'strace output that could not be parsed (libcCreation incomplete)',
    mutate: (d) =>
      d.fail(
        'libcCreation',
        'which system call pthread_create used could not be told: strace line not understood: 123 clone3({flags=CLONE_VM',
        'pthread_create',
      ),
    verdict: 'confirmed',
    says: ['Not used, because not completely observed', 'strace line not understood'],
    saysNot: [/pthread_create used clone3?\(CLONE/],
  },
  {
    name: 'the legacy clone(2) matrix refused with EPERM (only clone3 observed)',
    mutate: (d) => d.fail('cloneMatrix', MATRIX_EPERM, 'clone'),
    verdict: 'inconclusive',
    says: ['legacy clone(2) was not observed completely', 'EPERM'],
  },
]);

ruleCases(
  'A10',
  {
    verdict: 'nuanced',
    says: ['exactly when CLONE_VM', '128 of 256 through clone (EINVAL)', 'offset 100', 'MAP_SHARED'],
    summarySays: ['refused 256 of 512 flag combinations (EINVAL)', 'still shared open file descriptions and MAP_SHARED memory'],
  },
  [
    {
      name: 'a resource shared without its flag',
      mutate: (d) => (row(d, 'clone', 'FS').shared!.memory = true),
      verdict: 'refuted',
      says: ['clone FS: memory shared'],
    },
    {
      name: 'a kernel refusing nothing, whose fork-like child shares nothing',
      mutate: (d) => {
        acceptWholeMatrix(d);
        acceptAllRules(d);
        forkSharesNothing(d);
      },
      verdict: 'confirmed',
      says: ['No flag set tried was refused', "the parent's offset stayed 0"],
      saysNot: ['But', 'still shared'],
    },
    {
      name: 'a fork-like child not sharing file offsets',
      mutate: (d) => Object.assign(d.result('forkLikeShares'), { offsetSeenByParent: 0, offsetShared: false }),
      verdict: 'nuanced',
      says: ['MAP_SHARED'],
      saysNot: ['open file descriptions'],
    },
    {
      name: 'a kernel accepting CLONE_THREAD|CLONE_NEWPID',
      mutate: (d) => setRule(d, THREAD_NEWPID, 'ok'),
      verdict: 'nuanced',
      says: ['accepted flag sets documented Linux refuses: clone(VM|SIGHAND|THREAD|NEWPID) although CLONE_THREAD cannot go with CLONE_NEWPID'],
    },
    {
      name: 'an emulator refusing CLONE_VM|CLONE_FILES with EINVAL',
      mutate: (d) => {
        const r = row(d, 'clone', 'VM|FILES');
        for (const k of Object.keys(r) as (keyof ShareRow)[]) if (k !== 'flags') delete r[k];
        Object.assign(r, { accepted: false, errno: 'EINVAL' });
      },
      // copy_process() allows VM|FILES: an EINVAL for it is not the kernel's flag rule, so no EINVAL of the run is read as one.
      verdict: 'inconclusive',
      says: ['(clone VM|FILES)', 'refuses more than the kernel'],
      saysNot: ['the kernel refused'],
    },
    {
      name: 'the fork-like child set aside (its lseek failed with EPERM)',
      mutate: (d) =>
        d.fail('forkLikeShares', 'steps of the experiment failed, so what they measure was not seen: lseek in the child (clone flags none): EPERM'),
      verdict: 'inconclusive',
      says: ['lseek in the child (clone flags none): EPERM'],
    },
    {
      name: 'a kernel refusing nothing, whose fork-like child shares nothing but with clone3 rule rows refused by seccomp',
      mutate: (d) => {
        acceptWholeMatrix(d);
        acceptAllRules(d);
        clone3Seccomp(d);
        forkSharesNothing(d);
      },
      verdict: 'confirmed',
      says: ['Not judged as flag rules', 'EPERM'],
    },
  ],
);

ruleCases('A14', { verdict: 'nuanced', says: ['had a PID of its own', 'shared memory and signal handlers', 'differed from one with it in sameTgid'] }, [
  {
    name: 'two tasks of a thread group with the same PID',
    mutate: (d) => {
      const tasks = d.results('threadGroupIds')[0]!.tasks;
      tasks[1]!.statusPid = tasks[0]!.statusPid;
    },
    verdict: 'refuted',
    says: ['shared a PID'],
  },
  {
    name: 'a child joining the thread group without sharing memory',
    mutate: (d) => (row(d, 'clone3', 'VM|FS|FILES|SIGHAND|THREAD|SYSVSEM').shared!.memory = false),
    verdict: 'refuted',
    says: ['clone3 VM|FS|FILES|SIGHAND|THREAD|SYSVSEM'],
  },
  {
    name: 'a kernel where sharing memory and handlers is all a thread is, with no PID namespaces observed',
    mutate: (d) => {
      for (const api of ['clone', 'clone3'] as const) Object.assign(row(d, api, 'VM|SIGHAND'), { sameTgid: true, waitable: false, exitSignalToCaller: false });
      d.drop('pidnsInnerLookup');
    },
    verdict: 'confirmed',
    says: ['behaved the same with or without CLONE_THREAD'],
    saysNot: ['But', 'namespace'],
  },
  {
    name: 'CLONE_VM|CLONE_SIGHAND|CLONE_THREAD refused with EINVAL',
    mutate: (d) => {
      const r = row(d, 'clone', 'VM|SIGHAND|THREAD');
      for (const k of Object.keys(r) as (keyof ShareRow)[]) if (k !== 'flags') delete r[k];
      Object.assign(r, { accepted: false, errno: 'EINVAL' });
    },
    verdict: 'inconclusive',
    says: ['refused (EINVAL) VM|SIGHAND|THREAD'],
  },
  {
    name: 'no thread group had any task',
    mutate: (d) => d.results('threadGroupIds').forEach((g) => (g.tasks = [])),
    verdict: 'inconclusive',
    says: ['No task of a thread group'],
  },
  {
    name: "no thread sharing its creator's TGID in the matrix: the clause is not said",
    mutate: (d) =>
      matrix(d)
        .filter((r) => r.sameTgid && r.flags !== 'VM|SIGHAND|THREAD')
        .forEach((r) => (r.sameTgid = false)),
    verdict: 'nuanced',
    says: ['Every one of the 2 matrix children'],
  },
]);

ruleCases(
  'B2',
  {
    verdict: 'nuanced',
    says: [
      'the flags decided files, fs, sysvsem',
      'memory and sighand were shared by every thread',
      'CLONE_THREAD combinations without CLONE_SIGHAND were refused (EINVAL)',
      'the rule rows agree',
    ],
  },
  [
    {
      name: 'a thread sharing its fd table without CLONE_FILES',
      mutate: (d) => (row(d, 'clone', 'VM|SIGHAND|THREAD').shared!.files = true),
      verdict: 'refuted',
      says: ['clone VM|SIGHAND|THREAD: files shared'],
    },
    {
      name: 'a kernel accepting CLONE_THREAD without CLONE_SIGHAND or CLONE_VM, sharing by the flags',
      mutate: (d) => {
        matrix(d)
          .filter((r) => has(r, 'THREAD') && !r.accepted)
          .forEach(acceptByFlags);
        setRule(d, THREAD_SIGHAND, 'ok');
      },
      verdict: 'confirmed',
      says: ['no resource was shared by every thread'],
    },
    {
      name: 'zero accepted thread rows',
      mutate: noThreads,
      verdict: 'inconclusive',
      says: ['No accepted CLONE_THREAD child of the sharing matrix was observed'],
      saysNot: ['always', 'every thread'],
    },
    {
      name: 'the rule rows refused with EPERM (seccomp): the matrix still says why',
      mutate: (d) => ruleRows(d).forEach((r) => (r.result = 'EPERM')),
      verdict: 'nuanced',
      says: ['were refused (EINVAL)', 'Not judged as flag rules'],
      saysNot: ['the rule rows agree'],
    },
    {
      name: 'cloneRules not observed at all',
      mutate: (d) => d.drop('cloneRules'),
      verdict: 'nuanced',
      saysNot: ['rule rows'],
    },
  ],
);

ruleCases('B3', { verdict: 'nuanced', says: ['shared none of memory', 'open file descriptions', 'MAP_SHARED memory', 'its namespaces (pid'] }, [
  {
    name: "a fork-like child joining the caller's thread group",
    mutate: (d) => Object.assign(row(d, 'clone', 'none'), { sameTgid: true, waitable: false, exitSignalToCaller: false }),
    verdict: 'refuted',
    says: ["through clone it joined the caller's thread group", 'could not wait for it'],
  },
  {
    name: 'a fork-like child sharing memory',
    mutate: (d) => (row(d, 'clone3', 'none').shared!.memory = true),
    verdict: 'refuted',
    says: ['memory (clone3)'],
  },
  {
    name: 'a fork-like child that shares nothing at all',
    mutate: forkSharesNothing,
    verdict: 'confirmed',
    says: ['It shared no open file description', 'its namespaces differed (pid'],
    saysNot: ['But'],
  },
  {
    name: 'a fork-like child not sharing file offsets',
    mutate: (d) => Object.assign(d.result('forkLikeShares'), { offsetSeenByParent: 0, offsetShared: false }),
    verdict: 'nuanced',
    saysNot: ['open file descriptions'],
  },
  {
    name: 'an emulator refusing clone with no sharing flag',
    mutate: (d) => {
      const r = row(d, 'clone', 'none');
      for (const k of Object.keys(r) as (keyof ShareRow)[]) if (k !== 'flags') delete r[k];
      Object.assign(r, { accepted: false, errno: 'EINVAL' });
    },
    verdict: 'refuted',
    says: ['clone refused it with EINVAL'],
  },
  {
    name: 'no matrix row without sharing flags',
    mutate: (d) => d.results('cloneMatrix').forEach((m) => (m.rows = m.rows.filter((r) => r.flags !== 'none'))),
    verdict: 'inconclusive',
    says: ['No matrix row with no sharing flag'],
  },
]);

// The old first-sentence "why" stopped at "(all with EINVAL, e.g.": the summary is whole and names the refusals.
ruleCases(
  'B4',
  {
    verdict: 'refuted',
    says: ['128 of 256 through clone (EINVAL)', 'CLONE_THREAD needs CLONE_SIGHAND (clone VM|THREAD: EINVAL'],
    summarySays: [/^The kernel refused 256 of 512 combinations of the eight sharing flags \(EINVAL; first clone \S+\) and \d+ other flag sets with EINVAL\.$/],
  },
  [
    {
      name: 'a kernel accepting every combination and flag set',
      mutate: (d) => {
        acceptWholeMatrix(d);
        acceptAllRules(d);
      },
      verdict: 'confirmed',
      says: ['accepted all 512 combinations'],
    },
    {
      name: 'every combination accepted, but the other flag sets refused with EPERM (seccomp)',
      mutate: (d) => {
        acceptWholeMatrix(d);
        ruleRows(d).forEach((r) => (r.result = r.expected === 'ok' ? 'ok' : 'EPERM'));
      },
      verdict: 'inconclusive',
      says: ['an environment refusal, not a flag rule', 'clone(VM|THREAD) was refused with EPERM'],
      saysNot: ['The kernel refused'],
    },
    {
      name: 'the whole matrix refused with EPERM (seccomp)',
      mutate: (d) => d.fail('cloneMatrix', MATRIX_EPERM),
      verdict: 'inconclusive',
      says: ['EPERM'],
      saysNot: ['The kernel refused'],
    },
    {
      name: 'clone3 refused with EPERM by seccomp: its rule rows are set aside, the clone rows still refute',
      mutate: clone3Seccomp,
      verdict: 'refuted',
      says: ['Not judged as flag rules', 'clone3(VM|THREAD) EPERM', 'clone VM|THREAD: EINVAL'],
      saysNot: ['clone3 VM|THREAD: EINVAL'],
    },
    {
      name: 'a kernel accepting CLONE_THREAD|CLONE_NEWPID',
      mutate: (d) => setRule(d, THREAD_NEWPID, 'ok'),
      verdict: 'refuted',
      says: ['It accepted flag sets documented Linux refuses: clone(VM|SIGHAND|THREAD|NEWPID)'],
    },
  ],
);

ruleCases(
  'C2',
  {
    verdict: 'nuanced',
    says: [
      "clone returned the new task's own ID, its gettid(2)",
      'pthread_create(3) called clone3(',
      "the new thread's TID",
      "getpid(2) gave the creator's TGID",
      'with clone3, not clone(2) itself',
    ],
  },
  [
    {
      name: "clone not returning the child's TID",
      mutate: (d) => (row(d, 'clone', 'VM|SIGHAND|THREAD').returnedChildTid = false),
      verdict: 'refuted',
      says: ["did not return the new thread's own TID", 'clone VM|SIGHAND|THREAD'],
    },
    {
      name: 'a kernel whose threads get their own TID from getpid(), and a libc creating them with clone',
      mutate: (d) => {
        matrix(d)
          .filter((r) => r.accepted && has(r, 'THREAD'))
          .forEach((r) => (r.returnedChildGetpid = true));
        d.result('libcCreation', 'pthread_create').syscall = 'clone';
      },
      verdict: 'confirmed',
      says: ['pthread_create(3) called clone(', 'also what getpid(2) returned'],
      saysNot: ['called clone3', 'with clone3, not'],
    },
    {
      name: "pthread_create's clone3 returning something other than the thread's TID",
      mutate: (d) => (d.result('libcCreation', 'pthread_create').returned = 4242),
      verdict: 'nuanced',
      says: ['which returned 4242, while the new thread'],
      saysNot: ["4242, the new thread's TID"],
    },
    {
      name: 'pthread_create seen calling clone (clone3 refused first)',
      mutate: (d) => Object.assign(d.result('libcCreation', 'pthread_create'), { syscall: 'clone', failedFirst: ['clone3: ENOSYS'] }),
      verdict: 'nuanced',
      says: ['called clone(CLONE_VM', 'after clone3: ENOSYS'],
      saysNot: ['with clone3, not clone(2)'],
    },
    {
      name: 'strace output that could not be parsed (libcCreation incomplete)',
      mutate: (d) =>
        d.fail(
          'libcCreation',
          'which system call pthread_create used could not be told: strace line not understood: 123 clone3({flags=CLONE_VM',
          'pthread_create',
        ),
      verdict: 'nuanced',
      says: ['strace line not understood'],
      saysNot: ['pthread_create(3) called', 'with clone3, not'],
    },
    {
      name: 'zero thread rows',
      mutate: noThreads,
      verdict: 'inconclusive',
      says: ['No accepted CLONE_THREAD child'],
    },
  ],
);

ruleCases(
  'C5',
  {
    verdict: 'nuanced',
    says: [
      'files, fs, sysvsem followed their flags',
      'memory and sighand were shared by every thread',
      'CLONE_THREAD cannot go with CLONE_NEWPID (clone VM|SIGHAND|THREAD|NEWPID: EINVAL',
    ],
  },
  [
    {
      name: 'a thread sharing fs info without CLONE_FS',
      mutate: (d) => (row(d, 'clone3', 'VM|SIGHAND|THREAD').shared!.fs = true),
      verdict: 'refuted',
      says: ['clone3 VM|SIGHAND|THREAD: fs shared'],
    },
    {
      name: 'a kernel accepting CLONE_THREAD|CLONE_NEWPID',
      mutate: (d) => setRule(d, THREAD_NEWPID, 'ok'),
      verdict: 'nuanced',
      says: ['The kernel accepted clone(VM|SIGHAND|THREAD|NEWPID)', 'CLONE_THREAD cannot go with CLONE_NEWUSER (clone'],
      saysNot: ['NEWPID: EINVAL'],
    },
    {
      name: 'a kernel where the flags decide everything a thread shares',
      mutate: (d) => {
        matrix(d)
          .filter((r) => has(r, 'THREAD') && !r.accepted)
          .forEach(acceptByFlags);
        setRule(d, THREAD_NEWPID, 'ok');
        setRule(d, THREAD_NEWUSER, 'ok');
      },
      verdict: 'confirmed',
      says: ['memory, files, fs, sighand, sysvsem followed their flags'],
      saysNot: ['But', 'every thread'],
    },
    {
      name: 'the namespace rule rows refused with EPERM (seccomp)',
      mutate: (d) => [THREAD_NEWPID, THREAD_NEWUSER].forEach((rule) => setRule(d, rule, 'EPERM')),
      verdict: 'inconclusive',
      says: ['refused by the environment', 'EPERM'],
      saysNot: ['the kernel refused'],
    },
    {
      name: 'zero thread rows',
      mutate: noThreads,
      verdict: 'inconclusive',
      says: ['No accepted CLONE_THREAD child'],
      saysNot: ['always shared'],
    },
  ],
);

describe('parseCreationTrace (the strace log of one libc call)', () => {
  test('a clone3 line, flags and return value', () => {
    const p = parseCreationTrace('22397 clone3({flags=CLONE_VM|CLONE_THREAD, exit_signal=0} => {parent_tid=[22398]}, 88) = 22398\n');
    expect(p).toEqual({ ok: { syscall: 'clone3', flags: 'CLONE_VM|CLONE_THREAD', returned: 22398, failedFirst: [] } });
  });
  test('vfork has no flags; a failed clone3 before a fallback is kept', () => {
    expect(parseCreationTrace('1 clone3({flags=CLONE_VM}, 88) = -1 ENOSYS (Function not implemented)\n1 vfork()                           = 2\n')).toEqual({
      ok: { syscall: 'vfork', returned: 2, failedFirst: ['clone3: ENOSYS'] },
    });
  });
  test('a split call is joined', () => {
    const p = parseCreationTrace('5 clone(child_stack=NULL, flags=CLONE_CHILD_SETTID|SIGCHLD <unfinished ...>\n5 <... clone resumed>, child_tidptr=0x1) = 6\n');
    expect(p).toEqual({ ok: { syscall: 'clone', flags: 'CLONE_CHILD_SETTID|SIGCHLD', returned: 6, failedFirst: [] } });
  });
  test.for([
    ['', 'showed 0 creating system calls'],
    ['5 clone(flags=CLONE_VM) = ?\n', 'not understood'],
    ['5 clone(flags=X <unfinished ...>\n', 'unfinished'],
    ['5 clone(flags=CLONE_VM) = 6\n5 clone(flags=CLONE_VM) = 7\n', 'showed 2 creating system calls'],
  ])('%j is not an observation: %s', ([trace, problem]) => {
    const p = parseCreationTrace(trace!);
    expect('problem' in p && p.problem).toContain(problem);
  });
});

/**
 * A real run under qemu's user-mode emulator (`npm run report -- --probe-wrapper
 * qemu-user`): its do_fork() (linux-user/syscall.c) refuses with EINVAL every
 * CLONE_VM set but the whole thread set, and every set without CLONE_VM that
 * carries a sharing flag, and makes CLONE_VM|CLONE_VFORK a plain fork. Its
 * matrix and flag-rule rows take the place of the healthy run's.
 */
describe('under qemu-user (a real run: cases/rules/fixtures/emulator/qemu-user.json)', () => {
  const qemu = JSON.parse(readFileSync(join(FIXTURE_DIR, 'emulator', 'qemu-user.json'), 'utf8')) as {
    environment: { probeWrapper: string };
    observations: RecordedObservation[];
  };
  const emulated = (): Draft => {
    const d = new Draft(healthyObservations().filter((o) => o.kind !== 'cloneMatrix' && o.kind !== 'cloneRules'));
    d.list.push(...structuredClone(qemu.observations));
    return d.environment({ probeWrapper: qemu.environment.probeWrapper });
  };
  const verdicts = [
    // Read from refusals: qemu refused flag sets the kernel allows (clone VM), so no EINVAL is the kernel's.
    {
      id: 'A5',
      verdict: 'inconclusive',
      says: [/refused with EINVAL \(clone VM, /, 'the wrapper qemu-x86_64', "no EINVAL of this run can be read as the kernel's flag rule"],
    },
    { id: 'B4', verdict: 'inconclusive', says: ['the wrapper qemu-x86_64', 'refuses more than the kernel'] },
    // Accepted rows still count: qemu's vfork is a fork, so CLONE_VM|CLONE_VFORK shared no memory.
    { id: 'A10', verdict: 'refuted', says: ['clone VM|VFORK: memory not shared', 'The probes ran under the wrapper qemu-x86_64'] },
    { id: 'A9', verdict: 'refuted', says: ['the caller was not suspended and memory was not shared', 'qemu-x86_64'] },
    { id: 'A14', verdict: 'inconclusive', says: ['refused (EINVAL) VM|SIGHAND', 'qemu-x86_64'] },
    { id: 'B2', verdict: 'inconclusive', says: ['the wrapper qemu-x86_64'], saysNot: ['were refused (EINVAL)'] },
    { id: 'C5', verdict: 'inconclusive', says: ['the wrapper qemu-x86_64'], saysNot: ['the kernel refused'] },
  ] as const;
  for (const v of verdicts) {
    test(`${v.id} is ${v.verdict}, and says why`, () => {
      const d = emulated();
      const e = judge(v.id, d.list, d.env);
      expect(e.broken, e.broken).toBeUndefined();
      expect(e.verdict, e.explanation).toBe(v.verdict);
      for (const p of v.says)
        expect(typeof p === 'string' ? e.explanation.includes(p) : p.test(e.explanation), `should say ${p}:\n${e.explanation}`).toBe(true);
      for (const p of 'saysNot' in v ? v.saysNot : []) expect(e.explanation, e.explanation).not.toContain(p);
    });
  }

  test('without a wrapper recorded, the refusals beyond the flag rules are still told apart (unnamed)', () => {
    const d = emulated().environment({ probeWrapper: null });
    const e = judge('B4', d.list, d.env);
    expect(e.verdict).toBe('inconclusive');
    expect(e.explanation).toContain('something between the probe and the kernel');
  });

  test('one control the kernel accepts, refused with EINVAL, is enough to stop reading EINVAL as a flag rule', () => {
    const d = new Draft(healthyObservations());
    setRule(d, 'control: a thread-like flag set is accepted', 'EINVAL', 'clone');
    const e = judge('A5', d.list, d.env);
    expect(e.verdict).toBe('inconclusive');
    expect(e.explanation).toContain('clone(VM|FS|FILES|SIGHAND|THREAD|SYSVSEM)');
  });
});
