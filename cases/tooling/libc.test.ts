/**
 * The probes' libc (helpers/harness/build.ts, environment.ts): the one place
 * the choice is read, the toolchain each libc needs and the message when it
 * is missing, the environment naming the libc the probes were built with,
 * and the libc-dependent rules judging musl's facts (what musl 1.2.3 was
 * seen to do by `npm run report -- --libc musl`), so each such verdict and
 * explanation can move with the libc.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, inject, test } from 'vitest';
import { buildProbes, checkLibc, LIBC_VERSION_PROGRAM, LIBCS, ProbeBuildError, ProbeNotBuilt, probeLibc, toolchain } from '../../helpers/harness/build.js';
import { configureProbes, Probe } from '../../helpers/harness/probe.js';
import { probesLibc } from '../../helpers/harness/environment.js';
import { Draft, healthyObservations, judge } from '../../helpers/claims/rule-cases.js';

describe('which libc the probes are built against', () => {
  test('CLONELAB_LIBC chooses it, glibc by default, and an unknown name is refused with the known ones', () => {
    expect(probeLibc({})).toBe('glibc');
    expect(probeLibc({ CLONELAB_LIBC: 'musl' })).toBe('musl');
    expect(() => probeLibc({ CLONELAB_LIBC: 'bionic' })).toThrow(new RegExp(`bionic.*${LIBCS.join(', ')}`));
  });

  test('without musl-gcc on PATH, a musl build says to install musl-tools', async () => {
    const err = await toolchain('musl', { PATH: mkdtempSync(join(tmpdir(), 'clonelab-nomusl-')) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProbeBuildError);
    expect((err as Error).message).toMatch(/musl-gcc.*install musl-tools/);
  });
});

describe("the environment names the probes' libc, not node's", () => {
  const probeDir = (build: object, versionScript?: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'clonelab-libc-'));
    writeFileSync(join(dir, 'build.json'), JSON.stringify({ cc: 'cc', ccVersion: 'cc 1', unbuilt: {}, ...build }));
    if (versionScript) {
      writeFileSync(join(dir, LIBC_VERSION_PROGRAM), `#!/bin/sh\n${versionScript}\n`);
      chmodSync(join(dir, LIBC_VERSION_PROGRAM), 0o755);
    }
    return dir;
  };

  test('glibc: what the program built with the probes prints at run time', () => {
    expect(probesLibc(probeDir({ libc: 'glibc', libcVersion: null }, 'echo "glibc 9.87"'))).toBe('glibc 9.87');
  });
  test('musl: the version the build recorded (musl has no version call)', () => {
    expect(probesLibc(probeDir({ libc: 'musl', libcVersion: 'musl 1.2.3' }, 'exit 3'))).toBe('musl 1.2.3');
  });
  test('a version program that fails leaves the libc named, its version unknown with why', () => {
    expect(probesLibc(probeDir({ libc: 'glibc', libcVersion: null }, 'exit 3'))).toMatch(/^glibc \(version unknown: .*exited 3\)$/);
  });
  test('the probes this process built: a libc with a version', async () => {
    const { environment } = await import('../../helpers/harness/environment.js');
    expect(environment().libc).toMatch(new RegExp(`^${probeLibc()} \\d+\\.\\d+`));
  });
});

/**
 * The healthy (glibc 2.36) run with musl 1.2.3's facts as the musl report
 * observed them (strace of cases/claims/clone.test.ts "what libc calls"; the
 * same calls in musl's source: src/thread/pthread_create.c, src/process/fork.c,
 * vfork.c, posix_spawn.c).
 */
function musl(): Draft {
  const d = new Draft(healthyObservations()).environment({ libc: 'musl 1.2.3' });
  Object.assign(d.result('libcCreation', 'pthread_create'), {
    syscall: 'clone',
    flags: 'CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM|CLONE_SETTLS|CLONE_PARENT_SETTID|CLONE_CHILD_CLEARTID|0',
  });
  // musl calls the fork(2) system call where the architecture has one (x86-64 does); glibc calls clone.
  Object.assign(d.result('libcCreation', 'fork'), { syscall: 'fork', flags: undefined });
  Object.assign(d.result('libcCreation', 'posix_spawn'), { syscall: 'clone', flags: 'CLONE_VM|CLONE_VFORK|SIGCHLD' });
  return d;
}

describe('libc-dependent rules judge the libc the run used', () => {
  test('A9: with fork made by the fork system call, it says so', () => {
    const m = musl();
    expect(judge('A9', m.list, m.env).explanation).toMatch(/fork used fork with no flags/);
  });

  test('C2: glibc 2.36 made its threads with clone3 (a nuance); musl 1.2.3 with clone, named in the explanation', () => {
    const glibc = judge('C2', healthyObservations());
    expect(glibc.explanation).toContain("glibc 2.36's pthread_create(3) made its thread with clone3");
    const m = musl();
    const e = judge('C2', m.list, m.env);
    expect(e.explanation).toContain('In musl 1.2.3, pthread_create(3) called clone(CLONE_VM|');
    expect(e.explanation).not.toMatch(/glibc|made its thread with clone3/);
  });

  test('A9: what the libc itself calls is said of the libc observed', () => {
    const m = musl();
    const e = judge('A9', m.list, m.env);
    expect(e.verdict).toBe('confirmed');
    expect(e.explanation).toMatch(/What musl 1\.2\.3 itself calls, seen by strace: .*posix_spawn used clone\(CLONE_VM\|CLONE_VFORK\|SIGCHLD\)/);
  });

  test("A8: musl's gettid() in a raw-clone thread returns its creator's cached TID: the libc disagrees with the kernel", () => {
    const m = musl();
    for (const g of m.results('threadGroupIds')) {
      const leader = g.tasks.find((t) => t.role === 'leader');
      // musl's gettid() reads the TID from the thread descriptor; a raw clone shares its creator's.
      if (g.tasks.some((t) => t.role === 'thread') && leader) for (const t of g.tasks) t.libcGettid = leader.tid;
    }
    const before = judge('A8', healthyObservations());
    const e = judge('A8', m.list, m.env);
    expect(e.verdict).not.toBe(before.verdict);
    expect(e.explanation).toMatch(/libc gettid returned something other than the Pid/);
  });

  test('B1: the libc whose setresuid reached every thread is named', () => {
    const m = musl();
    const e = judge('B1', m.list, m.env);
    expect(e.explanation).toContain("musl 1.2.3's setresuid");
    expect(e.explanation).not.toContain('glibc');
  });
});

describe('a probe that does not build against a libc', () => {
  test("is recorded with the compiler's reason and left out; running it says which probe and why", async () => {
    const root = mkdtempSync(join(tmpdir(), 'clonelab-unbuilt-'));
    const bin = join(root, 'bin');
    mkdirSync(bin);
    // A stand-in musl-gcc: --version answers, signals.c fails with a compiler-like error, anything else "links".
    writeFileSync(
      join(bin, 'musl-gcc'),
      '#!/bin/sh\nout=; for a; do [ "$prev" = -o ] && out=$a; prev=$a; done\n' +
        '[ "$1" = --version ] && { echo "fake-musl-gcc 1"; exit 0; }\n' +
        'case "$prev" in *signals.c) echo "signals.c:9:10: fatal error: sys/signalfd.h: No such file" >&2; exit 1;; esac\n' +
        '[ -n "$out" ] && printf "#!/bin/sh\\nexit 0\\n" >"$out" && chmod +x "$out"\n',
    );
    chmodSync(join(bin, 'musl-gcc'), 0o755);
    const built = await buildProbes({ libc: 'musl', root, env: { PATH: `${bin}:/usr/bin:/bin` } });
    expect(built.names).not.toContain('signals');
    expect(built.names).toContain('ids');
    expect(built.build.unbuilt.signals).toMatch(/native-helpers\/signals\.c does not build against musl.*sys\/signalfd\.h: No such file/);
    configureProbes(built.dir);
    try {
      expect(() => new Probe('signals', [])).toThrow(ProbeNotBuilt);
      expect(() => new Probe('signals', [])).toThrow(/signals\.c does not build against musl/);
    } finally {
      configureProbes(inject('probeDir'));
    }
  });
});

describe("the libc checks' answers are kept", () => {
  test('a second build with the same compiler and libc compiles no check; a libc changed in place asks again', async () => {
    const root = mkdtempSync(join(tmpdir(), 'clonelab-libc-checks-'));
    const bin = join(root, 'bin');
    const libc = join(root, 'libc.so');
    mkdirSync(bin);
    writeFileSync(libc, 'v1');
    // A stand-in compiler that logs every compile (-o) and names its C library for -print-file-name.
    writeFileSync(
      join(bin, 'cc'),
      `#!/bin/sh\ncase "$1" in -print-file-name=libc.so) echo ${libc}; exit 0;; -print-file-name=*) echo "\${1#*=}"; exit 0;; esac\n` +
        `for a; do [ "$a" = -o ] && echo compiled >> ${join(root, 'log')}; done; exit 0\n`,
    );
    chmodSync(join(bin, 'cc'), 0o755);
    const compiles = () => (existsSync(join(root, 'log')) ? readFileSync(join(root, 'log'), 'utf8').split('\n').filter(Boolean).length : 0);
    const env = { PATH: `${bin}:/usr/bin:/bin` };
    expect(await checkLibc(join(bin, 'cc'), env, root, [], 'cc 1')).toEqual({ gettid: true });
    const first = compiles();
    expect(first).toBeGreaterThan(0);
    await checkLibc(join(bin, 'cc'), env, root, [], 'cc 1');
    expect(compiles()).toBe(first);
    writeFileSync(libc, 'v2, another size');
    await checkLibc(join(bin, 'cc'), env, root, [], 'cc 1');
    expect(compiles()).toBeGreaterThan(first);
  });
});
