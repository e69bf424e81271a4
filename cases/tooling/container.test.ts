/**
 * helpers/harness/oci.ts, the container environment of `npm run
 * check:environments`: the translation of a containers/Docker seccomp profile
 * into the OCI runtime's form (rules kept or dropped by the container's
 * capabilities, architecture and kernel, as containers/common does it), the
 * default capabilities read from containers.conf, and the OCI configuration
 * Podman's defaults make. Pure functions over synthetic inputs, a check over
 * the profile Debian installs, and one container started with a shell (a
 * fraction of a second) to prove that crun takes the configuration and that
 * the container is what it says; the suite in it is check:environments' run
 * (npm run check:environments -- --only container).
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, test } from 'vitest';
import { decodeCaps } from '../../helpers/harness/environment.js';
import { needs } from '../../helpers/harness/needs.js';
import {
  CONTAINERS_CONF,
  CONTAINERS_SECCOMP,
  containerConfig,
  crunCommand,
  defaultCapabilities,
  hybridCgroups,
  kernelAtLeast,
  MASKED_PATHS,
  parseDefaultCapabilities,
  pid1Args,
  profileArch,
  READONLY_PATHS,
  seccompActionFor,
  translateSeccompProfile,
  type OciSeccomp,
  type SeccompProfile,
} from '../../helpers/harness/oci.js';

const X86 = { arch: 'amd64', scmpArch: 'SCMP_ARCH_X86_64', kernel: '6.1.0-13-amd64' };

/** A profile of the same shape as containers-common's, one rule per way a rule can be gated. */
const SYNTHETIC: SeccompProfile = {
  defaultAction: 'SCMP_ACT_ERRNO',
  defaultErrnoRet: 38,
  archMap: [
    { architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] },
    { architecture: 'SCMP_ARCH_AARCH64', subArchitectures: ['SCMP_ARCH_ARM'] },
  ],
  syscalls: [
    { names: ['read', 'write'], action: 'SCMP_ACT_ALLOW', args: [], includes: {}, excludes: {} },
    { names: ['kcmp'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_SYS_PTRACE'] } },
    { names: ['kcmp'], action: 'SCMP_ACT_ERRNO', errnoRet: 1, excludes: { caps: ['CAP_SYS_PTRACE'] } },
    { names: ['both'], action: 'SCMP_ACT_ALLOW', includes: { caps: ['CAP_A', 'CAP_B'] } },
    { names: ['arch_prctl'], action: 'SCMP_ACT_ALLOW', includes: { arches: ['amd64', 'x32'] } },
    { names: ['not_on_arm'], action: 'SCMP_ACT_ALLOW', excludes: { arches: ['arm64'] } },
    { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38, excludes: { caps: ['CAP_SYS_ADMIN'] } },
    { names: ['newcall'], action: 'SCMP_ACT_ALLOW', includes: { minKernel: '5.8' } },
    { names: ['oldway'], action: 'SCMP_ACT_ERRNO', errnoRet: 1, excludes: { minKernel: '5.8' } },
    { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 8, op: 'SCMP_CMP_EQ' }] },
  ],
};

const translate = (caps: string[], over: Partial<typeof X86> = {}) => translateSeccompProfile(SYNTHETIC, { caps, ...X86, ...over });
const act = (s: OciSeccomp, name: string) => seccompActionFor(s, name);

describe('seccomp profile translation', () => {
  test('the native architecture brings its sub-architectures from archMap, and only those', () => {
    expect(translate([]).architectures).toEqual(['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
    expect(translate([], { arch: 'arm64', scmpArch: 'SCMP_ARCH_AARCH64' }).architectures).toEqual(['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
  });

  test('the default action and errno are kept: a call the profile does not name fails with ENOSYS', () => {
    expect(act(translate([]), 'no_such_call')).toEqual({ action: 'SCMP_ACT_ERRNO', errno: 38 });
  });

  test('includes.caps keeps a rule only with the capability, excludes.caps drops it with it', () => {
    expect(act(translate(['CAP_SYS_PTRACE']), 'kcmp')).toEqual({ action: 'SCMP_ACT_ALLOW' });
    expect(act(translate([]), 'kcmp')).toEqual({ action: 'SCMP_ACT_ERRNO', errno: 1 });
    expect(translate([]).syscalls.filter((r) => r.names.includes('kcmp'))).toHaveLength(1);
  });

  test('includes.caps needs every capability listed; excludes.caps drops the rule on any one', () => {
    expect(act(translate(['CAP_A']), 'both').action).toBe('SCMP_ACT_ERRNO');
    expect(act(translate(['CAP_A', 'CAP_B']), 'both').action).toBe('SCMP_ACT_ALLOW');
    expect(act(translate([]), 'clone3')).toEqual({ action: 'SCMP_ACT_ERRNO', errno: 38 });
    expect(act(translate(['CAP_SYS_ADMIN']), 'clone3')).toEqual({ action: 'SCMP_ACT_ERRNO', errno: 38 }); // the default, no rule left
    expect(translate(['CAP_SYS_ADMIN']).syscalls.some((r) => r.names.includes('clone3'))).toBe(false);
  });

  test('includes.arches and excludes.arches match the architecture by its Go name', () => {
    expect(act(translate([]), 'arch_prctl').action).toBe('SCMP_ACT_ALLOW');
    expect(act(translate([], { arch: 'arm64', scmpArch: 'SCMP_ARCH_AARCH64' }), 'arch_prctl').action).toBe('SCMP_ACT_ERRNO');
    expect(act(translate([]), 'not_on_arm').action).toBe('SCMP_ACT_ALLOW');
    expect(act(translate([], { arch: 'arm64', scmpArch: 'SCMP_ARCH_AARCH64' }), 'not_on_arm').action).toBe('SCMP_ACT_ERRNO');
  });

  test('minKernel: includes needs a kernel at least that, excludes drops the rule from that kernel on', () => {
    expect(act(translate([], { kernel: '5.8.0' }), 'newcall').action).toBe('SCMP_ACT_ALLOW');
    expect(act(translate([], { kernel: '5.4.0-150-generic' }), 'newcall').action).toBe('SCMP_ACT_ERRNO');
    expect(act(translate([], { kernel: '5.4.0' }), 'oldway')).toEqual({ action: 'SCMP_ACT_ERRNO', errno: 1 });
    expect(translate([], { kernel: '6.18.44-fc' }).syscalls.some((r) => r.names.includes('oldway'))).toBe(false);
    expect([kernelAtLeast('5.10', '5.8'), kernelAtLeast('5.7.19', '5.8'), kernelAtLeast('5.8', '5.8.0')]).toEqual([true, false, true]);
  });

  test('argument conditions are carried with valueTwo filled in; a rule with them is not the call\u2019s unconditional action', () => {
    const r = translate([]).syscalls.find((x) => x.names.includes('personality'));
    expect(r?.args).toEqual([{ index: 0, value: 8, valueTwo: 0, op: 'SCMP_CMP_EQ' }]);
    expect(act(translate([]), 'personality').action).toBe('SCMP_ACT_ERRNO');
  });

  test('a profile with both architectures and archMap, or a rule with both name and names, is refused with the reason', () => {
    expect(() => translateSeccompProfile({ ...SYNTHETIC, architectures: ['SCMP_ARCH_X86_64'] }, { caps: [], ...X86 })).toThrow(
      /both "architectures" and "archMap"/,
    );
    expect(() => translateSeccompProfile({ ...SYNTHETIC, syscalls: [{ name: 'a', names: ['b'], action: 'SCMP_ACT_ALLOW' }] }, { caps: [], ...X86 })).toThrow(
      /both "name" \(a\) and "names"/,
    );
  });
});

describe(`the profile Debian installs (${CONTAINERS_SECCOMP})`, needs({ files: [CONTAINERS_SECCOMP, CONTAINERS_CONF] }), () => {
  const profile = () => JSON.parse(readFileSync(CONTAINERS_SECCOMP, 'utf8')) as SeccompProfile;
  const host = () => ({ ...profileArch(), kernel: '6.1.0' });
  const podman = () => {
    const { go, scmp } = host();
    return translateSeccompProfile(profile(), { caps: defaultCapabilities([CONTAINERS_CONF]).caps, arch: go, scmpArch: scmp, kernel: '6.1.0' });
  };

  test('with podman\u2019s capabilities: what no rule names fails with the default errno (ENOSYS), and the capability-gated calls are refused with EPERM', () => {
    const s = podman();
    expect(profile().defaultErrnoRet).toBe(38);
    expect(act(s, 'no_such_call')).toEqual({ action: 'SCMP_ACT_ERRNO', errno: 38 });
    // Refused without CAP_SYS_PTRACE, CAP_SYS_ADMIN, CAP_SYS_MODULE, CAP_SYS_TIME: none of them is in podman's default set.
    for (const call of ['kcmp', 'sethostname', 'init_module', 'settimeofday']) expect(act(s, call), call).toEqual({ action: 'SCMP_ACT_ERRNO', errno: 1 });
    // CAP_SYS_CHROOT is in the set: chroot is allowed.
    expect(act(s, 'chroot').action).toBe('SCMP_ACT_ALLOW');
  });

  test('kcmp is gated on CAP_SYS_PTRACE: allowed with it', () => {
    const { go, scmp } = host();
    const s = translateSeccompProfile(profile(), { caps: ['CAP_SYS_PTRACE'], arch: go, scmpArch: scmp, kernel: '6.1.0' });
    expect(act(s, 'kcmp').action).toBe('SCMP_ACT_ALLOW');
  });

  test('clone3 gets what the profile says for a container without CAP_SYS_ADMIN', () => {
    // Docker's and later containers-common profiles make clone3 fail with ENOSYS (excludes CAP_SYS_ADMIN) so
    // that libc falls back to clone; containers-common 0.50 (Debian 12) allows it unconditionally.
    const gated = profile().syscalls.find((r) => r.names?.includes('clone3') && r.action === 'SCMP_ACT_ERRNO');
    expect(act(podman(), 'clone3')).toEqual(gated ? { action: 'SCMP_ACT_ERRNO', errno: gated.errnoRet } : { action: 'SCMP_ACT_ALLOW' });
    for (const call of ['clone', 'fork', 'vfork', 'tgkill', 'ptrace', 'unshare', 'pidfd_open']) expect(act(podman(), call).action, call).toBe('SCMP_ACT_ALLOW');
  });

  test('containers.conf gives the capabilities with the CAP_ prefix, and no CAP_SYS_ADMIN', () => {
    const { caps } = defaultCapabilities([CONTAINERS_CONF]);
    expect(caps.length).toBeGreaterThan(3);
    for (const c of caps) expect(c).toMatch(/^CAP_[A-Z_]+$/);
    expect(caps).not.toContain('CAP_SYS_ADMIN');
  });
});

describe('containers.conf', () => {
  const dir = mkdtempSync(join(tmpdir(), 'clonelab-conf-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('default_capabilities of the [containers] table, over lines, with comments; another table\u2019s key is not it', () => {
    const toml = [
      '[engine]',
      'default_capabilities = ["NOPE"]',
      '[containers]',
      '# default_capabilities = ["COMMENTED"]',
      'default_capabilities = [',
      '  "CHOWN", # why',
      "  'cap_kill',",
      ']',
    ].join('\n');
    expect(parseDefaultCapabilities(toml)).toEqual(['CAP_CHOWN', 'CAP_KILL']);
    expect(parseDefaultCapabilities('[containers]\n# default_capabilities = []\n')).toBeUndefined();
  });

  test('a later file that sets it replaces an earlier one; one that does not leaves it; none is an error that names the package', () => {
    const [a, b, c] = ['a', 'b', 'c'].map((n) => join(dir, n));
    writeFileSync(a!, '[containers]\ndefault_capabilities = ["CHOWN"]\n');
    writeFileSync(b!, '[containers]\ndefault_capabilities = ["KILL", "SETUID"]\n');
    writeFileSync(c!, '[containers]\nlog_driver = "k8s-file"\n');
    expect(defaultCapabilities([a!, b!, c!, join(dir, 'missing')])).toEqual({ caps: ['CAP_KILL', 'CAP_SETUID'], from: b });
    expect(() => defaultCapabilities([c!])).toThrow(/golang-github-containers-common/);
  });
});

describe('the OCI configuration', () => {
  const seccomp = translate([]);
  const config = (cgroupV2 = false) =>
    containerConfig({ args: ['x'], env: { A: '1' }, cwd: '/w', caps: ['CAP_KILL', 'CAP_CHOWN'], seccomp, writable: ['/w'], rootfs: '/b/rootfs', cgroupV2 }) as {
      process: { args: string[]; env: string[]; cwd: string; user: { uid: number }; capabilities: Record<string, string[]> };
      root: { path: string; readonly: boolean };
      mounts: { destination: string; type: string; options: string[] }[];
      linux: { namespaces: { type: string }[]; maskedPaths: string[]; readonlyPaths: string[]; seccomp: OciSeccomp };
    };

  test('new PID, mount, UTS, IPC and network namespaces; a cgroup one only on cgroup v2; never a user namespace', () => {
    expect(config().linux.namespaces.map((n) => n.type)).toEqual(['pid', 'mount', 'uts', 'ipc', 'network']);
    expect(config(true).linux.namespaces.map((n) => n.type)).toEqual(['pid', 'mount', 'uts', 'ipc', 'network', 'cgroup']);
  });

  test('podman\u2019s masked and read-only paths', () => {
    const c = config();
    for (const p of ['/proc/kcore', '/proc/keys', '/proc/timer_list', '/proc/sched_debug', '/proc/acpi', '/proc/scsi', '/sys/firmware'])
      expect(c.linux.maskedPaths).toContain(p);
    for (const p of ['/proc/sys', '/proc/sysrq-trigger', '/proc/irq', '/proc/bus']) expect(c.linux.readonlyPaths).toContain(p);
    expect(c.linux.maskedPaths).toEqual([...MASKED_PATHS]);
    expect(c.linux.readonlyPaths).toEqual([...READONLY_PATHS]);
  });

  test('the capabilities are bounding, effective and permitted, none inheritable or ambient, for uid 0', () => {
    const c = config();
    expect(c.process.capabilities).toEqual({ bounding: ['CAP_KILL', 'CAP_CHOWN'], effective: ['CAP_KILL', 'CAP_CHOWN'], permitted: ['CAP_KILL', 'CAP_CHOWN'] });
    expect(c.process.user.uid).toBe(0);
  });

  test('a read-only root, a fresh /proc, the writable directories bound read-write, the seccomp filter as translated', () => {
    const c = config();
    expect(c.root).toEqual({ path: '/b/rootfs', readonly: true });
    expect(c.mounts.find((m) => m.destination === '/proc')?.type).toBe('proc');
    expect(c.mounts.find((m) => m.destination === '/w')).toMatchObject({ type: 'bind', options: ['rbind', 'rw'] });
    expect(c.linux.seccomp).toBe(seccomp);
    expect([c.process.args, c.process.env, c.process.cwd]).toEqual([['x'], ['A=1'], '/w']);
  });

  test('PID 1 is a shell with the command as its child: the trailing exit keeps it from exec\u2019ing the command', () => {
    expect(pid1Args(['node', 'a b'])).toEqual(['/bin/sh', '-c', '"$@"; exit $?', 'sh', 'node', 'a b']);
  });
});

describe('hybridCgroups', () => {
  test('a cgroup2 mount at /sys/fs/cgroup/unified is hybrid; cgroup2 at /sys/fs/cgroup is not', () => {
    const v1 = '30 24 0:26 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu';
    expect(hybridCgroups(`${v1}\n39 24 0:35 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw`)).toBe(true);
    expect(hybridCgroups('29 23 0:25 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw')).toBe(false);
  });
});

describe(
  'a container started by crun',
  needs({ root: 'a rootful container, as podman run by root', cmds: ['crun', 'unshare', 'mount', 'sh'], files: [CONTAINERS_SECCOMP, CONTAINERS_CONF] }),
  () => {
    const bundle = mkdtempSync(join(tmpdir(), 'clonelab-oci-'));
    afterAll(() => rmSync(bundle, { recursive: true, force: true }));

    test('has the capabilities, seccomp filter, hostname, PID 1 and masked paths it was given', async () => {
      mkdirSync(join(bundle, 'rootfs'));
      const { caps } = defaultCapabilities([CONTAINERS_CONF]);
      const { go, scmp } = profileArch();
      const seccomp = translateSeccompProfile(JSON.parse(readFileSync(CONTAINERS_SECCOMP, 'utf8')) as SeccompProfile, {
        caps,
        arch: go,
        scmpArch: scmp,
        kernel: '6.1.0',
      });
      const script = 'grep -E "^(CapEff|Seccomp):" /proc/self/status; echo "NSpid: $$"; hostname; cat /proc/1/comm; wc -c </proc/keys; touch /etc/x 2>&1 || :';
      const config = containerConfig({
        args: pid1Args(['sh', '-c', script]),
        env: { PATH: '/usr/bin:/bin' },
        cwd: '/',
        caps,
        seccomp,
        writable: [],
        rootfs: join(bundle, 'rootfs'),
      });
      writeFileSync(join(bundle, 'config.json'), JSON.stringify(config));
      const id = `clonelab-test-${process.pid}`;
      const [cmd, ...args] = crunCommand(bundle, id, hybridCgroups(readFileSync('/proc/self/mountinfo', 'utf8')));
      const r = await execa(cmd!, args, { reject: false, all: true, timeout: 20_000 });
      await execa('crun', ['delete', '--force', id], { reject: false });
      expect(r.exitCode, r.all).toBe(0);
      const lines = r.stdout.split('\n');
      const field = (name: string) => lines.find((l) => l.startsWith(`${name}:`))?.split(/\s+/)[1];
      expect(decodeCaps(field('CapEff')).sort()).toEqual([...caps].sort());
      expect(field('Seccomp')).toBe('2'); // SECCOMP_MODE_FILTER
      expect(field('NSpid')).toBe('2'); // sh -c is PID 1, the script's shell its child
      expect(lines).toContain('clonelab-container');
      expect(lines).toContain('sh'); // PID 1's comm
      expect(lines).toContain('0'); // /proc/keys covered with /dev/null
      expect(r.all).toMatch(/Read-only file system/);
    });
  },
);
