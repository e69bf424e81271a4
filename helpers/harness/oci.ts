/**
 * An OCI container as Podman makes one by default, for `npm run
 * check:environments` (environment "container"): the runtime configuration
 * (config.json of the OCI runtime spec) a rootful `podman run` gives a
 * command, run by crun. Pure functions, so that the translation of the
 * seccomp profile and the configuration can be tested without a container.
 *
 * Podman's defaults, and where each comes from:
 * - seccomp: containers-common's profile (/usr/share/containers/seccomp.json),
 *   in the containers/Docker profile format (defaultAction, archMap,
 *   syscalls[{names, action, args, includes, excludes}]); the runtime takes the
 *   OCI `linux.seccomp` form, so the profile is translated for this container's
 *   capabilities, architecture and kernel (translateSeccompProfile).
 * - capabilities: containers.conf's `default_capabilities`
 *   (/usr/share/containers/containers.conf, overridden by /etc/containers/ and
 *   ~/.config/containers/ as containers.conf(5) says), bounding, effective and
 *   permitted, none inheritable or ambient, as podman gives a root container.
 * - masked and read-only paths: podman's lists (MASKED_PATHS, READONLY_PATHS),
 *   which the runtime covers with /dev/null (or an empty read-only tmpfs for a
 *   directory) and remounts read-only.
 * - namespaces: new PID, mount, UTS, IPC and network ones; the cgroup
 *   namespace only on cgroup v2 (podman's cgroupns=private default there, host
 *   on v1); no user namespace (rootful).
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { inPrivateMountNamespace } from './privilege.js';

// ---------------------------------------------------------------- seccomp

/** One rule of a containers/Docker seccomp profile (containers-common's seccomp.json). */
export interface ProfileSyscall {
  names?: string[];
  name?: string;
  action: string;
  args?: SeccompArg[] | null;
  errnoRet?: number;
  includes?: ProfileFilter;
  excludes?: ProfileFilter;
  comment?: string;
}

/** When a rule applies: every capability listed, one of the architectures, the kernel at least minKernel. */
export interface ProfileFilter {
  caps?: string[];
  arches?: string[];
  minKernel?: string;
}

export interface SeccompProfile {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  archMap?: { architecture: string; subArchitectures?: string[] }[];
  syscalls: ProfileSyscall[];
}

export interface SeccompArg {
  index: number;
  value: number;
  valueTwo?: number;
  op: string;
}

/** The OCI runtime spec's linux.seccomp (config-linux.md#seccomp). */
export interface OciSeccomp {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  syscalls: { names: string[]; action: string; errnoRet?: number; args?: SeccompArg[] }[];
}

/** What a profile's rules are matched against. */
export interface SeccompTarget {
  /** The container's capabilities (its bounding set), CAP_ names. */
  caps: readonly string[];
  /** The architecture as the profile names it in includes/excludes (Go's GOARCH: amd64, arm64...). */
  arch: string;
  /** The kernel release (uname -r), for minKernel. */
  kernel: string;
}

/** Node's process.arch -> the profile's names: Go's GOARCH for includes/excludes, libseccomp's for archMap. */
const ARCHES: Record<string, { go: string; scmp: string }> = {
  x64: { go: 'amd64', scmp: 'SCMP_ARCH_X86_64' },
  arm64: { go: 'arm64', scmp: 'SCMP_ARCH_AARCH64' },
  s390x: { go: 's390x', scmp: 'SCMP_ARCH_S390X' },
  ppc64: { go: 'ppc64le', scmp: 'SCMP_ARCH_PPC64LE' },
  riscv64: { go: 'riscv64', scmp: 'SCMP_ARCH_RISCV64' },
};

/** The profile's name for `nodeArch` (process.arch), or why there is none. */
export function profileArch(nodeArch: string = process.arch): { go: string; scmp: string } {
  const a = ARCHES[nodeArch];
  if (!a)
    throw new Error(
      `no seccomp architecture known for node's "${nodeArch}" (known: ${Object.keys(ARCHES).join(', ')}): add it to ARCHES in helpers/harness/oci.ts`,
    );
  return a;
}

/** "6.1.0-13-amd64" >= "5.8"? Compares the numeric major.minor.patch prefixes. */
export function kernelAtLeast(release: string, min: string): boolean {
  const nums = (s: string) => (s.match(/^\d+(\.\d+)*/)?.[0] ?? '0').split('.').map(Number);
  const [a, b] = [nums(release), nums(min)];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d) return d > 0;
  }
  return true;
}

/**
 * Whether a rule applies to the target, as containers/common's setupSeccomp
 * decides it (pkg/seccomp/seccomp_linux.go): an exclusion drops the rule when
 * the arch is one excluded, ANY excluded capability is held, or the kernel is
 * at least the excluded minKernel; an inclusion keeps it only when the arch is
 * one included, ALL included capabilities are held and the kernel is at least
 * minKernel. That is how one name gets two rules: `ptrace`-like calls allowed
 * with a capability (includes.caps) and refused without it (excludes.caps).
 */
export function ruleApplies(rule: ProfileSyscall, t: SeccompTarget): boolean {
  const ex = rule.excludes ?? {};
  const inc = rule.includes ?? {};
  if (ex.arches?.includes(t.arch)) return false;
  if (ex.caps?.some((c) => t.caps.includes(c))) return false;
  if (ex.minKernel && kernelAtLeast(t.kernel, ex.minKernel)) return false;
  if (inc.arches?.length && !inc.arches.includes(t.arch)) return false;
  if (inc.caps?.length && !inc.caps.every((c) => t.caps.includes(c))) return false;
  if (inc.minKernel && !kernelAtLeast(t.kernel, inc.minKernel)) return false;
  return true;
}

/**
 * The OCI linux.seccomp for a profile and a target: the native architecture
 * with its sub-architectures from archMap (x86-64 brings x86 and x32, so a
 * 32-bit syscall cannot slip past the filter), the default action and errno,
 * and the rules that apply, in the profile's order.
 */
export function translateSeccompProfile(profile: SeccompProfile, t: SeccompTarget & { scmpArch: string }): OciSeccomp {
  if (profile.architectures?.length && profile.archMap?.length)
    throw new Error('the seccomp profile has both "architectures" and "archMap": it must use one of them');
  const mapped = profile.archMap?.find((m) => m.architecture === t.scmpArch);
  const architectures = profile.architectures?.length ? profile.architectures : mapped ? [mapped.architecture, ...(mapped.subArchitectures ?? [])] : undefined;
  const syscalls: OciSeccomp['syscalls'] = [];
  for (const rule of profile.syscalls) {
    if (rule.name && rule.names?.length) throw new Error(`a seccomp profile rule has both "name" (${rule.name}) and "names": it must use one of them`);
    const names = rule.names?.length ? rule.names : rule.name ? [rule.name] : [];
    if (!names.length || !ruleApplies(rule, t)) continue;
    syscalls.push({
      names,
      action: rule.action,
      ...(rule.errnoRet !== undefined ? { errnoRet: rule.errnoRet } : {}),
      ...(rule.args?.length ? { args: rule.args.map((a) => ({ index: a.index, value: a.value, valueTwo: a.valueTwo ?? 0, op: a.op })) } : {}),
    });
  }
  return {
    defaultAction: profile.defaultAction,
    ...(profile.defaultErrnoRet !== undefined ? { defaultErrnoRet: profile.defaultErrnoRet } : {}),
    ...(architectures ? { architectures } : {}),
    syscalls,
  };
}

/**
 * What the filter does to one syscall called with no argument matching a
 * conditional rule: the first applying rule without arguments that names it,
 * else the default. (The kernel evaluates the filter; this is the profile's
 * reading, for tests and messages.)
 */
export function seccompActionFor(s: OciSeccomp, name: string): { action: string; errno?: number } {
  const r = s.syscalls.find((x) => x.names.includes(name) && !x.args?.length);
  if (r) return { action: r.action, ...(r.action === 'SCMP_ACT_ERRNO' ? { errno: r.errnoRet ?? s.defaultErrnoRet } : {}) };
  return { action: s.defaultAction, ...(s.defaultAction === 'SCMP_ACT_ERRNO' ? { errno: s.defaultErrnoRet } : {}) };
}

// ---------------------------------------------------------------- containers.conf

/** containers-common's files, as Debian's golang-github-containers-common installs them. */
export const CONTAINERS_SECCOMP = '/usr/share/containers/seccomp.json';
export const CONTAINERS_CONF = '/usr/share/containers/containers.conf';

/** containers.conf(5): the vendor file, then the administrator's, then the user's; a later `default_capabilities` replaces an earlier one. */
export function containersConfFiles(): string[] {
  return [CONTAINERS_CONF, '/etc/containers/containers.conf', join(process.env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'containers', 'containers.conf')];
}

/**
 * `default_capabilities = [ "CHOWN", ... ]` of a containers.conf's [containers]
 * table (TOML; this reads that one array, comments allowed), with the CAP_
 * prefix the OCI spec uses; undefined when the file does not set it.
 */
export function parseDefaultCapabilities(toml: string): string[] | undefined {
  let table = '';
  const lines = toml.split('\n').map((l) => l.replace(/#.*/, '').trim());
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const header = /^\[([^\]]+)\]$/.exec(line);
    if (header) table = (header[1] ?? '').trim();
    if (table !== 'containers' || !/^default_capabilities\s*=/.test(line)) continue;
    let text = line.slice(line.indexOf('=') + 1);
    while (!text.includes(']') && i + 1 < lines.length) text += lines[++i] ?? '';
    const items = [...text.matchAll(/"([^"]*)"|'([^']*)'/g)].map((m) => (m[1] ?? m[2] ?? '').trim().toUpperCase());
    return items.map((c) => (c.startsWith('CAP_') ? c : `CAP_${c}`));
  }
  return undefined;
}

/** The default capability set and the file it came from (the last of containersConfFiles() that sets it). */
export function defaultCapabilities(files: string[] = containersConfFiles()): { caps: string[]; from: string } {
  let found: { caps: string[]; from: string } | undefined;
  for (const f of files.filter((x) => existsSync(x))) {
    const caps = parseDefaultCapabilities(readFileSync(f, 'utf8'));
    if (caps) found = { caps, from: f };
  }
  if (!found)
    throw new Error(
      `no containers.conf sets default_capabilities (looked in ${files.join(', ')}): install Debian's golang-github-containers-common (apt-get install golang-github-containers-common)`,
    );
  return found;
}

// ---------------------------------------------------------------- the configuration

/**
 * Podman's masked paths (covered with /dev/null, a directory with an empty
 * read-only tmpfs): kernel memory, keys, timers and hardware the container
 * must not read. A path the kernel lacks is skipped by the runtime.
 */
export const MASKED_PATHS = [
  '/proc/acpi',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/sys/dev/block',
  '/sys/devices/virtual/powercap',
  '/sys/firmware',
  '/sys/fs/selinux',
] as const;

/** Podman's read-only paths (remounted read-only in the container's /proc). */
export const READONLY_PATHS = ['/proc/asound', '/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'] as const;

export interface ContainerSpec {
  /** The command PID 1 runs (argv). */
  args: string[];
  env: Record<string, string>;
  cwd: string;
  caps: readonly string[];
  seccomp: OciSeccomp;
  /** Host directories bound read-write at the same path (the checkout as a volume, the report directory, the cache). */
  writable: readonly string[];
  hostname?: string;
  /** The root directory: the host's / bound there (helpers/harness/oci-run.ts does it in a mount namespace of its own). */
  rootfs: string;
  /** Whether the host's cgroup hierarchy is v2 (podman's private cgroup namespace); v1 keeps the host's. */
  cgroupV2?: boolean;
}

/** Namespaces podman gives a rootful container by default. */
export function containerNamespaces(cgroupV2: boolean): { type: string }[] {
  return [...['pid', 'mount', 'uts', 'ipc', 'network'], ...(cgroupV2 ? ['cgroup'] : [])].map((type) => ({ type }));
}

/**
 * The OCI config.json. The root is the host's / (bound at `rootfs`: a
 * runtime cannot pivot_root into the very mount it stands on), read-only:
 * the container sees the host's files (gcc, node, the checkout) but writes
 * only to the tmpfs /tmp, /run and /dev/shm, and to the `writable` binds, as
 * a user's `podman run -v $PWD:$PWD` would. (Mounts below / on the host, other
 * than those the container mounts again, keep their own flags.)
 */
export function containerConfig(s: ContainerSpec): Record<string, unknown> {
  const caps = [...s.caps];
  const nosuid = ['nosuid', 'noexec', 'nodev'];
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: { uid: 0, gid: 0 },
      args: s.args,
      env: Object.entries(s.env).map(([k, v]) => `${k}=${v}`),
      cwd: s.cwd,
      capabilities: { bounding: caps, effective: caps, permitted: caps },
      noNewPrivileges: false,
    },
    root: { path: s.rootfs, readonly: true },
    hostname: s.hostname ?? 'clonelab-container',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: [...nosuid, 'mode=1777', 'size=65536k'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: nosuid },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: [...nosuid, 'ro'] },
      { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777'] },
      { destination: '/run', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=755'] },
      ...s.writable.map((d) => ({ destination: d, type: 'bind', source: d, options: ['rbind', 'rw'] })),
    ],
    linux: {
      namespaces: containerNamespaces(s.cgroupV2 ?? false),
      maskedPaths: [...MASKED_PATHS],
      readonlyPaths: [...READONLY_PATHS],
      seccomp: s.seccomp,
    },
  };
}

/**
 * What PID 1 runs: `sh -c` with the command as its child, as `podman run
 * IMAGE sh -c "npm test"` gives. Not an init (no --init: no catatonit/tini),
 * but a shell that waits with waitpid(-1), so orphans reparented to it are
 * reaped while it waits; the trailing `exit` keeps dash from exec'ing the
 * command in its place (which would make node PID 1).
 */
export function pid1Args(command: readonly string[]): string[] {
  return ['/bin/sh', '-c', '"$@"; exit $?', 'sh', ...command];
}

/**
 * Whether this host's cgroups are hybrid (v1 controllers, with a v2 hierarchy
 * at /sys/fs/cgroup/unified), from a mountinfo's text (proc(5)): crun refuses
 * to start any container there when that hierarchy has controllers
 * (libcrun/cgroup.c: "cgroups in hybrid mode not supported").
 */
export function hybridCgroups(mountinfo: string): boolean {
  return mountinfo.split('\n').some((l) => l.split(' ')[4] === '/sys/fs/cgroup/unified' && l.includes(' - cgroup2 '));
}

/**
 * The command that runs the container of `bundle` (its config.json, root.path
 * its `rootfs` directory) under crun, in a private mount namespace of its own
 * where the host's / is bound at rootfs (a runtime cannot pivot_root into the
 * mount it stands on) and, on a hybrid host, the v2 hierarchy is unmounted so
 * that crun sees plain v1. No cgroup of its own (--cgroup-manager=disabled):
 * the container stays in the caller's cgroup, as no resource limit is set.
 * crun run forks the container and waits for it, exiting with its status.
 */
export function crunCommand(bundle: string, id: string, hybrid: boolean): string[] {
  return [
    ...inPrivateMountNamespace(`${hybrid ? 'umount /sys/fs/cgroup/unified && ' : ''}mount --rbind / "$0"`, join(bundle, 'rootfs')),
    'crun',
    '--cgroup-manager=disabled',
    'run',
    '--bundle',
    bundle,
    id,
  ];
}
