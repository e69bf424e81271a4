/**
 * native-helpers/fault.c, the seccomp filter npm run check:faults puts before
 * every probe (CLONELAB_PROBE_WRAP), and the tables it is driven by: a refused
 * call fails with the chosen errno or kills only its thread, a probe under
 * the wrap meets the refusal, the harness never carries the filter, and bad
 * arguments are refused with a clear line.
 */
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { needs, unmet } from '../../helpers/harness/needs.js';
import { ProbeFailure, probeDirectory, startProbe, type Probe } from '../../helpers/harness/probe.js';
import { readStatus } from '../../helpers/harness/procfs.js';
import { parseSyscallMacros, straceSyscalls, syscallNumber, syscallTable } from '../../helpers/harness/syscalls.js';

const fault = () => join(probeDirectory(), 'fault');

/** Start a probe with these words before it (as check:faults does), and the environment as it was after. */
function startWrapped(wrap: string[], name: string, args: string[]): ReturnType<typeof startProbe> {
  const before = process.env.CLONELAB_PROBE_WRAP;
  process.env.CLONELAB_PROBE_WRAP = JSON.stringify(wrap);
  try {
    return startProbe(name, args); // the wrap is read when the probe is spawned, synchronously
  } finally {
    if (before === undefined) delete process.env.CLONELAB_PROBE_WRAP;
    else process.env.CLONELAB_PROBE_WRAP = before;
  }
}

const wrapOf = async (syscall: string, action: string[]) => ['{probeDir}/fault', ...action, '--syscall', String(await syscallNumber(syscall)), '--'];

/** `fault ... --self-test`: what a second thread and the main thread saw, by key. */
async function selfTest(syscall: string, action: string[]): Promise<Record<string, string>> {
  const r = await execa(fault(), [...action, '--syscall', String(await syscallNumber(syscall)), '--self-test'], { reject: false });
  expect(r.exitCode, r.stderr).toBe(0);
  return Object.fromEntries(r.stdout.split('\n').map((l) => l.split(': ') as [string, string]));
}

const SECCOMP = needs({ kernelFeatures: ['seccomp-filter'] });

describe('under a seccomp filter', SECCOMP, () => {
  // A kernel built with filters may still refuse this process one (a container's
  // own seccomp profile refusing prctl(PR_SET_SECCOMP), say): only the kernel can
  // answer, so fault.c's self-test asks it once; it exits 125, with the errno,
  // when the filter could not be installed (native-helpers/fault.c).
  let refused: string | undefined;
  beforeAll(async () => {
    if (unmet(SECCOMP.meta.needs)) return; // every test skips with that reason
    const r = await execa(fault(), ['--syscall', String(await syscallNumber('getppid')), '--self-test'], { reject: false });
    if (r.exitCode === 125) refused = `this kernel has seccomp filters, but installing one failed here: ${r.stderr.trim()}`;
  });
  beforeEach(({ skip }) => {
    if (refused) skip(refused);
  });

  describe('a refused syscall', () => {
    test.for([
      { action: [], errno: 'EPERM' },
      { action: ['--errno', 'EPERM'], errno: 'EPERM' },
      { action: ['--errno', 'ENOSYS'], errno: 'ENOSYS' },
    ])('fails with $errno in every thread ($action)', async ({ action, errno }) => {
      expect(await selfTest('getppid', action)).toEqual({ thread: `-1 ${errno}`, main: `-1 ${errno}`, tasks: '1' });
    });

    test('with --kill-thread kills only the thread that called it', async () => {
      // The second thread died in the call; the main thread went on, and is the only task left.
      expect(await selfTest('getppid', ['--kill-thread'])).toEqual({ thread: 'killed', main: 'alive', tasks: '1' });
    });
  });

  describe('a probe under the wrap', () => {
    test.for([
      { errno: 'EPERM', says: /EPERM|not a valid record/ },
      { errno: 'ENOSYS', says: /ENOSYS|not a valid record/ },
    ])('ids, with getpid refused with $errno, fails and says why', async ({ errno, says }) => {
      // The probe cannot report its TGID: either it records the errno, or what it prints
      // in its place is refused by the record validation. It never passes for a healthy run.
      const failure = await startWrapped(await wrapOf('getpid', ['--errno', errno]), 'ids', ['--threads', '1']).then(
        async ({ probe }) => {
          await probe.stop();
          return undefined;
        },
        (e: unknown) => e,
      );
      expect(failure).toBeInstanceOf(ProbeFailure);
      expect((failure as ProbeFailure).message).toMatch(says);
    });

    test('ids, with getpid killing its thread, dies by SIGSYS', async () => {
      // The main thread is the only one when it first calls getpid: the last thread of a group
      // killed this way takes the process with it, as if by SIGSYS (seccomp(2)).
      const failure = await startWrapped(await wrapOf('getpid', ['--kill-thread']), 'ids', ['--threads', '0']).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(ProbeFailure);
      expect((failure as ProbeFailure).details.signal).toBe('SIGSYS');
    });

    test('carries the filter; the reaper, this worker and node do not', async () => {
      let probe: Probe | undefined;
      try {
        // tkill: a call the ids probe does not make, so it runs to "ready" under the filter.
        const started = await startWrapped(await wrapOf('tkill', ['--errno', 'EPERM']), 'ids', ['--threads', '1']);
        probe = started.probe;
        const { ready } = started;
        // proc(5): Seccomp 2 is filter mode, Seccomp_filters (Linux 5.9) counts the filters;
        // NoNewPrivs is set by fault.c before installing its filter. The harness may itself run
        // under a filter (a container's profile, check:environments' no-clone3): the probe has
        // one filter more than its reaper, and the reaper no more than this worker.
        const mine = readStatus(process.pid);
        const reaper = readStatus(probe.reaperPid);
        expect({ Seccomp: reaper.Seccomp, NoNewPrivs: reaper.NoNewPrivs, Seccomp_filters: reaper.Seccomp_filters }).toEqual({
          Seccomp: mine.Seccomp,
          NoNewPrivs: mine.NoNewPrivs,
          Seccomp_filters: mine.Seccomp_filters,
        });
        for (const tid of ready.tids) {
          const t = readStatus(ready.tgid, tid);
          expect(t).toMatchObject({ Seccomp: '2', NoNewPrivs: '1' });
          if (reaper.Seccomp_filters !== undefined) expect(Number(t.Seccomp_filters)).toBe(Number(reaper.Seccomp_filters) + 1);
        }
        await probe.release();
        probe = undefined;
        // and node still makes the calls that were refused to the probe
        const child = execa(process.execPath, ['-e', 'process.kill(process.pid, 0); console.log(process.pid)']);
        expect(Number((await child).stdout)).toBe(child.pid);
      } finally {
        await probe?.stop();
      }
    });
  });

  test('with execve refused, the command still starts (through execveat) and meets the refusal in its own calls', async () => {
    const r = await execa(fault(), ['--syscall', String(await syscallNumber('execve')), '--', '/bin/sh', '-c', 'exec /bin/true'], { reject: false });
    expect(r.exitCode).not.toBe(0); // sh started; its own execve of /bin/true was refused
    expect(r.stderr).toMatch(/Operation not permitted/);
  });
});

describe('bad arguments', () => {
  test.for([
    { args: ['--syscall', 'tgkill', '--', 'true'], says: /fault: --syscall takes this architecture's syscall number .* got 'tgkill'/ },
    { args: ['--syscall', '-3', '--', 'true'], says: /--syscall takes .* got '-3'/ },
    { args: ['--errno', 'EWHAT', '--syscall', '1', '--', 'true'], says: /--errno takes an errno name such as EPERM or ENOSYS, got 'EWHAT'/ },
    { args: ['--errno', 'EPERM', '--kill-thread', '--syscall', '1', '--', 'true'], says: /--errno and --kill-thread are exclusive/ },
    { args: ['--', 'true'], says: /say which syscall to refuse with --syscall NR/ },
    { args: ['--syscall', '1'], says: /no command to run after the options/ },
    { args: ['--frobnicate', '--syscall', '1', '--', 'true'], says: /unknown option '--frobnicate'/ },
    { args: ['--syscall', '1', '--self-test', '--', 'true'], says: /--self-test runs no command, got 'true'/ },
  ])('fault $args', async ({ args, says }) => {
    const r = await execa(fault(), args, { reject: false });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(says);
    expect(r.stderr).toMatch(/^usage: fault /m);
  });

  test('refusing both execve and execveat leaves no way to start the command', async () => {
    const nrs = [await syscallNumber('execve'), await syscallNumber('execveat')];
    const r = await execa(fault(), ['--syscall', String(nrs[0]), '--syscall', String(nrs[1]), '--', '/bin/true'], { reject: false });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/cannot refuse both execve and execveat/);
  });
});

describe('the tables check:faults is driven by', () => {
  test("syscall numbers come from the compiler's <sys/syscall.h>", async () => {
    const t = await syscallTable();
    expect(t.byName.size).toBeGreaterThan(200);
    for (const name of ['getpid', 'gettid', 'tgkill', 'clone', 'clone3', 'setresuid', 'sched_setaffinity']) expect(t.byName.has(name), name).toBe(true);
    expect(t.byNumber.get(t.byName.get('tgkill')!)).toBe('tgkill');
    await expect(syscallNumber('frobnicate')).rejects.toThrow(/unknown syscall 'frobnicate'/);
  });

  test('macros defined through other macros resolve (arm64 asm-generic, MIPS offsets)', () => {
    const text = [
      '#define __NR3264_fcntl 25',
      '#define __NR_fcntl __NR3264_fcntl',
      '#define __NR_Linux 4000',
      '#define __NR_getpid (__NR_Linux + 20)',
      '#define __NR_syscalls 451',
      '#define SYS_fcntl __NR_fcntl',
    ].join('\n');
    expect(Object.fromEntries(parseSyscallMacros(text))).toEqual({ fcntl: 25, getpid: 4020 });
  });

  test('strace lines name their syscall; resumed calls and strace notes do not count twice', () => {
    const trace = [
      'execve("/p/ids", ["ids"], 0x7ffd /* 3 vars */) = 0',
      'futex(0x7f, FUTEX_WAIT_PRIVATE, 0, NULL <unfinished ...>',
      '<... futex resumed>) = 0',
      'clone3({flags=CLONE_VM|CLONE_FS, ...}, 88) = 1234',
      '--- SIGCHLD {si_signo=SIGCHLD} ---',
      '+++ exited with 0 +++',
      'tgkill(1, 2, SIGUSR1) = -1 EPERM (Operation not permitted)',
    ].join('\n');
    expect(Object.fromEntries(straceSyscalls(trace))).toEqual({ execve: 1, futex: 1, clone3: 1, tgkill: 1 });
  });
});
