/**
 * Facts about where this run happens, read once: every report carries them
 * (the reporter records them with recordEnvironment(), and the claim rules
 * read the ones they may through helpers/claims/rule.ts), and checks that
 * depend on privilege or namespaces ask here (environment()).
 */
import { readFileSync, statSync } from 'node:fs';
import { arch, hostname, release } from 'node:os';
import { execaSync } from 'execa';
import { join } from 'node:path';
import { buildRecord, builtLibcFeatures, LIBC_VERSION_PROGRAM } from './build.js';
import { probeDirectory, probeWrap, runProbe } from './probe.js';
import { errnoOf, readStatus, statusNumbers } from './procfs.js';
import { unobservedReason } from '../unobserved.js';

/** Capability names by bit number (include/uapi/linux/capability.h). */
const CAPABILITY_NAMES = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST',
  'CAP_NET_ADMIN',
  'CAP_NET_RAW',
  'CAP_IPC_LOCK',
  'CAP_IPC_OWNER',
  'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO',
  'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG',
  'CAP_MKNOD',
  'CAP_LEASE',
  'CAP_AUDIT_WRITE',
  'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE',
  'CAP_MAC_ADMIN',
  'CAP_SYSLOG',
  'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ',
  'CAP_PERFMON',
  'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE',
];

/** What any process of the run reads at once, without running a probe (environment()). */
export interface HostEnvironment {
  /** A name for the environment this run is in (CLONELAB_ENVIRONMENT, default "host"). */
  name: string;
  hostname: string;
  kernelRelease: string;
  kernelVersion: string;
  arch: string;
  /**
   * The libc the probes were built against and run with, and its version:
   * "glibc 2.36" (gnu_get_libc_version() at run time, from a program built
   * with the probes), "musl 1.2.3" (musl has no version call: its loader's
   * version at build time, helpers/harness/build.ts). "unknown: why" when no
   * probes were built for this process.
   */
  libc: string;
  /** The libc node itself runs on (process.report's glibcVersionRuntime): not the probes'. */
  nodeLibc: string;
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
  /**
   * The command every probe ran under (CLONELAB_PROBE_WRAP: `npm run report --
   * --probe-wrapper`, check:faults' seccomp wrapper) with its version line
   * when it gives one (`qemu-x86_64 --version`), or null when the probes ran
   * directly under the reaper.
   */
  probeWrapper: string | null;
  /**
   * What ran the suite around the kernel, as the launcher that made it says
   * (CLONELAB_RUNTIME: check:environments' OCI container, npm run kernels'
   * guests), or null when nothing did. Declared, not observed; the facts
   * beside it (capabilities, seccomp, namespaces) are what the run saw.
   */
  runtime: string | null;
  /**
   * This process's seccomp mode from /proc/self/status (Documentation/
   * userspace-api/seccomp_filter.rst): "disabled", "strict", or "filter" with
   * the number of filters; null when the kernel does not say.
   */
  seccomp: string | null;
}

/** What a report records of where it ran: the host's facts, and those a probe run finds (recordEnvironment()). */
export interface Environment extends HostEnvironment {
  /**
   * clone3(2): "available", the errno that makes libc and the suite fall
   * back to clone (ENOSYS on a kernel before 5.3 or under a seccomp profile
   * that refuses it), or "unknown: why" when the probe could not answer.
   */
  clone3: string;
}

/** The capability names of a /proc/PID/status Cap* mask (hex). */
export function decodeCaps(hex: string | undefined): string[] {
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

/** The probes' libc, measured from the built probes in `dir` (see HostEnvironment.libc). */
export function probesLibc(dir: string): string {
  const build = buildRecord(dir);
  if (!build) return `unknown: ${dir} has no build record`;
  if (build.libcVersion) return build.libcVersion;
  const r = tryRead(() => execaSync(join(dir, LIBC_VERSION_PROGRAM), [], { reject: false }));
  return r?.exitCode === 0 && r.stdout.trim()
    ? r.stdout.trim()
    : `${build.libc} (version unknown: ${dir}/${LIBC_VERSION_PROGRAM} ${r ? `exited ${r.exitCode ?? r.signal}` : 'could not run'})`;
}

function nodeLibc(): string {
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

/**
 * "qemu-x86_64 (qemu-x86_64 version 7.2.22 (Debian ...))": the wrapper's words
 * and the first line its first word prints for --version, if it exits 0 with
 * one (a wrapper that is a probe, like check:faults' fault, does not).
 */
function probeWrapperFact(): string | null {
  const words = probeWrap();
  if (!words.length) return null;
  const r = tryRead(() => execaSync(words[0]!, ['--version'], { reject: false, timeout: 5_000 }));
  const version = r?.exitCode === 0 ? r.stdout.split('\n')[0]?.trim() : undefined;
  return version ? `${words.join(' ')} (${version})` : words.join(' ');
}

const PROC_PID_INIT_INO = 0xeffffffc;

/**
 * Whether this process is in the initial PID namespace: its ns/pid inode is
 * PROC_PID_INIT_INO (include/linux/proc_ns.h), which only the initial
 * namespace has. null when /proc/self/ns/pid cannot be read.
 */
export function inInitialPidNamespace(): boolean | null {
  return tryRead(() => statSync('/proc/self/ns/pid').ino === PROC_PID_INIT_INO);
}

let cached: HostEnvironment | undefined;

/** The host's facts, read once per process. */
export function environment(): HostEnvironment {
  if (cached) return cached;
  const self = readStatus(process.pid);
  cached = {
    name: process.env.CLONELAB_ENVIRONMENT ?? 'host',
    hostname: hostname(),
    kernelRelease: release(),
    kernelVersion: tryRead(() => readFileSync('/proc/sys/kernel/version', 'utf8').trim()) ?? 'unknown',
    arch: arch(),
    libc: tryRead(() => probesLibc(probeDirectory())) ?? 'unknown: no probes were built for this process',
    nodeLibc: nodeLibc(),
    libcGettid: tryRead(() => builtLibcFeatures(probeDirectory())?.gettid) ?? null,
    node: process.version,
    euid: process.geteuid!(), // always there on Linux (POSIX platforms)
    capabilities: decodeCaps(self.CapEff),
    pidNamespaceDepth: statusNumbers(self, 'NSpid')?.length ?? 1,
    pidNamespace: tryRead(() => `pid:[${statSync('/proc/self/ns/pid').ino}]`),
    initialPidNamespace: inInitialPidNamespace(),
    procMountOptions: procMount(),
    procps: procps(),
    ci: process.env.CI === 'true' || process.env.CI === '1',
    probeWrapper: probeWrapperFact(),
    runtime: process.env.CLONELAB_RUNTIME || null,
    seccomp: seccompMode(self),
  };
  return cached;
}

/** The Seccomp: and Seccomp_filters: lines of a status (the latter from 5.9). */
function seccompMode(status: Record<string, string>): string | null {
  const mode = { '0': 'disabled', '1': 'strict', '2': 'filter' }[status.Seccomp ?? ''];
  if (!mode) return null;
  return mode === 'filter' && status.Seccomp_filters ? `filter (${status.Seccomp_filters} filter${status.Seccomp_filters === '1' ? '' : 's'})` : mode;
}

/**
 * Is clone3 there, or does this kernel (or a seccomp profile) say ENOSYS, so
 * that libc and the suite fall back to clone? Asked of the kernel by the
 * clone probe (one clone3 with no flags, its child exiting at once), under
 * the same wrap as every probe of the run. A probe that cannot answer (a
 * fault run refusing one of its own syscalls, probes not built in this
 * process) leaves the fact unknown, with why.
 */
async function clone3Availability(): Promise<string> {
  try {
    const c3 = await runProbe('clone', ['--try', 'clone3:none']);
    const t = c3.records.find((r) => r.event === 'try');
    if (!t || t.event !== 'try') return 'unknown: the clone probe printed no "try" record';
    return t.result === 'ok' ? 'available' : `${t.result}: falls back to clone`;
  } catch (e) {
    return `unknown: ${unobservedReason(e)}`;
  }
}

/**
 * Everything a report records of where it ran: environment() and clone3's
 * availability, which takes a probe run (the reporter calls this once, in the
 * process that built the probes).
 */
export async function recordEnvironment(): Promise<Environment> {
  return { ...environment(), clone3: await clone3Availability() };
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
