/**
 * Compiles every native-helpers/*.c with the host's C compiler, once per
 * source hash: the cache key covers the sources, the shared header, the flags,
 * the compiler's own version line and what the libc was found to provide, so
 * a fresh clone needs no build step and an unchanged tree rebuilds nothing.
 *
 * What the libc provides is checked the way configure scripts do: compile and
 * link a tiny program that uses it, with the same compiler and flags, and
 * pass the outcome to the probes as a define (-DCLONELAB_HAVE_GETTID=1). A
 * libc's name or version says little: musl has had gettid() since 1.2.2,
 * glibc since 2.30, and a distribution may backport either.
 *
 * The probes are built against one libc per run, named by CLONELAB_LIBC
 * (probeLibc(): glibc by default, or musl): each libc has its own compiler,
 * flags and cache key, and its own configure-style checks. musl builds are
 * static (see LIBC_TOOLCHAINS.musl).
 *
 * The probes are built for one architecture per build (`arch`, Node's
 * process.arch names, default this process's): for another architecture than
 * the host's (an arm64 kernel guest, issue 18) with the GNU cross compiler of
 * that architecture (helpers/harness/arch.ts, PROBE_TARGETS[].triplet: Debian's
 * gcc-aarch64-linux-gnu), statically linked, since the guest's root need not
 * hold the glibc the cross toolchain ships. The architecture is in the cache
 * key and in the build record, and the configure-style checks run with the
 * cross compiler (they only compile and link, nothing is run).
 */
import { createHash } from 'node:crypto';
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { arch } from 'node:os';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from './fs.js';
import { execa } from 'execa';
import { PROBE_TARGETS, type ProbeArch } from './arch.js';
import { cacheRoot, commandPath, NATIVE_DIR } from './paths.js';
import { readSyscallTable, SYSCALLS_FILE } from './syscalls.js';

export const CFLAGS = ['-O2', '-Wall', '-Wextra', '-Werror', '-pthread', '-D_GNU_SOURCE'] as const;

export class ProbeBuildError extends Error {
  override name = 'ProbeBuildError';
}

/**
 * A probe that the build left out because it does not build against this
 * run's libc (BuildRecord.unbuilt): the tests that need it skip with this
 * message, and their observations are unobserved with it.
 */
export class ProbeNotBuilt extends Error {
  override name = 'ProbeNotBuilt';
}

/** The compiler named by $CC (first word), else cc, gcc, clang: the first on PATH. */
export function findCompiler(env: NodeJS.ProcessEnv = process.env): string {
  const candidates = env.CC ? [env.CC.trim().split(/\s+/)[0]!] : ['cc', 'gcc', 'clang'];
  for (const name of candidates) {
    const found = commandPath(name, env);
    if (found) return found;
  }
  throw new ProbeBuildError(
    `clonelab needs a C compiler to build its probes and found none (looked for ${candidates.join(', ')} on PATH` +
      `${env.CC ? ', from $CC' : ''}). Install one, e.g. 'apt-get install gcc' (Debian/Ubuntu), ` +
      `'dnf install gcc' (Fedora), 'apk add build-base' (Alpine), or set CC to its path.`,
  );
}

/** The libcs the probes can be built against; the first is the default. */
export const LIBCS = ['glibc', 'musl'] as const;
export type LibcName = (typeof LIBCS)[number];

/**
 * The libc this run builds its probes against: CLONELAB_LIBC (set by
 * `npm run report -- --libc`), default glibc. The one place the choice is read.
 */
export function probeLibc(env: NodeJS.ProcessEnv = process.env): LibcName {
  const v = env.CLONELAB_LIBC?.trim() || LIBCS[0];
  if (!(LIBCS as readonly string[]).includes(v)) throw new ProbeBuildError(`CLONELAB_LIBC='${v}' names no libc clonelab builds against (${LIBCS.join(', ')})`);
  return v as LibcName;
}

/** How the probes are compiled for one libc. */
export interface Toolchain {
  libc: LibcName;
  /** The compiler's path. */
  cc: string;
  /** Flags added to CFLAGS for this libc. */
  flags: string[];
  /**
   * The libc's version as known at build time, or null when it is measured
   * from the built probes at run time (glibc: gnu_get_libc_version(), see LIBC_VERSION_PROGRAM).
   */
  libcVersion: string | null;
}

/** Debian's multiarch triplet for this architecture: where linux-libc-dev puts the asm/ headers. */
const MULTIARCH: Partial<Record<string, string>> = {
  x64: 'x86_64-linux-gnu',
  arm64: 'aarch64-linux-gnu',
  riscv64: 'riscv64-linux-gnu',
  s390x: 's390x-linux-gnu',
};
/** musl's name for this architecture: its loader is /lib/ld-musl-ARCH.so.1 (musl's INSTALL, "syslibdir"). */
const MUSL_ARCH: Partial<Record<string, string>> = { x64: 'x86_64', arm64: 'aarch64', riscv64: 'riscv64', s390x: 's390x' };

/**
 * A directory holding exactly the kernel's uapi headers (linux/, asm-generic/,
 * asm/ from linux-libc-dev) as symlinks. musl-gcc's specs file replaces the
 * system include path with musl's own (-nostdinc), so the probes' <linux/...>
 * includes need these added back; adding all of /usr/include would also
 * bring glibc's headers in, which musl's must not be mixed with.
 */
function uapiIncludeDir(root: string): string {
  const asm = [`/usr/include/${MULTIARCH[arch()] ?? ''}/asm`, '/usr/include/asm'].find((d) => existsSync(join(d, 'unistd.h')));
  const dirs = { linux: '/usr/include/linux', 'asm-generic': '/usr/include/asm-generic', asm };
  const missing = Object.entries(dirs).filter(([, d]) => !d || !existsSync(d));
  if (missing.length) {
    throw new ProbeBuildError(
      `building the probes against musl needs the kernel's uapi headers, and ${missing.map(([n]) => `${n}/`).join(', ')} ` +
        `could not be found under /usr/include: install them (Debian/Ubuntu: apt-get install linux-libc-dev)`,
    );
  }
  const key = createHash('sha256').update(JSON.stringify(dirs)).digest('hex').slice(0, 12);
  const dir = join(root, 'uapi', key);
  if (existsSync(join(dir, 'asm'))) return dir;
  mkdirSync(join(root, 'uapi'), { recursive: true });
  const staging = mkdtempSync(`${dir}.tmp-`);
  for (const [name, target] of Object.entries(dirs)) symlinkSync(target!, join(staging, name));
  try {
    renameSync(staging, dir);
  } catch (e) {
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(join(dir, 'asm'))) throw e; // else another builder made the same one
  }
  return dir;
}

/**
 * musl's version: musl has no function that returns it; its dynamic loader
 * prints it when run as a program ("musl libc (x86_64)\nVersion 1.2.3", on
 * stderr). The static libc.a the probes link comes from the same musl build
 * (Debian's musl-dev depends on exactly its musl's version), so the loader
 * speaks for it.
 */
async function muslVersion(env: NodeJS.ProcessEnv): Promise<string> {
  const loader = `/lib/ld-musl-${MUSL_ARCH[arch()] ?? arch()}.so.1`;
  const r = await execa(loader, [], { env, reject: false, all: true });
  const m = r.all?.match(/^Version\s+(\S+)/m);
  return m ? `musl ${m[1]}` : `musl (version unknown: ${loader} ${r.failed && r.exitCode === undefined ? 'could not be run' : 'printed no Version line'})`;
}

/**
 * The compiler and flags per libc.
 * - glibc: the host's C compiler ($CC, cc, gcc, clang), dynamically linked as before.
 * - musl: Debian's musl-gcc wrapper, static (-static). Static because a
 *   dynamic musl probe needs musl's loader /lib/ld-musl-ARCH.so.1 (Debian's
 *   `musl` package, pulled in by musl-tools) in whatever root runs it: a
 *   container image, a kernel guest or an emulator would need it too, and a
 *   static probe carries the libc it was built with, the one the report names.
 */
const LIBC_TOOLCHAINS: Record<LibcName, (env: NodeJS.ProcessEnv, root: string) => Promise<Toolchain>> = {
  glibc: (env) => Promise.resolve({ libc: 'glibc', cc: findCompiler(env), flags: [], libcVersion: null }),
  musl: async (env, root) => {
    const cc = commandPath('musl-gcc', env);
    if (!cc) {
      throw new ProbeBuildError(
        `building the probes against musl (--libc musl, CLONELAB_LIBC=musl) needs musl-gcc, which is not on PATH: ` +
          `install musl-tools (Debian/Ubuntu: apt-get install musl-tools linux-libc-dev)`,
      );
    }
    return { libc: 'musl', cc, flags: ['-static', '-isystem', uapiIncludeDir(root)], libcVersion: await muslVersion(env) };
  },
};

/** The toolchain for `libc`: throws ProbeBuildError with what to install when it is missing. */
export async function toolchain(
  libc: LibcName,
  env: NodeJS.ProcessEnv = process.env,
  root: string = cacheRoot(),
  arch: ProbeArch = process.arch as ProbeArch,
): Promise<Toolchain> {
  if (arch === process.arch) return LIBC_TOOLCHAINS[libc](env, root);
  if (libc !== 'glibc') {
    throw new ProbeBuildError(
      `building the probes for ${arch} against ${libc} is not supported: a build for another architecture than this host's (${process.arch}) uses the glibc cross toolchain`,
    );
  }
  return { libc, cc: crossCompiler(arch, env), flags: ['-static'], libcVersion: null };
}

/** Node's process.arch names of the architectures the probes can be built for (helpers/harness/arch.ts). */
export type { ProbeArch };
export const PROBE_ARCHES = Object.keys(PROBE_TARGETS) as ProbeArch[];

/** `arch` checked against the architectures clonelab knows (PROBE_TARGETS), as people write it on a command line. */
export function probeArch(name: string): ProbeArch {
  if (!(PROBE_ARCHES as readonly string[]).includes(name)) {
    throw new ProbeBuildError(`unknown probe architecture '${name}': expected one of ${PROBE_ARCHES.join(', ')} (Node's process.arch names)`);
  }
  return name as ProbeArch;
}

/**
 * The GNU cross compiler for another architecture: TRIPLET-gcc on PATH
 * (Debian/Ubuntu package gcc-TRIPLET), or a clear error naming the package.
 */
function crossCompiler(arch: ProbeArch, env: NodeJS.ProcessEnv): string {
  const m = PROBE_TARGETS[arch];
  const name = `${m.triplet}-gcc`;
  const cc = commandPath(name, env);
  if (!cc) {
    throw new ProbeBuildError(
      `building the probes for ${arch} on this ${process.arch} host needs the cross compiler ${name}, which is not on PATH: ` +
        `install gcc-${m.triplet} (Debian/Ubuntu: apt-get install gcc-${m.triplet}; it brings the static glibc the probes link)`,
    );
  }
  return cc;
}

/** The compiler that builds the probes for `arch` against glibc: the host's C compiler, or the cross compiler (syscalls.ts reads the syscall numbers from it). */
export function compilerFor(arch: ProbeArch = process.arch as ProbeArch, env: NodeJS.ProcessEnv = process.env): string {
  return arch === process.arch ? findCompiler(env) : crossCompiler(arch, env);
}

/** What the libc the probes are built against provides, found by compiling and linking against it. */
export interface LibcFeatures {
  /** gettid(3): a libc wrapper for gettid(2). The probes get -DCLONELAB_HAVE_GETTID=1 or =0. */
  gettid: boolean;
}

/** One configure-style check: a program that compiles and links only if the libc has the feature. */
const LIBC_CHECKS: Record<keyof LibcFeatures, { define: string; program: string }> = {
  gettid: {
    define: 'CLONELAB_HAVE_GETTID',
    // With -Werror an undeclared gettid() fails to compile (-Wimplicit-function-declaration),
    // and one declared but not defined fails to link.
    program: '#include <unistd.h>\nint main(void) { return gettid() > 0 ? 0 : 1; }\n',
  },
};

/** The file in a build directory that says what the libc was found to provide. */
const FEATURES_FILE = 'libc-features.json';

/** The probe sources (native-helpers/*.c and *.h), sorted. */
function probeSources(): string[] {
  return readdirSync(NATIVE_DIR)
    .filter((f) => f.endsWith('.c') || f.endsWith('.h'))
    .sort();
}

/** One hash of the probe sources' names and contents: what a build manifest records and a guest compares. */
export function sourcesHash(sources: readonly string[] = probeSources()): string {
  const hash = createHash('sha256');
  for (const f of sources)
    hash
      .update(f)
      .update('\0')
      .update(readFileSync(join(NATIVE_DIR, f)));
  return hash.digest('hex');
}

/**
 * A build made elsewhere (the host, before it boots a kernel guest that runs
 * the host's own userspace over a read-only share), checked before it is
 * used: its manifest is there (the builder wrote it last), it was built for
 * this process's architecture and from the sources checked out now, and
 * every probe is an executable file. Throws ProbeBuildError naming what does
 * not fit; it never compiles, so a wrong build cannot pass for a right one.
 */
export function verifiedPrebuilt(dir: string, names: readonly string[], sources: string, arch: string = process.arch): BuildRecord {
  const refuse = (why: string) =>
    new ProbeBuildError(
      `CLONELAB_PROBE_DIR=${dir} cannot be used: ${why}. It names a probe build made by \`npm run build-probes\` (or npm run kernels) on this ` +
        `checkout for this architecture; unset it to build the probes here.`,
    );
  const m = buildRecord(dir);
  if (!m) throw refuse(`it has no readable ${BUILD_FILE} (not a complete build)`);
  if (m.arch !== arch) throw refuse(`it was built for ${m.arch}, this is ${arch}`);
  if (m.sources !== sources) throw refuse('it was built from other sources than native-helpers/ holds now');
  // A probe the build recorded as not building against its libc is left out knowingly (BuildRecord.unbuilt).
  const missing = names.filter((n) => {
    if (n in m.unbuilt) return false;
    try {
      accessSync(join(dir, n), constants.X_OK);
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length) throw refuse(`it lacks the probe(s) ${missing.join(', ')}`);
  return m;
}

/**
 * Compile and link each check program with the probes' compiler and flags
 * (`flags`: the libc's own, Toolchain.flags). The answers are kept under the
 * cache, keyed by the compiler, its version line, the flags, the programs and
 * the C library files it links (path, size and mtime from -print-file-name):
 * a libc upgraded in place asks again, and every other run (each vitest
 * global setup, each nested run of the suite) skips a compile and link.
 */
export async function checkLibc(
  cc: string,
  env: NodeJS.ProcessEnv,
  root: string = cacheRoot(),
  flags: readonly string[] = [],
  ccVersion = '',
): Promise<LibcFeatures> {
  mkdirSync(root, { recursive: true });
  const libs = await Promise.all(
    ['libc.so', 'libc.a'].map(async (lib) => {
      const r = await execa(cc, [...flags, `-print-file-name=${lib}`], { env, reject: false });
      const path = r.exitCode === 0 ? r.stdout.trim() : '';
      const st = path && existsSync(path) ? statSync(path) : undefined;
      return [path, st?.size ?? null, st?.mtimeMs ?? null];
    }),
  );
  const key = createHash('sha256')
    .update(JSON.stringify({ cc, ccVersion, flags, CFLAGS, checks: LIBC_CHECKS, libs }))
    .digest('hex')
    .slice(0, 16);
  const remembered = join(root, 'libc-checks', `${key}.json`);
  try {
    return JSON.parse(readFileSync(remembered, 'utf8')) as LibcFeatures;
  } catch {
    // not asked yet with this compiler and libc
  }
  const features = await compileLibcChecks(cc, env, root, flags);
  mkdirSync(dirname(remembered), { recursive: true });
  writeFileAtomic(remembered, JSON.stringify(features));
  return features;
}

async function compileLibcChecks(cc: string, env: NodeJS.ProcessEnv, root: string, flags: readonly string[]): Promise<LibcFeatures> {
  const dir = mkdtempSync(join(root, 'libc-check-'));
  try {
    const entries = await Promise.all(
      Object.entries(LIBC_CHECKS).map(async ([feature, check]) => {
        const src = join(dir, `${feature}.c`);
        writeFileSync(src, check.program);
        const r = await execa(cc, [...CFLAGS, ...flags, '-o', join(dir, feature), src], { env, reject: false });
        return [feature, r.exitCode === 0 && !r.failed] as const;
      }),
    );
    return Object.fromEntries(entries) as unknown as LibcFeatures;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The -D flags that tell the probes what the libc provides. */
export const featureDefines = (f: LibcFeatures): string[] =>
  (Object.keys(LIBC_CHECKS) as (keyof LibcFeatures)[]).map((k) => `-D${LIBC_CHECKS[k].define}=${f[k] ? 1 : 0}`);

/** What the build in `dir` found the libc to provide, or undefined for a directory without that record. */
export function builtLibcFeatures(dir: string): LibcFeatures | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, FEATURES_FILE), 'utf8')) as LibcFeatures;
  } catch {
    return undefined;
  }
}

/**
 * A program built next to the probes, with their compiler and flags, that
 * prints the libc's version as the libc itself says at run time:
 * gnu_get_libc_version(3) under glibc (the libc.so.6 the dynamic probes load
 * then, not the headers they were built with). musl has no such function
 * (its FAQ: no macro or call identifies it, by design): the program exits 3
 * and the build-time version (muslVersion) stands.
 */
export const LIBC_VERSION_PROGRAM = 'libc-version';
const LIBC_VERSION_SOURCE = `#include <stdio.h>
#ifdef __GLIBC__
#include <gnu/libc-version.h>
int main(void) { printf("glibc %s\\n", gnu_get_libc_version()); return 0; }
#else
int main(void) { return 3; }
#endif
`;

/**
 * What a build directory records (BUILD_FILE), written last before it is
 * renamed into place: its libc, and enough for a process that cannot (or
 * should not) compile, a kernel guest given CLONELAB_PROBE_DIR, to check the
 * build is whole, of these sources and for its architecture without running
 * the compiler (verifiedPrebuilt).
 */
export interface BuildRecord {
  /** Node's process.arch name of the probes' machine code: the builder's own, or the one a cross build was asked for. */
  arch: string;
  /** sha256 of native-helpers/*.{c,h}, names and contents (sourcesHash). */
  sources: string;
  /** The probes built (those not in `unbuilt`). */
  probes: string[];
  /** What the libc was found to provide (also in FEATURES_FILE). */
  features: LibcFeatures;
  libc: LibcName;
  /** The version known at build time (musl), or null when LIBC_VERSION_PROGRAM tells it at run time (glibc). */
  libcVersion: string | null;
  /** The compiler and its version line. */
  cc: string;
  ccVersion: string;
  /** Probes that could not be built against this libc, and the compiler's reason (first lines). */
  unbuilt: Record<string, string>;
}
const BUILD_FILE = 'build.json';

/** The build record of the probes in `dir`, or undefined for a directory without one. */
export function buildRecord(dir: string): BuildRecord | undefined {
  try {
    return JSON.parse(readFileSync(join(dir, BUILD_FILE), 'utf8')) as BuildRecord;
  } catch {
    return undefined;
  }
}

/**
 * Probes every run needs whatever it observes (reaper.c runs every other probe):
 * one of these not building fails the build for any libc.
 */
const ESSENTIAL_PROBES = new Set(['reaper']);

export interface BuiltProbes {
  /** Directory holding one executable per probe, named after its .c file. */
  dir: string;
  /** The probes that were built (those of `unbuilt` are not there). */
  names: string[];
  /** What the libc provides, as the probes were told (-DCLONELAB_HAVE_...). */
  libc: LibcFeatures;
  /** Which libc the probes were built against, with what (the build record). */
  build: BuildRecord;
  /** false when the cache already had this exact build. */
  compiled: boolean;
  ms: number;
}

/**
 * Build every probe against `libc` (default probeLibc(env): CLONELAB_LIBC or
 * glibc). Under glibc, the libc the probes are written for, any probe that
 * does not compile fails the build. Under another libc a probe that does
 * not build is recorded with the compiler's reason (BuildRecord.unbuilt) and
 * left out: its cases go unobserved with that reason (probe.ts), the rest run.
 */
export async function buildProbes(opts: { env?: NodeJS.ProcessEnv; root?: string; libc?: LibcName; arch?: ProbeArch } = {}): Promise<BuiltProbes> {
  const t0 = performance.now();
  const env = opts.env ?? process.env;
  const arch = opts.arch ?? (process.arch as ProbeArch);
  const root = opts.root ?? cacheRoot();
  const sources = probeSources();
  const all = sources.filter((f) => f.endsWith('.c')).map((f) => f.slice(0, -2));
  const srcHash = sourcesHash(sources);
  // A kernel guest runs the host's own userspace (compiler, libc) over a
  // read-only share, and the host built the probes before booting it
  // (scripts/kernels.ts): running the compiler again for the libc checks and
  // its version line costs a guest seconds under emulation (TCG).
  const prebuilt = env.CLONELAB_PROBE_DIR;
  if (prebuilt && arch === process.arch) {
    const build = verifiedPrebuilt(prebuilt, all, srcHash, arch);
    return { dir: prebuilt, names: build.probes, libc: build.features, build, compiled: false, ms: performance.now() - t0 };
  }
  const tc = await toolchain(opts.libc ?? probeLibc(env), env, root, arch);
  const { cc } = tc;
  const version = await execa(cc, ['--version'], { env, reject: false });
  const ccVersion = version.stdout.split('\n')[0] ?? '';
  const libc = await checkLibc(cc, env, root, tc.flags, ccVersion);
  const flags = [...CFLAGS, ...tc.flags, ...featureDefines(libc)];
  // The libc is in the key twice over (its name, and its compiler and flags): each libc has its own cache.
  // `manifest: 3`: builds from before the directory held SYSCALLS_FILE get a directory of their own.
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ libc: tc.libc, libcVersion: tc.libcVersion, cc, version: ccVersion, flags, arch, sources: srcHash, manifest: 3 }));
  hash.update(LIBC_VERSION_SOURCE);
  // The host's glibc build keeps the bare hash it always had; another libc's or architecture's directory is named after it too.
  const prefix = `${arch === process.arch ? '' : `${arch}-`}${tc.libc === 'glibc' ? '' : `${tc.libc}-`}`;
  const dir = join(root, 'probes', `${prefix}${hash.digest('hex').slice(0, 16)}`);
  if (existsSync(join(dir, '.complete'))) {
    const build = buildRecord(dir);
    if (build) return { dir, names: build.probes, libc, build, compiled: false, ms: performance.now() - t0 };
  }

  // Build into a private directory and rename it into place: concurrent
  // builders (two vitest runs, a lab command) never see half a cache.
  const staging = `${dir}.tmp-${process.pid}`;
  mkdirSync(staging, { recursive: true });
  const unbuilt: Record<string, string> = {};
  try {
    writeFileSync(join(staging, `${LIBC_VERSION_PROGRAM}.c`), LIBC_VERSION_SOURCE);
    // The syscall numbers of the probes' architecture, from the probes' own compiler and headers: what is
    // passed to a probe as a number (fault --syscall NR) must come from here, also where no compiler runs (a guest).
    // A compiler that cannot preprocess <sys/syscall.h> on its own leaves no table: syscallTable() then asks the compiler.
    const syscalls = readSyscallTable(cc, tc.flags, env, arch).catch(() => undefined);
    const compile = (name: string, src: string) => execa(cc, [...flags, '-o', join(staging, name), src], { env, reject: false, all: true });
    const [versionBuild] = await Promise.all([
      compile(LIBC_VERSION_PROGRAM, join(staging, `${LIBC_VERSION_PROGRAM}.c`)),
      ...all.map(async (name) => {
        const r = await compile(name, join(NATIVE_DIR, `${name}.c`));
        if (r.exitCode === 0 && !r.failed) return;
        const why = `compiling native-helpers/${name}.c with ${cc} failed (exit ${r.exitCode ?? r.signal}):\n${r.all ?? r.message}`;
        if (tc.libc === LIBCS[0] || ESSENTIAL_PROBES.has(name)) throw new ProbeBuildError(why);
        unbuilt[name] = `native-helpers/${name}.c does not build against ${tc.libcVersion ?? tc.libc}: ${
          (r.all ?? r.message)
            .split('\n')
            .filter((l) => /error/.test(l))
            .slice(0, 3)
            .join('; ') || why
        }`;
      }),
    ]);
    if (versionBuild.exitCode !== 0 || versionBuild.failed)
      throw new ProbeBuildError(`compiling the libc version check with ${cc} failed:\n${versionBuild.all ?? versionBuild.message}`);
    rmSync(join(staging, `${LIBC_VERSION_PROGRAM}.c`));
    const probes = all.filter((n) => !(n in unbuilt));
    const table = await syscalls;
    if (table) writeFileSync(join(staging, SYSCALLS_FILE), `${JSON.stringify(Object.fromEntries(table.byName))}\n`);
    const build: BuildRecord = {
      arch,
      sources: srcHash,
      probes,
      features: libc,
      libc: tc.libc,
      libcVersion: tc.libcVersion,
      cc,
      ccVersion,
      unbuilt,
    };
    writeFileSync(join(staging, FEATURES_FILE), `${JSON.stringify(libc)}\n`);
    writeFileSync(join(staging, BUILD_FILE), `${JSON.stringify(build, null, 2)}\n`);
    mkdirSync(join(staging, '.complete'));
    try {
      renameSync(staging, dir);
    } catch (e) {
      // Another builder won the race with the same sources: theirs is as good.
      if (!existsSync(join(dir, '.complete'))) throw e;
    }
    return { dir, names: probes, libc, build, compiled: true, ms: performance.now() - t0 };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
