/**
 * Facts about where this run happens, read once: every report carries them,
 * and checks that depend on privilege or namespaces ask here.
 */
import { readFileSync, statSync } from 'node:fs';
import { arch, hostname, release } from 'node:os';
import { execaSync } from 'execa';
import { builtLibcFeatures } from './build.js';
import { probeDirectory } from './probe.js';
import { errnoOf, readStatus, statusNumbers } from './procfs.js';

/** Capability names by bit number (include/uapi/linux/capability.h). */
const CAPABILITY_NAMES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN',
  'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE', 'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
];

export interface Environment {
  /** A name for the environment this run is in (CLONELAB_ENVIRONMENT, default "host"). */
  name: string;
  hostname: string;
  kernelRelease: string;
  kernelVersion: string;
  arch: string;
  libc: string;
  /**
   * Whether that libc has a gettid() wrapper, as helpers/harness/build.ts found by
   * compiling and linking a call to it (the probes were built accordingly);
   * null when no probes were built for this process.
   */
  libcGettid: boolean | null;
  node: string;
  euid: number;
  capabilities: string[];
  /**
   * PID-namespace levels that NSpid shows: one per level from the namespace
   * of the /proc mount down to this process's own, so a container with its
   * own /proc shows 1 however deep it is. See initialPidNamespace.
   */
  pidNamespaceDepth: number;
  /**
   * Whether this process is in the initial PID namespace: its ns/pid inode is
   * PROC_PID_INIT_INO (0xEFFFFFFC, include/linux/proc_ns.h), fixed for the
   * initial namespace. null when /proc/self/ns/pid cannot be read.
   */
  initialPidNamespace: boolean | null;
  pidNamespace: string | null;
  procMountOptions: string | null;
  /** procps `ps --version`, or null when there is no ps. */
  procps: string | null;
  /** Whether CI=true was set (CI runs as root with no stdin). */
  ci: boolean;
  /** clone3(2): "available", or the errno that made libc and the suite fall back to clone (vitest global setup tries it). */
  clone3: string;
}

function decodeCaps(hex: string | undefined): string[] {
  if (!hex) return [];
  const bits = BigInt(`0x${hex}`);
  return CAPABILITY_NAMES.filter((_, i) => (bits >> BigInt(i)) & 1n);
}

function tryRead<T>(read: () => T): T | null {
  try {
    return read();
  } catch {
    return null;
  }
}

function libc(): string {
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  if (header?.glibcVersionRuntime) return `glibc ${header.glibcVersionRuntime}`;
  // musl's loader prints its version on stderr when run as `ldd`
  const r = tryRead(() => execaSync('ldd', ['--version'], { reject: false, all: true }));
  const m = r?.all?.match(/musl libc.*\n\s*Version\s+([\d.]+)/i);
  return m ? `musl ${m[1]}` : 'unknown';
}

/** The mount options of the /proc this process sees (from its own mountinfo). */
function procMount(): string | null {
  const info = tryRead(() => readFileSync('/proc/self/mountinfo', 'utf8'));
  if (!info) return null;
  let found: string | null = null;
  for (const line of info.split('\n')) {
    // proc(5) mountinfo: "36 35 98:0 / /proc rw,nosuid - proc proc rw,hidepid=2".
    // The last /proc line is the mount on top, the one path lookups see.
    const [left, right] = line.split(' - ');
    const f = left?.split(' ');
    if (f?.[4] === '/proc' && right?.startsWith('proc ')) found = `${f[5]} ${right.split(' ')[2] ?? ''}`.trim();
  }
  return found;
}

function procps(): string | null {
  const r = tryRead(() => execaSync('ps', ['--version'], { reject: false }));
  return r && r.exitCode === 0 ? r.stdout.trim() : null;
}

const PROC_PID_INIT_INO = 0xeffffffc;

let cached: Environment | undefined;

export function environment(): Environment {
  if (cached) return cached;
  const self = readStatus(process.pid);
  cached = {
    name: process.env.CLONELAB_ENVIRONMENT ?? 'host',
    hostname: hostname(),
    kernelRelease: release(),
    kernelVersion: tryRead(() => readFileSync('/proc/sys/kernel/version', 'utf8').trim()) ?? 'unknown',
    arch: arch(),
    libc: libc(),
    libcGettid: tryRead(() => builtLibcFeatures(probeDirectory())?.gettid) ?? null,
    node: process.version,
    euid: process.geteuid!(), // always there on Linux (POSIX platforms)
    capabilities: decodeCaps(self.CapEff),
    pidNamespaceDepth: statusNumbers(self, 'NSpid')?.length ?? 1,
    pidNamespace: tryRead(() => `pid:[${statSync('/proc/self/ns/pid').ino}]`),
    initialPidNamespace: tryRead(() => statSync('/proc/self/ns/pid').ino === PROC_PID_INIT_INO),
    procMountOptions: procMount(),
    procps: procps(),
    ci: process.env.CI === 'true' || process.env.CI === '1',
    clone3: process.env.CLONELAB_CLONE3 ?? 'not tried',
  };
  return cached;
}

/** Is /proc there at all? Everything clonelab observes is read through it. */
export function procProblem(): string | undefined {
  try {
    readStatus(process.pid);
    return undefined;
  } catch (e) {
    return `cannot read /proc/${process.pid}/status (${errnoOf(e) ?? String(e)}): clonelab needs procfs mounted at /proc (mount -t proc proc /proc)`;
  }
}


/**
 * Inside a guest of `npm run kernels` (emulated, often 10x slower), tests of
 * kernel-independent tooling are skipped with this reason: they are checked
 * on the host. Returns undefined on the host.
 */
export function hostOnlyReason(what: string): string | undefined {
  return process.env.CLONELAB_IN_GUEST ? `${what} is checked on the host, not inside an emulated kernel-matrix guest` : undefined;
}
