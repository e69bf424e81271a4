/**
 * clone(2) and clone3(2): what each flag makes a child share, which flag
 * sets the kernel refuses, and what libc's creation functions really call
 * (claims A5, A9, A10, A14, B2, B3, B4, C2, C5).
 *
 * The flag checks are in kernel/fork.c, copy_process() and clone3_args_valid().
 */
import { readFileSync } from 'node:fs';
import { execa } from 'execa';
import { file as tmpFile } from 'tmp-promise';
import { describe, expect } from 'vitest';
import { environment } from '../helpers/environment.js';
import { test } from '../helpers/observations.js';
import type { ShareRow } from '../helpers/rules/clone.js';
import { Probe, runProbe } from '../helpers/probe.js';
import type { ProbeRecordOf } from '../helpers/records.js';

const has = (flags: string, f: string) => flags.split('|').includes(f);

/** A matrix record as a row: each resource shared when every part of it was. */
function toRow(r: ProbeRecordOf<'share'>): ShareRow {
  if (!r.accepted) return { flags: r.flags, accepted: false, errno: r.errno ?? 'EUNKNOWN' };
  const inconsistent = [
    r.filesOpen !== r.filesClose ? `files: the child's dup2 ${r.filesOpen ? 'was' : 'was not'} seen, its close ${r.filesClose ? 'was' : 'was not'}` : '',
    r.fsCwd !== r.fsUmask ? `fs: cwd ${r.fsCwd ? 'shared' : 'not shared'}, umask ${r.fsUmask ? 'shared' : 'not shared'}` : '',
  ].filter(Boolean);
  return {
    flags: r.flags,
    accepted: true,
    shared: { memory: !!r.memory, files: !!(r.filesOpen && r.filesClose), fs: !!(r.fsCwd && r.fsUmask), sighand: !!r.sighand, sysvsem: !!r.sysvsem },
    sameTgid: !!r.sameTgid,
    waitable: !!r.waitable,
    exitSignalToCaller: !!r.exitSignalToCaller,
    parentIsCallersParent: !!r.parentIsCallersParent,
    callerSuspended: r.callerSuspended === 1,
    returnedChildTid: r.cloneReturned === r.childGettid,
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

describe('the sharing matrix', () => {
  test.for(['clone', 'clone3'] as const)('all 256 combinations of the eight sharing flags through %s', async (api, { observe, skip }) => {
    const t0 = performance.now();
    const run = await runProbe('share', ['--matrix', '--api', api], { timeoutMs: 60_000 });
    const probeMs = performance.now() - t0;
    const records = run.records.filter((r): r is ProbeRecordOf<'share'> => r.event === 'share');
    if (records.every((r) => !r.accepted && r.errno === 'ENOSYS')) skip(`${api} is not available here (ENOSYS): kernel before 5.3, or a seccomp filter`);
    const trampoline = run.records.find((r) => r.event === 'error' && r.op === 'clone3-trampoline');
    if (trampoline) skip(`no clone3 trampoline for ${environment().arch} in the share probe`);
    const rows = records.map(toRow);
    const totalNs = records.reduce((n, r) => n + (r.ns ?? 0), 0);
    observe('cloneMatrix', api, { api, rows, probeMs, perComboUs: totalNs / records.length / 1000 }, { records });

    expect(rows).toHaveLength(256);
    for (const r of rows) {
      const f = (x: string) => has(r.flags, x);
      // copy_process(): CLONE_THREAD needs CLONE_SIGHAND, CLONE_SIGHAND needs CLONE_VM.
      const valid = (!f('THREAD') || f('SIGHAND')) && (!f('SIGHAND') || f('VM'));
      expect(r.accepted, `${r.flags}: ${r.errno ?? 'accepted'}`).toBe(valid);
      if (!r.accepted) {
        expect(r.errno, r.flags).toBe('EINVAL');
        continue;
      }
      expect(r.inconsistent, r.flags).toBeUndefined();
      for (const e of FLAG_EFFECTS) expect(e.seen(r), `${r.flags}: ${e.flag}`).toBe(f(e.flag));
      // A thread or a CLONE_PARENT child belongs to the caller's parent: not waitable, no signal to the caller.
      const callersChild = !f('THREAD') && !f('PARENT');
      expect(r.waitable, `${r.flags}: waitable`).toBe(callersChild);
      expect(r.exitSignalToCaller, `${r.flags}: exit signal`).toBe(callersChild);
      expect(r.parentIsCallersParent, `${r.flags}: parent`).toBe(!callersChild);
      expect(r.returnedChildTid, `${r.flags}: clone returned the child's TID`).toBe(true);
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
  const rows = RULES.flatMap((r) => r.apis.map((api) => ({ ...r, api })));
  const args = rows.flatMap((r) => ['--try', `${r.api}:${r.flags}${r.exitSignal !== undefined ? `:${r.exitSignal}` : ''}`]);
  const run = await runProbe('share', args);
  const tries = run.records.filter((r): r is ProbeRecordOf<'try'> => r.event === 'try');
  const observed = rows.map((r, i) => ({ rule: r.rule, api: r.api, flags: tries[i]!.flags, exitSignal: tries[i]!.exitSignal, expected: r.expected, result: tries[i]!.result }));
  observe('cloneRules', `${observed.length} rows`, { rows: observed }, { records: tries });

  expect(tries).toHaveLength(rows.length);
  const clone3Missing = observed.some((r) => r.api === 'clone3' && r.result === 'ENOSYS');
  for (const r of observed) {
    if (r.api === 'clone3' && clone3Missing) continue; // recorded; the claims say clone3 was not there
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

/** "pid:1/2,mnt:3/3" -> namespaces whose inode differs, and those the same. */
function compareNamespaces(s: string): { differ: string[]; same: string[] } {
  const pairs = s.split(',').map((p) => p.split(/[:/]/));
  return {
    differ: pairs.filter(([, a, b]) => a !== b).map(([n]) => n!),
    same: pairs.filter(([, a, b]) => a === b).map(([n]) => n!),
  };
}

describe('namespaces', () => {
  test.for(NAMESPACE_FLAGS)('CLONE_$flag gives the child a new $ns namespace and nothing else new', async ({ flag, ns }, { observe, skip }) => {
    const withUserns = environment().euid !== 0 && flag !== 'NEWUSER';
    const flags = withUserns ? `${flag},NEWUSER` : flag;
    const run = await runProbe('share', ['--flags', flags]);
    const share = run.records.find((r): r is ProbeRecordOf<'share'> => r.event === 'share')!;
    if (!share.accepted) skip(`clone(CLONE_${flags.replace(',', '|CLONE_')}) was refused with ${share.errno}${withUserns ? ' (unprivileged user namespaces are off?)' : ''}`);
    const detail = run.records.find((r): r is ProbeRecordOf<'shareDetail'> => r.event === 'shareDetail')!;
    const cmp = compareNamespaces(detail.namespaces);
    observe('cloneNamespaces', flags, { flag, withUserns, accepted: true, ...cmp }, { namespaces: detail.namespaces });
    const expected = withUserns ? [ns, 'user'].sort() : [ns];
    expect(cmp.differ.sort()).toEqual(expected);
  });
});

describe('IDs the kernel writes', () => {
  test.for(['clone', 'clone3'] as const)('CLONE_PARENT_SETTID and CLONE_CHILD_CLEARTID through %s', async (api, { observe, skip }) => {
    const flags = 'VM,SIGHAND,THREAD,PARENT_SETTID,CHILD_CLEARTID';
    const run = await runProbe('share', ['--flags', flags, '--api', api]);
    const share = run.records.find((r): r is ProbeRecordOf<'share'> => r.event === 'share')!;
    if (!share.accepted && share.errno === 'ENOSYS') return skip(`${api} is not available here (ENOSYS): kernel before 5.3, or a seccomp filter`);
    const d = run.records.find((r): r is ProbeRecordOf<'shareDetail'> => r.event === 'shareDetail')!;
    observe('cloneIdsWritten', `${api} ${d.flags}`, {
      api, flags: d.flags, childTid: share.childGettid ?? -1, parentTid: d.parentTid, childTidAfterExit: d.childTidAfterExit, pidfd: d.pidfd, pidfdPid: null,
    }, { share, shareDetail: d });
    // clone(2): the new TID is stored at parent_tid; child_tid is zeroed (and a futex woken) at exit.
    expect(d.parentTid).toBe(share.childGettid);
    expect(d.childTidAfterExit).toBe(0);
  });

  test.for(['clone', 'clone3'] as const)('CLONE_PIDFD through %s yields a pidfd whose fdinfo names the child', async (api, { observe, skip }) => {
    const run = await runProbe('share', ['--flags', 'PIDFD', '--api', api]);
    const share = run.records.find((r): r is ProbeRecordOf<'share'> => r.event === 'share')!;
    if (!share.accepted && share.errno === 'ENOSYS') return skip(`${api} is not available here (ENOSYS): kernel before 5.3, or a seccomp filter`);
    const d = run.records.find((r): r is ProbeRecordOf<'shareDetail'> => r.event === 'shareDetail')!;
    const pidfdPid = d.pidfdPid === '' ? null : Number(d.pidfdPid);
    observe('cloneIdsWritten', `${api} ${d.flags}`, {
      api, flags: d.flags, childTid: share.childGettid ?? -1, parentTid: d.parentTid, childTidAfterExit: d.childTidAfterExit, pidfd: d.pidfd, pidfdPid,
    }, { share, shareDetail: d });
    expect(d.pidfd).toBeGreaterThanOrEqual(0);
    // After the child exited and was reaped, fdinfo says Pid: -1 (kernel/pid.c, pidfd_show_fdinfo()).
    expect([share.childGettid, -1]).toContain(pidfdPid);
  });
});

test('a fork-like child (exit signal only) still shares open file descriptions, MAP_SHARED memory and namespaces', async ({ observe }) => {
  const run = await runProbe('share', ['--flags', 'none']);
  const share = run.records.find((r): r is ProbeRecordOf<'share'> => r.event === 'share')!;
  const d = run.records.find((r): r is ProbeRecordOf<'shareDetail'> => r.event === 'shareDetail')!;
  const cmp = compareNamespaces(d.namespaces);
  observe('forkLikeShares', 'flags none', { offsetSeenByParent: d.offsetSeenByParent, mapShared: d.mapShared, namespacesSame: cmp.same, namespacesDiffer: cmp.differ }, { share, shareDetail: d });
  expect(toRow(share).shared).toEqual({ memory: false, files: false, fs: false, sighand: false, sysvsem: false });
  // fork(2): the child's descriptors refer to the same open file descriptions (offsets shared).
  expect(d.offsetSeenByParent).toBe(100);
  expect(d.mapShared).toBe(true);
  expect(cmp.differ).toEqual([]);
});

describe('what libc calls', () => {
  test.for(['fork', 'vfork', 'pthread_create', 'posix_spawn'])('%s, seen by strace', async (call, { observe, skip }) => {
    const version = await execa('strace', ['-V'], { reject: false }).catch(() => undefined);
    if (!version || version.exitCode !== 0) skip('strace is not installed (apt-get install strace)');
    const out = await tmpFile({ prefix: 'clonelab-strace-' });
    try {
      const probe = new Probe('libcalls', ['--call', call], {
        prefix: ['strace', '-f', '-qq', '-e', 'signal=none', '-e', 'trace=clone,clone3,fork,vfork', '-o', out.path],
        prefixForks: true,
      });
      const result = await probe.result().catch((e: unknown) => e);
      const trace = readFileSync(out.path, 'utf8');
      if (result instanceof Error) {
        if (/ptrace|Operation not permitted|EPERM/i.test(result.message)) skip(`strace cannot trace here (ptrace not permitted): ${result.message.split('\n').at(-1)}`);
        throw result;
      }
      const made = probe.all('called')[0]!.made;
      const line = trace.split('\n').find((l) => new RegExp(`= ${made}$`).test(l.trim()));
      const m = line?.match(/^\d+\s+(clone3|clone|vfork|fork)\((.*)\)\s+=\s+(\d+)$/);
      const flags = m?.[2]?.match(/flags=([A-Z0-9_|]+)/)?.[1] ?? '';
      observe('libcCreation', call, {
        call, syscall: m?.[1] ?? 'none', flags, returned: Number(m?.[3] ?? -1), made, straceVersion: version!.stdout.split('\n')[0]!,
      }, { strace: trace.trim(), records: probe.records });
      expect(line, `no creating syscall returned ${made} in:\n${trace}`).toBeDefined();
      if (call === 'pthread_create') expect(flags).toContain('CLONE_THREAD');
    } finally {
      await out.cleanup();
    }
  });
});
