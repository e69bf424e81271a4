/**
 * clone(2) and clone3(2): what each flag makes a child share, which flag
 * sets the kernel refuses, and what libc's creation functions really call.
 *
 * The flag checks are in kernel/fork.c, copy_process() and clone3_args_valid().
 *
 * Every observation is built inside `observe(...)`, the probe's completion
 * included: a probe that fails, a step of the experiment that fails (an
 * "error" record of the clone probe: the child's chdir, the parent's getcwd),
 * or a flag set refused with an errno other than EINVAL (a seccomp filter, a
 * pids limit: not a flag rule) leaves the observation incomplete with that
 * reason instead of a row that would read "not shared". A feature that is
 * absent (clone3 answering ENOSYS to everything, strace missing) skips the
 * test with its reason.
 *
 * Claims: A5 A9 A10 A14 B1 B2 B3 B4 C2 C5
 */
import { readFileSync } from 'node:fs';
import { execa } from 'execa';
import { file as tmpFile } from 'tmp-promise';
import { describe, expect } from 'vitest';
import { environment } from '../../helpers/harness/environment.js';
import { must, needs, test, Unobserved, unobservedUnless, type Evidence } from '../../helpers/observations.js';
import { Probe, probeWrap, runProbe } from '../../helpers/harness/probe.js';
import type { ProbeRecord, ProbeRecordOf } from '../../helpers/harness/records.js';
import { FLAG_RULE_ERRNO, type CloneRuleRow, type ShareRow } from '../../helpers/claims/clone.js';
import { flagRulesAllow } from '../../helpers/claims/clone-matrix.js';
import { whyNamespaceRefused } from '../../helpers/claims/namespaces.js';
import { usernsSettings } from '../../helpers/harness/needs.js';
import { CREATION_TRACE_FILTER, parseCreationTrace } from '../../helpers/claims/clone-trace.js';
import { list } from '../../helpers/claims/prose.js';

const has = (flags: string, f: string) => flags.split('|').includes(f);

/** A feature this run does not have: the observation is incomplete with this reason, and the test is skipped. */
class Unavailable extends Unobserved {}

/** Skip the test when the observation found a feature missing; otherwise fail it with the error. */
const skipIfUnavailable =
  (skip: (note: string) => never) =>
  (e: unknown): never => {
    if (e instanceof Unavailable) skip(e.message);
    throw e;
  };

const shareRecords = (records: ProbeRecord[]) => records.filter((r): r is ProbeRecordOf<'share'> => r.event === 'share');

/** Steps of the experiment that failed, as the probe reported them ("chdir in the child (clone flags FS): EACCES"). */
const failedSteps = (records: ProbeRecord[]) => records.flatMap((r) => (r.event === 'error' ? [`${r.op}: ${r.errno}`] : []));

function noFailedSteps(records: ProbeRecord[]): void {
  const failed = failedSteps(records);
  unobservedUnless(!failed.length, `steps of the experiment failed, so what they measure was not seen: ${list(failed, 4)}`);
}

/** A matrix record as a row: each resource shared when every part of it was. Every field it needs must be there. */
function toRow(r: ProbeRecordOf<'share'>): ShareRow {
  const what = `${r.api}(${r.flags})`;
  if (!r.accepted) return { flags: r.flags, accepted: false, errno: must(r.errno, `the errno of the refused ${what}`) };
  unobservedUnless(!r.hung, `the child of ${what} never said it was done (killed after 3 s)`);
  unobservedUnless(r.exited === true, `the child of ${what} was not seen to exit, so its SysV undo and exit signal were not settled`);
  const field = <T>(v: T | undefined, name: string) => must(v, `${name} for ${what}`);
  const suspended = field(r.callerSuspended, 'whether the creator was suspended');
  unobservedUnless(
    suspended === 0 || suspended === 1,
    `whether the creator of ${what} was suspended could not be told (neither its return from clone nor its 'D' state was seen)`,
  );
  const filesOpen = field(r.filesOpen, "the child's dup2 seen");
  const filesClose = field(r.filesClose, "the child's close seen");
  const fsCwd = field(r.fsCwd, "the child's chdir seen");
  const fsUmask = field(r.fsUmask, "the child's umask seen");
  const returned = field(r.cloneReturned, 'the value clone returned');
  const inconsistent = [
    filesOpen !== filesClose ? `files: the child's dup2 ${filesOpen ? 'was' : 'was not'} seen, its close ${filesClose ? 'was' : 'was not'}` : '',
    fsCwd !== fsUmask ? `fs: cwd ${fsCwd ? 'shared' : 'not shared'}, umask ${fsUmask ? 'shared' : 'not shared'}` : '',
  ].filter(Boolean);
  return {
    flags: r.flags,
    accepted: true,
    shared: {
      memory: field(r.memory, 'memory'),
      files: filesOpen && filesClose,
      fs: fsCwd && fsUmask,
      sighand: field(r.sighand, 'signal handlers'),
      sysvsem: field(r.sysvsem, 'SysV undo'),
    },
    sameTgid: field(r.sameTgid, "the child's getpid() compared with the creator's"),
    waitable: field(r.waitable, 'waitable'),
    exitSignalToCaller: field(r.exitSignalToCaller, 'the exit signal'),
    parentIsCallersParent: field(r.parentIsCallersParent, "the child's getppid()"),
    callerSuspended: suspended === 1,
    returnedChildTid: returned === field(r.childGettid, "the child's gettid()"),
    returnedChildGetpid: returned === field(r.childGetpid, "the child's getpid()"),
    ...(inconsistent.length ? { inconsistent } : {}),
  };
}

/** What each flag should make observable (clone(2) DESCRIPTION, per flag). */
const FLAG_EFFECTS: { flag: string; seen: (r: ShareRow) => boolean | undefined }[] = [
  { flag: 'VM', seen: (r) => r.shared?.memory },
  { flag: 'FILES', seen: (r) => r.shared?.files },
  { flag: 'FS', seen: (r) => r.shared?.fs },
  { flag: 'SIGHAND', seen: (r) => r.shared?.sighand },
  { flag: 'SYSVSEM', seen: (r) => r.shared?.sysvsem },
  { flag: 'THREAD', seen: (r) => r.sameTgid },
  { flag: 'VFORK', seen: (r) => r.callerSuspended },
];

/** The API cannot be used here at all: every flag set answered ENOSYS, or the probe has no clone3 trampoline. */
function unavailableApi(api: string, records: ProbeRecord[]): void {
  if (records.some((r) => r.event === 'error' && r.op === 'clone3-trampoline'))
    throw new Unavailable(`no clone3 trampoline for ${environment().arch} in the clone probe`);
  const shares = shareRecords(records);
  if (shares.length && shares.every((r) => !r.accepted && r.errno === 'ENOSYS')) {
    throw new Unavailable(`${api} is not available here: it answered ENOSYS to every flag set (kernel before 5.3, or a seccomp filter)`);
  }
}

describe('the sharing matrix', () => {
  test.for(['clone', 'clone3'] as const)('all 256 combinations of the eight sharing flags through %s', async (api, { observe, skip }) => {
    const m = await observe('cloneMatrix', api, async (evidence) => {
      const t0 = performance.now();
      const run = await runProbe('clone', ['--matrix', '--api', api], { timeoutMs: 60_000 });
      const probeMs = performance.now() - t0;
      evidence.records = run.records;
      unavailableApi(api, run.records);
      noFailedSteps(run.records);
      const records = shareRecords(run.records);
      unobservedUnless(records.length === 256, `the probe reported ${records.length} of the 256 combinations`);
      // EINVAL is the flag rule; anything else is the environment (seccomp EPERM/ENOSYS, EAGAIN from a pids limit, ENOMEM).
      const env = records.filter((r) => !r.accepted && r.errno !== FLAG_RULE_ERRNO);
      unobservedUnless(
        !env.length,
        `${api} refused ${env.length} of 256 combinations with ${[...new Set(env.map((r) => r.errno ?? 'no errno'))].join('/')} (${list(
          env.map((r) => r.flags),
          3,
        )}): an environment refusal, not a flag rule`,
      );
      const rows = records.map(toRow);
      const totalNs = records.reduce((n, r) => n + must(r.ns, `the time taken by ${api}(${r.flags})`), 0);
      return { api, rows, probeMs, perComboUs: totalNs / records.length / 1000 };
    }).catch(skipIfUnavailable(skip));

    expect(m.rows).toHaveLength(256);
    for (const r of m.rows) {
      const f = (x: string) => has(r.flags, x);
      // copy_process()'s flag rules, as the claim rules read them (clone-matrix.ts).
      expect(r.accepted, `${r.flags}: ${r.errno ?? 'accepted'}`).toBe(flagRulesAllow(r));
      if (!r.accepted) continue;
      expect(r.inconsistent, r.flags).toBeUndefined();
      for (const e of FLAG_EFFECTS) expect(e.seen(r), `${r.flags}: ${e.flag}`).toBe(f(e.flag));
      // A thread or a CLONE_PARENT child belongs to the caller's parent: not waitable, no signal to the caller.
      const callersChild = !f('THREAD') && !f('PARENT');
      expect(r.waitable, `${r.flags}: waitable`).toBe(callersChild);
      expect(r.exitSignalToCaller, `${r.flags}: exit signal`).toBe(callersChild);
      expect(r.parentIsCallersParent, `${r.flags}: parent`).toBe(!callersChild);
      expect(r.returnedChildTid, `${r.flags}: clone returned the child's TID`).toBe(true);
      // getpid() is the TGID (getpid(2)): the child's own TID unless it joined the caller's group.
      expect(r.returnedChildGetpid, `${r.flags}: clone returned the child's getpid()`).toBe(!f('THREAD'));
    }
  });
});

/** Flag sets the kernel must refuse, and two it must accept (controls). */
const RULES: { rule: string; flags: string; apis: ('clone' | 'clone3')[]; exitSignal?: number; expected: string }[] = [
  { rule: 'CLONE_THREAD needs CLONE_SIGHAND', flags: 'VM,THREAD', apis: ['clone', 'clone3'], expected: 'EINVAL' },
  { rule: 'CLONE_SIGHAND needs CLONE_VM', flags: 'SIGHAND', apis: ['clone', 'clone3'], expected: 'EINVAL' },
  { rule: 'CLONE_FS cannot go with CLONE_NEWNS', flags: 'FS,NEWNS', apis: ['clone', 'clone3'], expected: 'EINVAL' },
  { rule: 'CLONE_FS cannot go with CLONE_NEWUSER', flags: 'FS,NEWUSER', apis: ['clone', 'clone3'], expected: 'EINVAL' },
  { rule: 'CLONE_THREAD cannot go with CLONE_NEWPID', flags: 'VM,SIGHAND,THREAD,NEWPID', apis: ['clone', 'clone3'], expected: 'EINVAL' },
  { rule: 'CLONE_THREAD cannot go with CLONE_NEWUSER', flags: 'VM,SIGHAND,THREAD,NEWUSER', apis: ['clone', 'clone3'], expected: 'EINVAL' },
  { rule: 'CLONE_SIGHAND cannot go with CLONE_CLEAR_SIGHAND', flags: 'VM,SIGHAND,CLEAR_SIGHAND', apis: ['clone3'], expected: 'EINVAL' },
  { rule: 'legacy clone: CLONE_PIDFD and CLONE_PARENT_SETTID share one argument', flags: 'PIDFD,PARENT_SETTID', apis: ['clone'], expected: 'EINVAL' },
  { rule: 'clone3: CLONE_THREAD with a non-zero exit signal', flags: 'VM,SIGHAND,THREAD', apis: ['clone3'], exitSignal: 17, expected: 'EINVAL' },
  { rule: 'clone3: CLONE_PARENT with a non-zero exit signal', flags: 'PARENT', apis: ['clone3'], exitSignal: 17, expected: 'EINVAL' },
  { rule: 'control: clone3 takes CLONE_PIDFD with CLONE_PARENT_SETTID (separate fields)', flags: 'PIDFD,PARENT_SETTID', apis: ['clone3'], expected: 'ok' },
  { rule: 'control: a thread-like flag set is accepted', flags: 'VM,FS,FILES,SIGHAND,THREAD,SYSVSEM', apis: ['clone', 'clone3'], expected: 'ok' },
];

test('flag sets the kernel refuses, with the errno (one probe, one row each)', async ({ observe }) => {
  const wanted = RULES.flatMap((r) => r.apis.map((api) => ({ ...r, api })));
  const args = wanted.flatMap((r) => ['--try', `${r.api}:${r.flags}${r.exitSignal !== undefined ? `:${r.exitSignal}` : ''}`]);
  const { rows } = await observe('cloneRules', `${wanted.length} rows`, async (evidence) => {
    const run = await runProbe('clone', args);
    const tries = run.records.filter((r): r is ProbeRecordOf<'try'> => r.event === 'try');
    evidence.records = tries;
    unobservedUnless(tries.length === wanted.length, `the probe answered ${tries.length} of the ${wanted.length} flag sets`);
    // Each row keeps what this kernel answered, EPERM or ENOSYS included: the rules set
    // a row refused with another errno than EINVAL aside as an environment refusal.
    return {
      rows: wanted.map((r, i): CloneRuleRow => {
        const t = must(tries[i], `the answer to ${r.api}(${r.flags})`);
        unobservedUnless(t.api === r.api, `the probe answered ${t.api} where ${r.api}(${r.flags}) was asked`);
        return { rule: r.rule, api: r.api, flags: t.flags, exitSignal: t.exitSignal, expected: r.expected, result: t.result };
      }),
    };
  });

  const clone3 = rows.filter((r) => r.api === 'clone3');
  const clone3Missing = clone3.length > 0 && clone3.every((r) => r.result === 'ENOSYS');
  for (const r of rows) {
    if (r.api === 'clone3' && clone3Missing) continue; // recorded; the rules set these rows aside as not a flag rule
    expect(r.result, `${r.api} ${r.flags}: ${r.rule}`).toBe(r.expected);
  }
});

const NAMESPACE_FLAGS = [
  { flag: 'NEWPID', ns: 'pid' },
  { flag: 'NEWNS', ns: 'mnt' },
  { flag: 'NEWUTS', ns: 'uts' },
  { flag: 'NEWIPC', ns: 'ipc' },
  { flag: 'NEWNET', ns: 'net' },
  { flag: 'NEWCGROUP', ns: 'cgroup' },
  { flag: 'NEWUSER', ns: 'user' },
];

/** "pid:1/2,mnt:3/3" -> namespaces whose inode differs, and those the same (every inode read: the probe reports a failed read as an error). */
function compareNamespaces(s: string): { differ: string[]; same: string[] } {
  const pairs = s.split(',').map((p) => {
    const m = p.match(/^(\w+):(\d+)\/(\d+)$/);
    const [name, a, b] = [m?.[1], m?.[2], m?.[3]];
    unobservedUnless(name !== undefined && a !== undefined && b !== undefined && a !== '0' && b !== '0', `namespace inode pair not understood: "${p}"`);
    return { name, same: a === b };
  });
  return { differ: pairs.filter((p) => !p.same).map((p) => p.name), same: pairs.filter((p) => p.same).map((p) => p.name) };
}

/**
 * One child with these flags (share --flags): its share and shareDetail
 * records, every step done. A refused flag set is `refused` (the caller
 * decides whether that means unavailable or incomplete).
 */
async function oneChild(flags: string, api: 'clone' | 'clone3', evidence: Evidence, refused: (errno: string) => never) {
  const run = await runProbe('clone', ['--flags', flags, '--api', api]);
  evidence.records = run.records;
  unavailableApi(api, run.records);
  const share = must(shareRecords(run.records)[0], `the share record of ${api}(${flags})`);
  if (!share.accepted) refused(must(share.errno, `the errno of the refused ${api}(${flags})`));
  noFailedSteps(run.records);
  const detail = must(
    run.records.find((r): r is ProbeRecordOf<'shareDetail'> => r.event === 'shareDetail'),
    `the shareDetail record of ${api}(${flags})`,
  );
  return { share, detail, childTid: must(share.childGettid, `the child's gettid() for ${api}(${flags})`) };
}

describe('namespaces', () => {
  test.for(NAMESPACE_FLAGS)('CLONE_$flag gives the child a new $ns namespace and nothing else new', async ({ flag, ns }, { observe, skip }) => {
    const withUserns = environment().euid !== 0 && flag !== 'NEWUSER';
    const flags = withUserns ? `${flag},NEWUSER` : flag;
    const r = await observe('cloneNamespaces', flags, async (evidence) => {
      const { detail } = await oneChild(flags, 'clone', evidence, (errno) => {
        throw new Unavailable(whyNamespaceRefused(`clone(CLONE_${flags.replace(',', '|CLONE_')})`, errno, { ...environment(), usernsSettings }));
      });
      return { flag, withUserns, accepted: true, ...compareNamespaces(detail.namespaces) };
    }).catch(skipIfUnavailable(skip));
    const expected = withUserns ? [ns, 'user'].sort() : [ns];
    expect([...r.differ].sort()).toEqual(expected);
  });
});

describe('IDs the kernel writes', () => {
  const refusedHere =
    (api: string, flags: string) =>
    (errno: string): never => {
      throw errno === 'ENOSYS'
        ? new Unavailable(`${api} is not available here (ENOSYS): kernel before 5.3, or a seccomp filter`)
        : new Unobserved(`${api}(${flags}) was refused with ${errno}`);
    };

  test.for(['clone', 'clone3'] as const)('CLONE_PARENT_SETTID and CLONE_CHILD_CLEARTID through %s', async (api, { observe, skip }) => {
    const flags = 'VM,SIGHAND,THREAD,PARENT_SETTID,CHILD_CLEARTID';
    const r = await observe('cloneIdsWritten', `${api} ${flags.replaceAll(',', '|')}`, async (evidence) => {
      const { detail, childTid } = await oneChild(flags, api, evidence, refusedHere(api, flags));
      const parentTid = must(detail.parentTid, 'parent_tid after CLONE_PARENT_SETTID');
      // child_tid started at -1 (clone.c, spawn()): 0 means the kernel cleared it.
      const cleared = must(detail.childTidAfterExit, 'child_tid after the child exited') === 0;
      return { api, flags: detail.flags, childTid, parentTid, childTidCleared: cleared };
    }).catch(skipIfUnavailable(skip));
    // clone(2): the new TID is stored at parent_tid; child_tid is zeroed (and a futex woken) at exit.
    expect(r.parentTid).toBe(r.childTid);
    expect(r.childTidCleared).toBe(true);
  });

  test.for(['clone', 'clone3'] as const)('CLONE_PIDFD through %s yields a pidfd whose fdinfo names the child', async (api, { observe, skip }) => {
    const r = await observe('cloneIdsWritten', `${api} PIDFD`, async (evidence) => {
      const { detail, childTid } = await oneChild('PIDFD', api, evidence, refusedHere(api, 'PIDFD'));
      const pidfd = must(detail.pidfd, 'the pidfd CLONE_PIDFD returned');
      const fdinfoPid = must(detail.pidfdPid, "the Pid: line of the pidfd's fdinfo");
      // After the child exited and was reaped, fdinfo says Pid: -1 (kernel/pid.c, pidfd_show_fdinfo()).
      return { api, flags: detail.flags, childTid, pidfd, ...(fdinfoPid === -1 ? { pidfdSaysExited: true } : { pidfdPid: fdinfoPid }) };
    }).catch(skipIfUnavailable(skip));
    expect(r.pidfd).toBeGreaterThanOrEqual(0);
    if (!r.pidfdSaysExited) expect(r.pidfdPid).toBe(r.childTid);
  });
});

test('a fork-like child (exit signal only) still shares open file descriptions, MAP_SHARED memory and namespaces', async ({ observe }) => {
  const f = await observe('forkLikeShares', 'flags none', async (evidence) => {
    const { share, detail } = await oneChild('none', 'clone', evidence, (errno) => {
      throw new Unobserved(`clone with no sharing flag was refused with ${errno}`);
    });
    const row = toRow(share);
    evidence.row = row;
    const offset = must(detail.offsetSeenByParent, "the parent's offset after the child's lseek");
    // The child lseek()ed to 100 from 0: any other value is neither shared nor private.
    unobservedUnless(offset === 0 || offset === 100, `the parent's offset was ${offset}, neither 0 (own offset) nor 100 (the child's)`);
    const cmp = compareNamespaces(detail.namespaces);
    return {
      offsetSeenByParent: offset,
      offsetShared: offset === 100,
      mapShared: detail.mapShared,
      namespacesSame: cmp.same,
      namespacesDiffer: cmp.differ,
      shared: must(row.shared, 'what the child shared'),
    };
  });
  expect(f.shared).toEqual({ memory: false, files: false, fs: false, sighand: false, sysvsem: false });
  // fork(2): the child's descriptors refer to the same open file descriptions (offsets shared).
  expect(f.offsetShared).toBe(true);
  expect(f.mapShared).toBe(true);
  expect(f.namespacesDiffer).toEqual([]);
});

describe('what libc calls', needs({ cmds: ['strace'] }), () => {
  test.for(['fork', 'vfork', 'pthread_create', 'posix_spawn'])('%s, seen by strace', async (call, { observe, skip }) => {
    // strace -f of a wrapped probe traces the wrapper's host system calls: qemu-user makes a guest thread
    // with its own pthread_create and a guest fork or vfork with fork() (linux-user/syscall.c, do_fork()),
    // whatever the probe's libc asked for, so what libc calls cannot be read from it.
    const wrap = probeWrap();
    if (wrap.length) return skip(`the probes run under ${wrap.join(' ')}: strace would see the wrapper's own system calls, not the ones libc made`);
    const version = await execa('strace', ['-V'], { reject: false });
    const straceVersion = must(
      version.exitCode === 0 ? version.stdout.split('\n')[0] : undefined,
      `the first line of strace -V (it exited ${version.exitCode})`,
    );
    const out = await tmpFile({ prefix: 'clonelab-strace-' });
    try {
      const r = await observe('libcCreation', call, async (evidence) => {
        const probe = new Probe('libcalls', ['--call', call], {
          prefix: ['strace', '-f', '-qq', '-e', 'signal=none', '-e', CREATION_TRACE_FILTER, '-o', out.path],
          prefixForks: true,
        });
        const finished = await probe.result().catch((e: unknown) => e);
        const trace = readFileSync(out.path, 'utf8');
        evidence.strace = trace.trim();
        evidence.records = probe.records;
        if (finished instanceof Error) {
          // Only strace's own complaint: a probe whose fork() got EPERM is a failed observation, not a missing tool.
          const straceSays = finished.message.split('\n').find((l) => /strace: .*(ptrace|PTRACE_)/i.test(l));
          if (straceSays) throw new Unavailable(`strace cannot trace here (ptrace not permitted): ${straceSays.trim()}`);
          throw finished;
        }
        const called = probe.all('called');
        unobservedUnless(called.length === 1, `the probe reported ${called.length} tasks made by ${call}(), where it makes one`);
        const made = must(called[0]?.made, `the ID of the task ${call}() made`);
        const parsed = parseCreationTrace(trace);
        if ('problem' in parsed) throw new Unobserved(`which system call ${call}() used could not be told: ${parsed.problem}`);
        const { failedFirst, ...seen } = parsed.ok;
        return { call, ...seen, made, ...(failedFirst.length ? { failedFirst } : {}), straceVersion };
      }).catch(skipIfUnavailable(skip));
      // The creating call returns the new task's ID in the caller (clone(2) RETURN VALUE).
      expect(r.returned, `${call}(): ${r.syscall} returned ${r.returned}, the task reported ${r.made}`).toBe(r.made);
      if (call === 'pthread_create') expect(r.flags).toContain('CLONE_THREAD');
    } finally {
      await out.cleanup();
    }
  });
});
