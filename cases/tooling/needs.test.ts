/**
 * helpers/harness/needs.ts: every requirement met and unmet (over made-up
 * host facts, so each branch runs on any machine), the reasons it generates,
 * the checks it makes on the real machine (PATH lookup, a command that is
 * another program, mode bits of the probe cache), and, in a nested vitest
 * run, that a test declared with unmet needs is skipped with that reason
 * before its body runs.
 */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { dir as tmpDir } from 'tmp-promise';
import { describe, expect } from 'vitest';
import {
  findCommand,
  kernelVersion,
  needs,
  realHost,
  skipUnmet,
  unmet,
  unreachableBy,
  usernsSettings,
  type Host,
  type Needs,
} from '../../helpers/harness/needs.js';
import { test } from '../../helpers/observations.js';

/** A machine where everything is there: root in the initial PID namespace, every command, Linux 6.12. */
const host = (over: Partial<Host> = {}): Host => ({
  euid: () => 0,
  initialPidNamespace: () => true,
  which: (cmd) => (isAbsolute(cmd) ? cmd : `/usr/bin/${cmd}`),
  answers: () => true,
  exists: () => true,
  kernelRelease: () => '6.12.0-1-amd64',
  sysctl: () => undefined,
  chrooted: () => false,
  probesUnreachableBy: () => undefined,
  ...over,
});

const noCommand = (...missing: string[]) => ({ which: (cmd: string) => (missing.includes(cmd) ? undefined : `/usr/bin/${cmd}`) });
const sysctls = (values: Record<string, string>) => ({ sysctl: (n: string) => values[n] });

describe('each requirement, met and unmet', () => {
  test.for([
    { what: 'root, as root', needs: { root: 'changing UIDs needs CAP_SETUID' }, host: {}, reason: undefined },
    {
      what: 'root, as a user',
      needs: { root: 'changing UIDs needs CAP_SETUID' },
      host: { euid: () => 1000 },
      reason: 'needs root: this run has euid 1000, and changing UIDs needs CAP_SETUID (run it as root)',
    },
    { what: 'a command on PATH', needs: { cmds: ['strace'] }, host: {}, reason: undefined },
    {
      what: 'a command missing',
      needs: { cmds: ['strace'] },
      host: noCommand('strace'),
      reason: 'needs strace: not found on PATH (install strace: apt-get install strace)',
    },
    {
      what: 'a command that is another program',
      needs: { cmds: ['ps'], otherwise: 'C4 stays inconclusive' },
      host: { answers: (path: string, args: string[]) => !(path === '/usr/bin/ps' && args.join(' ') === '--version') },
      reason:
        "needs procps's ps (busybox ps has no thread views): /usr/bin/ps --version did not answer, so it is another program (install procps: apt-get install procps): C4 stays inconclusive",
    },
    {
      what: 'ps missing',
      needs: { cmds: ['ps'], otherwise: 'C4 stays inconclusive' },
      host: noCommand('ps'),
      reason: "needs procps's ps (busybox ps has no thread views): not found on PATH (install procps: apt-get install procps): C4 stays inconclusive",
    },
    {
      what: 'a command by its path, missing',
      needs: { cmds: ['/bin/bash'] },
      host: noCommand('/bin/bash'),
      reason: 'needs /bin/bash: /bin/bash does not exist or is not executable (install bash: apt-get install bash)',
    },
    { what: 'a command found under its other name', needs: { cmds: ['chromium'] }, host: noCommand('chromium'), reason: undefined },
    {
      what: 'a command missing under every name',
      needs: { cmds: ['chromium'] },
      host: noCommand('chromium', 'chromium-browser'),
      reason: 'needs chromium: not found on PATH (install chromium: apt-get install chromium)',
    },
    { what: 'a file', needs: { files: ['/proc/self/ns/pid'] }, host: {}, reason: undefined },
    {
      what: 'a file missing',
      needs: { files: ['/proc/self/ns/pid'] },
      host: { exists: () => false },
      reason: 'needs /proc/self/ns/pid: it does not exist here',
    },
    { what: 'a kernel new enough, compared as numbers', needs: { minKernel: '5.9' }, host: { kernelRelease: () => '5.10.0-30-amd64' }, reason: undefined },
    { what: 'exactly that kernel', needs: { minKernel: '5.3' }, host: { kernelRelease: () => '5.3' }, reason: undefined },
    {
      what: 'a kernel too old',
      needs: { minKernel: '5.3' },
      host: { kernelRelease: () => '4.19.0-27-amd64' },
      reason: 'needs Linux 5.3 or later: this is 4.19.0-27-amd64 (boot a newer kernel; npm run kernels runs the suite on others)',
    },
    {
      what: 'a kernel release that is not a version',
      needs: { minKernel: '5.3' },
      host: { kernelRelease: () => 'custom' },
      reason: 'needs Linux 5.3 or later: the kernel release "custom" could not be read as a version',
    },
    { what: 'a kernel feature', needs: { kernelFeatures: ['seccomp-filter', 'pid-namespaces'] }, host: {}, reason: undefined },
    {
      what: 'a kernel feature missing',
      needs: { kernelFeatures: ['seccomp-filter', 'pid-namespaces'] },
      host: { exists: (p: string) => p !== '/proc/sys/kernel/seccomp/actions_avail' },
      reason:
        'needs seccomp filters (CONFIG_SECCOMP_FILTER; Linux 4.14 or later to tell): this kernel has no /proc/sys/kernel/seccomp/actions_avail (boot a kernel built with it)',
    },
    {
      what: 'user namespaces allowed',
      needs: { userns: true },
      host: sysctls({ 'user/max_user_namespaces': '15000', 'kernel/unprivileged_userns_clone': '1' }),
      reason: undefined,
    },
    {
      what: 'user namespaces: none allowed',
      needs: { userns: true },
      host: sysctls({ 'user/max_user_namespaces': '0' }),
      reason:
        'needs unprivileged user namespaces: user.max_user_namespaces is 0, so CLONE_NEWUSER fails with ENOSPC (sysctl -w user.max_user_namespaces=15000)',
    },
    {
      what: 'user namespaces: not without privilege (Debian sysctl)',
      needs: { userns: true },
      host: sysctls({ 'kernel/unprivileged_userns_clone': '0' }),
      reason:
        'needs unprivileged user namespaces: kernel.unprivileged_userns_clone is 0, so CLONE_NEWUSER without privilege fails with EPERM (sysctl -w kernel.unprivileged_userns_clone=1)',
    },
    {
      what: 'user namespaces: in a chroot',
      needs: { userns: true },
      host: { chrooted: () => true },
      reason: 'needs unprivileged user namespaces: this process is in a chroot, where CLONE_NEWUSER fails with EPERM (unshare(2)); run outside the chroot',
    },
    { what: 'another user, as root', needs: { asUser: 65534 }, host: {}, reason: undefined },
    {
      what: 'another user, as a user without setpriv',
      needs: { asUser: 65534 },
      host: { euid: () => 1000, ...noCommand('setpriv') },
      reason:
        'needs root: this run has euid 1000, and switching to uid 65534 needs CAP_SETUID (run it as root); needs setpriv: not found on PATH (install util-linux: apt-get install util-linux)',
    },
    {
      what: 'another user who cannot reach the probes',
      needs: { asUser: 65534 },
      host: { probesUnreachableBy: (uid: number) => `the probe cache /c is not reachable by uid ${uid}` },
      reason: 'needs the probes runnable by uid 65534: the probe cache /c is not reachable by uid 65534',
    },
    {
      what: 'root for two reasons',
      needs: { root: 'mounting a /proc needs CAP_SYS_ADMIN', asUser: 65534, cmds: ['unshare', 'mount', 'sh'] },
      host: { euid: () => 1000, ...noCommand('unshare') },
      reason:
        'needs root: this run has euid 1000, and mounting a /proc needs CAP_SYS_ADMIN and switching to uid 65534 needs CAP_SETUID (run it as root); needs unshare: not found on PATH (install util-linux: apt-get install util-linux)',
    },
    { what: 'the initial PID namespace, there', needs: { initialPidNamespace: 'kernel threads live there' }, host: {}, reason: undefined },
    {
      what: 'the initial PID namespace, from a child one',
      needs: { initialPidNamespace: 'kernel threads live there' },
      host: { initialPidNamespace: () => false },
      reason:
        'needs the initial PID namespace: this run is in a child PID namespace (a container, unshare --pid), and kernel threads live there (run it on the host)',
    },
    {
      what: 'the initial PID namespace, when it cannot be told',
      needs: { initialPidNamespace: 'kernel threads live there' },
      host: { initialPidNamespace: () => null },
      reason:
        'needs the initial PID namespace: /proc/self/ns/pid could not be read, so this run cannot tell which PID namespace it is in, and kernel threads live there',
    },
    {
      what: 'root in the initial PID namespace, as a user in a child one: both said',
      needs: { root: 'r', initialPidNamespace: 'i' },
      host: { euid: () => 1000, initialPidNamespace: () => false },
      reason:
        'needs root: this run has euid 1000, and r (run it as root); needs the initial PID namespace: this run is in a child PID namespace (a container, unshare --pid), and i (run it on the host)',
    },
  ] as { what: string; needs: Needs; host: Partial<Host>; reason: string | undefined }[])('$what', ({ needs: n, host: over, reason }) => {
    needs(n); // a valid declaration
    expect(unmet(n, host(over))).toBe(reason);
  });

  test('nothing declared is always met', () => {
    expect(unmet({}, host({ euid: () => 1000, exists: () => false }))).toBeUndefined();
  });
});

describe('declaring', () => {
  test('needs() puts the requirements in the test meta', () => {
    expect(needs({ root: 'r', cmds: ['strace'] })).toEqual({ meta: { needs: { root: 'r', cmds: ['strace'] } } });
  });

  test.for([
    {
      needs: { cmds: ['frobnicate'] },
      error: /the command "frobnicate" is not in COMMANDS \(helpers\/harness\/needs.ts\); add it with the package that provides it/,
    },
    { needs: { cmds: ['/opt/x/frobnicate'] }, error: /the command "\/opt\/x\/frobnicate" is not in COMMANDS/ },
    { needs: { kernelFeatures: ['time-travel'] }, error: /the kernel feature "time-travel" is not in KERNEL_FEATURES/ },
    { needs: { minKernel: 'latest' }, error: /minKernel "latest" is not a kernel version such as "5.3"/ },
    { needs: { asUser: 0 }, error: /asUser 0 is not a non-root UID/ },
  ] as { needs: Needs; error: RegExp }[])('refuses $needs', ({ needs: n, error }) => {
    expect(() => needs(n)).toThrow(error);
  });

  test('skipUnmet skips with the reason, and only when a requirement is unmet', () => {
    const skipped: string[] = [];
    const ctx = (n?: Needs) => ({
      task: { meta: n ? { needs: n } : {} },
      skip: (note: string): never => {
        skipped.push(note);
        throw new Error('skipped');
      },
    });
    const user = host({ euid: () => 1000 });
    expect(() => skipUnmet(ctx({ root: 'changing UIDs needs CAP_SETUID' }), user)).toThrow('skipped');
    skipUnmet(ctx({ cmds: ['sh'] }), user);
    skipUnmet(ctx(), user);
    expect(skipped).toEqual(['needs root: this run has euid 1000, and changing UIDs needs CAP_SETUID (run it as root)']);
  });
});

describe('on this machine', () => {
  test('kernel releases read as versions', () => {
    expect(kernelVersion('6.18.44-fc-v857')).toEqual([6, 18, 44]);
    expect(kernelVersion('5.10')).toEqual([5, 10, 0]);
    expect(kernelVersion('6')).toEqual([6, 0, 0]);
    expect(kernelVersion('rc-6.1')).toBeUndefined();
    expect(kernelVersion(realHost.kernelRelease())).toBeDefined();
  });

  test('commands are looked up on PATH, and one that does not answer its check is another program', async () => {
    const work = await tmpDir({ unsafeCleanup: true, prefix: 'clonelab-needs-' });
    const before = process.env.PATH;
    try {
      // A "ps" that is not procps's: it refuses --version, as busybox's does.
      writeFileSync(join(work.path, 'ps'), '#!/bin/sh\nexit 1\n', { mode: 0o755 });
      process.env.PATH = work.path;
      expect(findCommand('ps')).toBe(join(work.path, 'ps'));
      expect(findCommand('strace')).toBeUndefined();
      expect(unmet({ cmds: ['ps'] })).toBe(
        `needs procps's ps (busybox ps has no thread views): ${join(work.path, 'ps')} --version did not answer, so it is another program (install procps: apt-get install procps)`,
      );
      expect(unmet({ cmds: ['strace'] })).toBe('needs strace: not found on PATH (install strace: apt-get install strace)');
    } finally {
      process.env.PATH = before;
      await work.cleanup();
    }
    expect(unmet({ cmds: ['sh', '/bin/sh'], files: ['/proc/self/status'] })).toBeUndefined();
    expect(unmet({ files: ['/nonexistent/clonelab'] })).toBe('needs /nonexistent/clonelab: it does not exist here');
  });

  test('the probe cache is reachable by another user only through searchable directories and executable probes (mode bits, not access(2) as root)', async () => {
    // Another user than the one running this test: the files below are ours, so our own uid would pass by the owner bits.
    const other = process.geteuid?.() === 65534 ? 65533 : 65534;
    const work = await tmpDir({ unsafeCleanup: true, prefix: 'clonelab-needs-' });
    try {
      const locked = join(work.path, 'home');
      const cache = join(locked, 'cache');
      mkdirSync(cache, { recursive: true });
      chmodSync(work.path, 0o755);
      chmodSync(locked, 0o700);
      writeFileSync(join(cache, 'ids'), '', { mode: 0o755 });
      expect(unreachableBy(other, cache)).toBe(
        `the probe cache ${cache} is not reachable by uid ${other}: ${locked} is not searchable by it (chmod o+x ${locked}, or set CLONELAB_CACHE_DIR to a directory every user can reach)`,
      );
      chmodSync(locked, 0o711);
      writeFileSync(join(cache, 'signals'), '', { mode: 0o700 });
      chmodSync(join(cache, 'signals'), 0o700);
      expect(unreachableBy(other, cache)).toBe(`the probes in ${cache} are not executable by uid ${other} (signals; built under a umask that drops o+x)`);
      chmodSync(join(cache, 'signals'), 0o755);
      expect(unreachableBy(other, cache)).toBeUndefined();
      expect(unreachableBy(other, join(work.path, 'none'))).toMatch(/^the probe cache .*none could not be checked: ENOENT/);
    } finally {
      await work.cleanup();
    }
  });

  test('the user-namespace settings, for a runtime refusal', () => {
    expect(usernsSettings(host(sysctls({ 'user/max_user_namespaces': '0' })))).toBe(
      'user.max_user_namespaces=0, kernel.unprivileged_userns_clone=absent, kernel.apparmor_restrict_unprivileged_userns=absent',
    );
    expect(usernsSettings(host({ chrooted: () => true }))).toMatch(
      /^this process is in a chroot, where CLONE_NEWUSER fails with EPERM \(unshare\(2\)\); user\.max_user_namespaces=absent/,
    );
    expect(usernsSettings()).toMatch(/user\.max_user_namespaces=(\d+|absent), kernel\.unprivileged_userns_clone=/);
  });
});
