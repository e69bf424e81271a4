/**
 * What a test needs from the machine, declared once per test as data, and the
 * skip reason generated from it: the framework, not each test, decides whether
 * a requirement is met and words the skip (the idea of LTP's `struct tst_test`
 * fields `.needs_root`, `.needs_cmds`, `.min_kver`).
 *
 *     test('...', needs({ root: 'changing UIDs needs CAP_SETUID' }), async ({ observe }) => ...)
 *
 * `needs()` puts the requirements in the test's meta (`task.meta.needs`, so a
 * reporter can list them); `skipUnmet` skips a test whose requirements are not
 * met, with the reason, before its body runs (the `test` of
 * helpers/observations.ts does so in an automatic fixture, so no probe starts).
 *
 * Only what can be known before the experiment belongs here. What the kernel
 * answers only when asked (a namespace refused with EPERM, clone3 answering
 * ENOSYS under a seccomp filter, no kernel thread visible in the census) stays
 * a skip inside the test, with the errno or what was seen: that answer is
 * itself evidence, recorded as an incomplete observation.
 */
import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { release } from 'node:os';
import { execaSync } from 'execa';
import { inInitialPidNamespace } from './environment.js';
import { probeDirectory } from './probe.js';
import { commandPath } from './paths.js';

export interface Needs {
  /** Root (euid 0), and what for: "changing UIDs needs CAP_SETUID". */
  root?: string;
  /**
   * The initial PID namespace (not a container's or `unshare --pid`'s), and
   * what for: "kernel threads live in the initial PID namespace".
   */
  initialPidNamespace?: string;
  /**
   * Commands: a name looked up on PATH ("strace"), or an absolute path when
   * that very file is meant ("/bin/sh": the system's sh, whatever PATH says).
   * Every name must be in COMMANDS below, which says where it comes from.
   */
  cmds?: string[];
  /** Files that must exist (commands go in `cmds`, which know their package). */
  files?: string[];
  /** An unprivileged process may create a user namespace (no sysctl or chroot forbids it). */
  userns?: boolean;
  /** The lowest kernel release the test can run on, "5.3". */
  minKernel?: string;
  /** Kernel features (built in, not only new enough), by name in KERNEL_FEATURES. */
  kernelFeatures?: (keyof typeof KERNEL_FEATURES)[];
  /**
   * Run the probes as this other user (setpriv(1), helpers/harness/privilege.ts):
   * root to switch, setpriv, and a probe cache that user can reach.
   */
  asUser?: number;
  /** What is lost when a requirement is unmet, added to the reason: "C4 stays inconclusive". */
  otherwise?: string;
}

declare module '@vitest/runner' {
  interface TaskMeta {
    /** What the test declared it needs (helpers/harness/needs.ts). */
    needs?: Needs;
  }
}

/**
 * Where each command a test may need comes from (Debian package names, as in
 * the README), and, where a command of that name may be another program, how
 * to tell the right one: it must answer `check` with exit status 0.
 */
export const COMMANDS: Record<string, { pkg: string; check?: string[]; what?: string; alternatives?: string[] }> = {
  strace: { pkg: 'strace', check: ['-V'] },
  // busybox's ps has neither --version nor the thread views (-L, -T) the ps claims need.
  ps: { pkg: 'procps', check: ['--version'], what: "procps's ps (busybox ps has no thread views)" },
  setpriv: { pkg: 'util-linux' },
  unshare: { pkg: 'util-linux' },
  mount: { pkg: 'mount' },
  bash: { pkg: 'bash' },
  sh: { pkg: 'dash' },
  chromium: { pkg: 'chromium', alternatives: ['chromium-browser'] },
  // npm run kernels (scripts/kernels.ts checks them with unmet()) and the lab's bench.
  'qemu-system-x86_64': { pkg: 'qemu-system-x86' },
  // npm run kernels -- --arch arm64 (helpers/kernels/machine.ts MACHINES.arm64.qemu).
  'qemu-system-aarch64': { pkg: 'qemu-system-arm' },
  // --probe-wrapper qemu-user (helpers/harness/probe.ts) and its test.
  'qemu-x86_64': { pkg: 'qemu-user', check: ['--version'] },
  // cases/tooling/arch.test.ts: the probes cross-compiled for arm64 (helpers/harness/build.ts) and run under qemu-user.
  'aarch64-linux-gnu-gcc': { pkg: 'gcc-aarch64-linux-gnu', check: ['--version'] },
  'qemu-aarch64': { pkg: 'qemu-user', check: ['--version'] },
  busybox: { pkg: 'busybox-static' },
  'dpkg-deb': { pkg: 'dpkg' },
  'apt-get': { pkg: 'apt' },
  xz: { pkg: 'xz-utils' },
  zstd: { pkg: 'zstd' },
  'stress-ng': { pkg: 'stress-ng' },
  // check:environments' container (helpers/harness/oci.ts).
  crun: { pkg: 'crun', check: ['--version'] },
};

/**
 * Kernel features that a file of the running kernel shows present, whatever
 * its version: a kernel built without them does not have that file.
 */
export const KERNEL_FEATURES = {
  // seccomp(2): the list of filter return actions, there since Linux 4.14 when filters are built in.
  'seccomp-filter': { file: '/proc/sys/kernel/seccomp/actions_avail', what: 'seccomp filters (CONFIG_SECCOMP_FILTER; Linux 4.14 or later to tell)' },
  // namespaces(7): /proc/PID/ns/ has one link per namespace type the kernel was built with.
  'pid-namespaces': { file: '/proc/self/ns/pid', what: 'PID namespaces (CONFIG_PID_NS)' },
  'user-namespaces': { file: '/proc/self/ns/user', what: 'user namespaces (CONFIG_USER_NS)' },
} as const;

/** The facts `unmet` decides from; tests of this module pass made-up ones. */
export interface Host {
  euid(): number;
  /** Whether this process is in the initial PID namespace; null when it cannot tell. */
  initialPidNamespace(): boolean | null;
  /** The path a command resolves to, or undefined. */
  which(cmd: string): string | undefined;
  /** Whether running `path ...args` exits 0. */
  answers(path: string, args: string[]): boolean;
  exists(path: string): boolean;
  kernelRelease(): string;
  /** A sysctl under /proc/sys ("user/max_user_namespaces"), or undefined when absent. */
  sysctl(name: string): string | undefined;
  chrooted(): boolean;
  /** Why `uid` cannot reach and execute the probes, or undefined. */
  probesUnreachableBy(uid: number): string | undefined;
}

const read = (p: string): string | undefined => {
  try {
    return readFileSync(p, 'utf8').trim();
  } catch {
    return undefined;
  }
};

/** Is our root directory other than our mount namespace's root (the kernel's current_chrooted())? */
function chrooted(): boolean {
  try {
    const a = statSync('/');
    const b = statSync('/proc/1/root/');
    return a.ino !== b.ino || a.dev !== b.dev;
  } catch {
    return false; // cannot tell (no access to PID 1's root as non-root)
  }
}

/**
 * Whether `uid` (with gid = uid and no supplementary groups, as asUser() runs
 * it) may search every directory down to the probes and execute them. Read from
 * the mode bits, not access(2): root passes every search check, so asking as
 * root would say yes to a cache under a 0700 home.
 */
export function unreachableBy(uid: number, dir: string): string | undefined {
  const may = (p: string, bit: number) => {
    const st = statSync(p);
    const shift = st.uid === uid ? 6 : st.gid === uid ? 3 : 0;
    return ((st.mode >> shift) & bit) !== 0;
  };
  try {
    const real = realpathSync(dir);
    for (let d = real; ; d = dirname(d)) {
      if (!may(d, 0o1))
        return `the probe cache ${real} is not reachable by uid ${uid}: ${d} is not searchable by it (chmod o+x ${d}, or set CLONELAB_CACHE_DIR to a directory every user can reach)`;
      if (d === '/') break;
    }
    const locked = readdirSync(real).filter((f) => {
      const st = statSync(join(real, f));
      return st.isFile() && (st.mode & 0o100) !== 0 && !may(join(real, f), 0o1);
    });
    if (locked.length)
      return `the probes in ${real} are not executable by uid ${uid} (${locked.slice(0, 3).join(', ')}${locked.length > 3 ? ', ...' : ''}; built under a umask that drops o+x)`;
    return undefined;
  } catch (e) {
    return `the probe cache ${dir} could not be checked: ${(e as Error).message}`;
  }
}

const answered = new Map<string, boolean>();

export const realHost: Host = {
  euid: () => process.geteuid!(), // always there on Linux (POSIX platforms)
  initialPidNamespace: inInitialPidNamespace,
  which: (cmd) => commandPath(cmd, { PATH: process.env.PATH ?? '/usr/bin:/bin' }),
  answers: (path, args) => {
    const key = [path, ...args].join(' ');
    let ok = answered.get(key);
    if (ok === undefined) {
      try {
        ok = execaSync(path, args, { reject: false, timeout: 10_000, stdin: 'ignore' }).exitCode === 0;
      } catch {
        ok = false;
      }
      answered.set(key, ok);
    }
    return ok;
  },
  exists: (path) => {
    try {
      statSync(path);
      return true;
    } catch {
      return false;
    }
  },
  kernelRelease: () => release(),
  sysctl: (name) => read(`/proc/sys/${name}`),
  chrooted,
  probesUnreachableBy: (uid) => unreachableBy(uid, probeDirectory()),
};

/** "6.18.44-fc-v857" -> [6, 18, 44]; undefined when it does not start with a number. */
export function kernelVersion(releaseString: string): number[] | undefined {
  const m = releaseString.match(/^(\d+)(?:\.(\d+))?(?:\.(\d+))?/);
  return m ? [m[1], m[2], m[3]].map((x) => Number(x ?? 0)) : undefined;
}

function olderThan(have: number[], want: number[]): boolean {
  for (let i = 0; i < 3; i++) if ((have[i] ?? 0) !== (want[i] ?? 0)) return (have[i] ?? 0) < (want[i] ?? 0);
  return false;
}

/** The table entry of a command, by name or by the last part of its path. */
function commandEntry(cmd: string) {
  const name = cmd.split('/').at(-1) ?? cmd;
  return COMMANDS[name] ?? Object.values(COMMANDS).find((c) => c.alternatives?.includes(name));
}

/** Where a command is, trying its alternatives (chromium-browser for chromium), or undefined. */
export function findCommand(cmd: string, host: Host = realHost): string | undefined {
  const names = isAbsolute(cmd) ? [cmd] : [cmd, ...(COMMANDS[cmd]?.alternatives ?? [])];
  for (const n of names) {
    const p = host.which(n);
    if (p) return p;
  }
  return undefined;
}

/**
 * Why an unprivileged user namespace cannot be made here, when a setting says
 * so for certain; undefined otherwise (the kernel may still refuse: AppArmor's
 * restriction, an LSM, a limit reached at run time).
 */
function usernsForbidden(host: Host): string | undefined {
  // clone(2) ERRORS: ENOSPC when the nesting would pass max_user_namespaces (0: none at all).
  if (host.sysctl('user/max_user_namespaces') === '0')
    return 'user.max_user_namespaces is 0, so CLONE_NEWUSER fails with ENOSPC (sysctl -w user.max_user_namespaces=15000)';
  // A Debian/Ubuntu kernel patch: 0 refuses CLONE_NEWUSER without CAP_SYS_ADMIN with EPERM.
  if (host.sysctl('kernel/unprivileged_userns_clone') === '0')
    return 'kernel.unprivileged_userns_clone is 0, so CLONE_NEWUSER without privilege fails with EPERM (sysctl -w kernel.unprivileged_userns_clone=1)';
  // unshare(2) ERRORS: EPERM for CLONE_NEWUSER when the caller is in a chroot.
  if (host.chrooted()) return 'this process is in a chroot, where CLONE_NEWUSER fails with EPERM (unshare(2)); run outside the chroot';
  return undefined;
}

/** The settings that decide whether a user namespace may be made, for a runtime refusal's reason. */
export function usernsSettings(host: Host = realHost): string {
  const s = (n: string) => host.sysctl(n) ?? 'absent';
  return `${host.chrooted() ? 'this process is in a chroot, where CLONE_NEWUSER fails with EPERM (unshare(2)); ' : ''}user.max_user_namespaces=${s('user/max_user_namespaces')}, kernel.unprivileged_userns_clone=${s('kernel/unprivileged_userns_clone')}, kernel.apparmor_restrict_unprivileged_userns=${s('kernel/apparmor_restrict_unprivileged_userns')}`;
}

const install = (pkg: string) => `install ${pkg}: apt-get install ${pkg}`;

/** Each requirement that is not met, as "needs X: what is wrong (how to meet it)". */
function problems(n: Needs, host: Host): string[] {
  const out: string[] = [];
  const rootFor = [n.root, n.asUser === undefined ? undefined : `switching to uid ${n.asUser} needs CAP_SETUID`].filter((x): x is string => !!x);
  if (rootFor.length && host.euid() !== 0) out.push(`needs root: this run has euid ${host.euid()}, and ${rootFor.join(' and ')} (run it as root)`);
  if (n.initialPidNamespace !== undefined) {
    const initial = host.initialPidNamespace();
    if (initial === false)
      out.push(
        `needs the initial PID namespace: this run is in a child PID namespace (a container, unshare --pid), and ${n.initialPidNamespace} (run it on the host)`,
      );
    else if (initial === null)
      out.push(
        `needs the initial PID namespace: /proc/self/ns/pid could not be read, so this run cannot tell which PID namespace it is in, and ${n.initialPidNamespace}`,
      );
  }
  const cmds = [...(n.asUser === undefined ? [] : ['setpriv']), ...(n.cmds ?? [])];
  for (const cmd of new Set(cmds)) {
    const entry = commandEntry(cmd)!; // needs() refused commands without one
    const label = entry.what ?? cmd;
    const path = findCommand(cmd, host);
    if (!path) out.push(`needs ${label}: ${isAbsolute(cmd) ? `${cmd} does not exist or is not executable` : 'not found on PATH'} (${install(entry.pkg)})`);
    else if (entry.check && !host.answers(path, entry.check))
      out.push(`needs ${label}: ${path} ${entry.check.join(' ')} did not answer, so it is another program (${install(entry.pkg)})`);
  }
  for (const f of n.files ?? []) if (!host.exists(f)) out.push(`needs ${f}: it does not exist here`);
  if (n.minKernel) {
    const have = kernelVersion(host.kernelRelease());
    if (!have) out.push(`needs Linux ${n.minKernel} or later: the kernel release "${host.kernelRelease()}" could not be read as a version`);
    else if (olderThan(have, kernelVersion(n.minKernel)!))
      out.push(`needs Linux ${n.minKernel} or later: this is ${host.kernelRelease()} (boot a newer kernel; npm run kernels runs the suite on others)`);
  }
  for (const f of n.kernelFeatures ?? []) {
    const { file, what } = KERNEL_FEATURES[f];
    if (!host.exists(file)) out.push(`needs ${what}: this kernel has no ${file} (boot a kernel built with it)`);
  }
  if (n.userns) {
    const why = usernsForbidden(host);
    if (why) out.push(`needs unprivileged user namespaces: ${why}`);
  }
  if (n.asUser !== undefined && host.euid() === 0) {
    // Only worth asking once switching is possible; as non-root the root line says why.
    const why = host.probesUnreachableBy(n.asUser);
    if (why) out.push(`needs the probes runnable by uid ${n.asUser}: ${why}`);
  }
  return out;
}

/** Why this test cannot run here, every unmet requirement named with how to meet it; undefined when all are met. */
export function unmet(n: Needs, host: Host = realHost): string | undefined {
  const p = problems(n, host);
  if (!p.length) return undefined;
  return `${p.join('; ')}${n.otherwise ? `: ${n.otherwise}` : ''}`;
}

/**
 * Test options that declare what the test needs: `test(name, needs({...}), fn)`,
 * or on a `describe` for every test in it. Refuses, when the file is
 * collected, a requirement it could not check or explain.
 */
export function needs(n: Needs): { meta: { needs: Needs } } {
  for (const cmd of n.cmds ?? []) {
    if (!commandEntry(cmd))
      throw new Error(
        `needs(): the command "${cmd}" is not in COMMANDS (helpers/harness/needs.ts); add it with the package that provides it, so that its skip reason can say what to install`,
      );
  }
  for (const f of n.kernelFeatures ?? [])
    if (!(f in KERNEL_FEATURES))
      throw new Error(`needs(): the kernel feature "${f}" is not in KERNEL_FEATURES (helpers/harness/needs.ts); add it with the file that shows it`);
  if (n.minKernel !== undefined && !kernelVersion(n.minKernel)) throw new Error(`needs(): minKernel "${n.minKernel}" is not a kernel version such as "5.3"`);
  if (n.asUser !== undefined && !(Number.isInteger(n.asUser) && n.asUser > 0)) throw new Error(`needs(): asUser ${n.asUser} is not a non-root UID`);
  return { meta: { needs: n } };
}

/**
 * Skip the running test, with the reason, when what it declared it needs is
 * not met: the body of vitest's beforeEach, or of an automatic fixture.
 */
export function skipUnmet(ctx: { task: { meta: { needs?: Needs } }; skip: (note: string) => never }, host: Host = realHost): void {
  const n = ctx.task.meta.needs;
  const why = n && unmet(n, host);
  if (why) ctx.skip(why);
}
