/**
 * The architecture-specific code of the probes (issue 18), proved on both
 * architectures where it can run: the host's own build natively, and an arm64
 * cross build (helpers/harness/build.ts, buildProbes({ arch: 'arm64' }):
 * aarch64-linux-gnu-gcc -static, cached per architecture) under qemu-user.
 *
 * qemu-aarch64 runs static arm64 programs on this host by translating their
 * system calls to the host's (linux-user/syscall.c): enough for getpid,
 * gettid, pthreads, raw clone with the thread flags and fork-like clone, but
 * it is not the arm64 kernel. Where qemu-user behaves otherwise than the
 * kernel the test says so (parent_tid of a fork-like clone; clone3, which
 * QEMU 7.2's linux-user does not implement): those are checked for real in
 * an arm64 kernel guest (npm run kernels -- --arch arm64).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, test } from 'vitest';
import { CREATION_TRACE_FILTER, parseCreationTrace } from '../../helpers/claims/clone-trace.js';
import { buildProbes, type BuiltProbes, type ProbeArch } from '../../helpers/harness/build.js';
import { needs } from '../../helpers/harness/needs.js';
import { syscallTable } from '../../helpers/harness/syscalls.js';

/** One JSON record per stdout line, as every probe prints (native-helpers/clonelab.h). */
type Rec = Record<string, unknown> & { event: string };

/** clone(2)'s argument orders (kernel/fork.c): what native-helpers/clonelab.h must use on each architecture. */
const CLONE_ORDER: Record<ProbeArch, string> = {
  // neither CONFIG_CLONE_BACKWARDS nor ...2 (arch/x86/Kconfig selects CLONE_BACKWARDS only if X86_32)
  x64: 'flags,stack,parent_tid,child_tid,tls',
  // CONFIG_CLONE_BACKWARDS (arch/arm64/Kconfig)
  arm64: 'flags,stack,parent_tid,tls,child_tid',
};

/** The flags NPTL's pthread_create passes, with both TID writes (clone.c --flags). */
const THREAD_FLAGS = 'VM,FS,FILES,SIGHAND,THREAD,SYSVSEM,PARENT_SETTID,CHILD_CLEARTID';

/** The architectures to prove here: the host's natively, arm64 under qemu-user when the host is not arm64. */
const ARCHES: { arch: ProbeArch; run: string[]; under: string; needs: Parameters<typeof needs>[0] }[] = [
  { arch: process.arch as ProbeArch, run: [], under: 'natively', needs: {} },
  ...(process.arch === 'arm64'
    ? []
    : [{ arch: 'arm64' as const, run: ['qemu-aarch64'], under: 'under qemu-aarch64', needs: { cmds: ['aarch64-linux-gnu-gcc', 'qemu-aarch64'] } }]),
];

describe.each(ARCHES)('the $arch probes, $under', ({ arch, run, needs: need }) => {
  const native = run.length === 0;
  let built: BuiltProbes;
  /** Run one probe of this build, its records. */
  const records = async (probe: string, args: string[]): Promise<Rec[]> => {
    const cmd = [...run, join(built.dir, probe), ...args];
    // Spawned straight from this worker (the harness runs only this host's build): the probe's parent check
    // (cl_setup in clonelab.h) must name this process, not what a nested run's reaper put in CLONELAB_PARENT.
    const r = await execa(cmd[0]!, cmd.slice(1), { reject: false, timeout: 20_000, input: '', env: { CLONELAB_PARENT: String(process.pid) } });
    expect(r.exitCode, `${cmd.join(' ')} exited ${r.exitCode}: ${r.stderr}`).toBe(0);
    return r.stdout.split('\n').map((l) => JSON.parse(l) as Rec);
  };
  const one = async (probe: string, args: string[], event: string): Promise<Rec> => {
    const recs = await records(probe, args);
    const of = recs.filter((r) => r.event === event);
    expect(of, JSON.stringify(recs)).toHaveLength(1);
    return of[0]!;
  };

  describe('', needs(need), () => {
    beforeAll(async () => {
      built = await buildProbes({ arch }); // a cross build is paid once per cache (about 10 s cold)
    }, 120_000);

    test('the build is of this architecture, and its record and syscall table say so', async () => {
      expect(built.build.arch).toBe(arch);
      const recorded = JSON.parse(readFileSync(join(built.dir, 'syscalls.json'), 'utf8')) as Record<string, number>;
      const table = await syscallTable(arch);
      // the same numbers whether read from the compiler or from the build (what a guest without a compiler reads)
      expect(Object.fromEntries(table.byName)).toEqual(recorded);
      if (arch === 'arm64') {
        // asm-generic's table (include/uapi/asm-generic/unistd.h): clone 220, clone3 435, no fork, no vfork
        expect([table.byName.get('clone'), table.byName.get('clone3'), table.byName.has('fork'), table.byName.has('vfork')]).toEqual([220, 435, false, false]);
      } else {
        // arch/x86/entry/syscalls/syscall_64.tbl
        expect([table.byName.get('clone'), table.byName.get('fork'), table.byName.get('vfork'), table.byName.get('clone3')]).toEqual([56, 57, 58, 435]);
      }
    });

    test("the probes know clone(2)'s argument order and whether fork(2) exists", async () => {
      const info = await one('arch', ['--info'], 'arch');
      expect(info).toMatchObject({ machine: arch === 'arm64' ? 'aarch64' : 'x86_64', cloneOrder: CLONE_ORDER[arch] });
      expect([info.forkSyscall, info.vforkSyscall]).toEqual(arch === 'arm64' ? [false, false] : [true, true]);
    });

    test('a raw fork-like clone writes the TIDs where it was asked to (the argument order)', async () => {
      const f = await one('arch', ['--forklike'], 'forklike');
      const tid = f.returned as number;
      expect(tid).toBeGreaterThan(0);
      // CLONE_CHILD_SETTID: the child's own TID at child_tid in the child's memory. A wrong order
      // passes child_tid in the tls slot, which the kernel ignores without CLONE_SETTLS: 0 stays.
      expect([f.childGettid, f.childTidInChild]).toEqual([tid, tid]);
      // CLONE_PARENT_SETTID: the kernel writes parent_tid in the caller's memory before the child runs
      // (kernel/fork.c, kernel_clone()); qemu-user makes a fork-like clone with the host's fork() and
      // writes parent_tid afterwards in the child (QEMU 7.2 linux-user/syscall.c, do_fork()).
      if (native) expect(f.parentTidInParent).toBe(tid);
      else expect([f.parentTidInParent, f.parentTidInChild]).toContain(tid);
    });

    test('a raw clone with the thread flags: the new TID returned, written at parent_tid, cleared at child_tid on exit', async () => {
      const recs = await records('clone', ['--flags', THREAD_FLAGS, '--api', 'clone']);
      const share = recs.find((r) => r.event === 'share')!;
      const detail = recs.find((r) => r.event === 'shareDetail')!;
      expect(share).toMatchObject({ accepted: true, sameTgid: true });
      expect(share.cloneReturned).toBe(share.childGettid);
      expect(detail).toMatchObject({ parentTid: share.cloneReturned, childTidAfterExit: 0 });
    });

    test('clone3 through the trampoline (native-helpers/clone.c, clone3_run) with the thread flags', async ({ skip }) => {
      const recs = await records('clone', ['--flags', THREAD_FLAGS, '--api', 'clone3']);
      const share = recs.find((r) => r.event === 'share')!;
      expect(
        recs.find((r) => r.op === 'clone3-trampoline'),
        'this architecture has no clone3 trampoline',
      ).toBeUndefined();
      // QEMU 7.2's linux-user has no clone3 (TARGET_NR_clone3 is not handled: ENOSYS), whatever the host kernel has.
      if (!native && share.errno === 'ENOSYS') return skip(`qemu-aarch64 answers clone3 with ENOSYS: the trampoline is proved in an arm64 kernel guest`);
      // Natively, the kernel's answer: before 5.3, or under a seccomp profile that refuses clone3 (check:environments' no-clone3).
      if (native && share.errno === 'ENOSYS') return skip('this kernel (or a seccomp filter) answers clone3 with ENOSYS: the trampoline cannot be proved here');
      expect(share).toMatchObject({ accepted: true, sameTgid: true });
      expect(share.cloneReturned).toBe(share.childGettid);
      expect(recs.find((r) => r.event === 'shareDetail')).toMatchObject({ parentTid: share.cloneReturned, childTidAfterExit: 0 });
    });

    test('pthread_create and raw getpid/gettid through the libc of the build', async () => {
      const recs = await records('ids', ['--threads', '2']);
      const tasks = recs.filter((r) => r.event === 'task');
      expect(tasks.length, JSON.stringify(recs)).toBe(3);
      const tgid = tasks[0]!.rawGetpid;
      for (const t of tasks) expect([t.rawGetpid, t.libcGetpid]).toEqual([tgid, tgid]);
      expect(new Set(tasks.map((t) => t.rawGettid)).size).toBe(3);
    });
  });
});

describe("strace's arm64 forms of libc's task creation (helpers/claims/clone-trace.ts)", () => {
  test('fork() as clone without CLONE_VM, vfork() as clone(CLONE_VM|CLONE_VFORK): read as clone, with the flags', () => {
    // strace 6.1 on arm64 of glibc 2.36's fork() and vfork(): no fork or vfork syscall exists there.
    const fork = parseCreationTrace('301 clone(child_stack=NULL, flags=CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD, child_tidptr=0xffff8e5f30f0) = 302\n');
    expect(fork).toEqual({ ok: { syscall: 'clone', flags: 'CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD', returned: 302, failedFirst: [] } });
    const vfork = parseCreationTrace('301 clone(child_stack=NULL, flags=CLONE_VM|CLONE_VFORK|SIGCHLD) = 303\n');
    expect(vfork).toEqual({ ok: { syscall: 'clone', flags: 'CLONE_VM|CLONE_VFORK|SIGCHLD', returned: 303, failedFirst: [] } });
  });

  test("strace accepts the trace filter: fork and vfork are optional ('?'), a name arm64 lacks is not refused", needs({ cmds: ['strace'] }), async () => {
    expect(CREATION_TRACE_FILTER).toMatch(/(^|[=,])\?fork(,|$)/);
    const r = await execa('strace', ['-f', '-qq', '-e', CREATION_TRACE_FILTER, '-e', 'trace=?no_such_call_anywhere', '-o', '/dev/null', 'true'], {
      reject: false,
    });
    expect(r.exitCode, r.stderr).toBe(0);
  });
});
