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
 */
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { execa } from 'execa';
import { cacheRoot, NATIVE_DIR } from './paths.js';

export const CFLAGS = ['-O2', '-Wall', '-Wextra', '-Werror', '-pthread', '-D_GNU_SOURCE'] as const;

export class ProbeBuildError extends Error {
  override name = 'ProbeBuildError';
}

/** The compiler named by $CC (first word), else cc, gcc, clang: the first on PATH. */
export function findCompiler(env: NodeJS.ProcessEnv = process.env): string {
  const candidates = env.CC ? [env.CC.trim().split(/\s+/)[0]!] : ['cc', 'gcc', 'clang'];
  for (const name of candidates) {
    const paths = name.includes('/')
      ? [name]
      : (env.PATH ?? '')
          .split(delimiter)
          .filter(Boolean)
          .map((d) => join(d, name));
    for (const p of paths) {
      try {
        accessSync(p, constants.X_OK);
        return p;
      } catch {
        /* not here: try the next directory */
      }
    }
  }
  throw new ProbeBuildError(
    `clonelab needs a C compiler to build its probes and found none (looked for ${candidates.join(', ')} on PATH` +
      `${env.CC ? ', from $CC' : ''}). Install one, e.g. 'apt-get install gcc' (Debian/Ubuntu), ` +
      `'dnf install gcc' (Fedora), 'apk add build-base' (Alpine), or set CC to its path.`,
  );
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
/** The file in a build directory that says what it was built from and for (BuildManifest). */
const MANIFEST_FILE = 'build.json';

/**
 * What a build directory holds, written last before it is renamed into
 * place: enough for a process that cannot (or should not) compile, a kernel
 * guest given CLONELAB_PROBE_DIR, to check the build is whole, of these
 * sources and for its architecture without running the compiler.
 */
export interface BuildManifest {
  /** process.arch of the builder: the probes' machine code. */
  arch: string;
  /** sha256 of native-helpers/*.{c,h}, names and contents (sourcesHash). */
  sources: string;
  probes: string[];
  libc: LibcFeatures;
}

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
export function verifiedPrebuilt(dir: string, names: readonly string[], sources: string): LibcFeatures {
  const refuse = (why: string) =>
    new ProbeBuildError(
      `CLONELAB_PROBE_DIR=${dir} cannot be used: ${why}. It names a probe build made by \`npm run build-probes\` (or npm run kernels) on this ` +
        `checkout for this architecture; unset it to build the probes here.`,
    );
  let m: BuildManifest;
  try {
    m = JSON.parse(readFileSync(join(dir, MANIFEST_FILE), 'utf8')) as BuildManifest;
  } catch {
    throw refuse(`it has no readable ${MANIFEST_FILE} (not a complete build)`);
  }
  if (m.arch !== process.arch) throw refuse(`it was built for ${m.arch}, this is ${process.arch}`);
  if (m.sources !== sources) throw refuse('it was built from other sources than native-helpers/ holds now');
  const missing = names.filter((n) => {
    try {
      accessSync(join(dir, n), constants.X_OK);
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length) throw refuse(`it lacks the probe(s) ${missing.join(', ')}`);
  return m.libc;
}

/** Compile and link each check program with the probes' compiler and flags. */
export async function checkLibc(cc: string, env: NodeJS.ProcessEnv, root: string = cacheRoot()): Promise<LibcFeatures> {
  mkdirSync(root, { recursive: true });
  const dir = mkdtempSync(join(root, 'libc-check-'));
  try {
    const entries = await Promise.all(
      Object.entries(LIBC_CHECKS).map(async ([feature, check]) => {
        const src = join(dir, `${feature}.c`);
        writeFileSync(src, check.program);
        const r = await execa(cc, [...CFLAGS, '-o', join(dir, feature), src], { env, reject: false });
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

export interface BuiltProbes {
  /** Directory holding one executable per probe, named after its .c file. */
  dir: string;
  names: string[];
  /** What the libc provides, as the probes were told (-DCLONELAB_HAVE_...). */
  libc: LibcFeatures;
  /** false when the cache already had this exact build. */
  compiled: boolean;
  ms: number;
}

export async function buildProbes(opts: { env?: NodeJS.ProcessEnv; root?: string } = {}): Promise<BuiltProbes> {
  const t0 = performance.now();
  const env = opts.env ?? process.env;
  const sources = probeSources();
  const names = sources.filter((f) => f.endsWith('.c')).map((f) => f.slice(0, -2));
  const srcHash = sourcesHash(sources);
  // A kernel guest runs the host's own userspace (compiler, libc) over a
  // read-only share, and the host built the probes before booting it
  // (scripts/kernels.ts): running the compiler again for the libc checks and
  // its version line costs a guest seconds under emulation (TCG).
  const prebuilt = env.CLONELAB_PROBE_DIR;
  if (prebuilt) return { dir: prebuilt, names, libc: verifiedPrebuilt(prebuilt, names, srcHash), compiled: false, ms: performance.now() - t0 };
  const cc = findCompiler(env);
  const [version, libc] = await Promise.all([execa(cc, ['--version'], { env, reject: false }), checkLibc(cc, env, opts.root ?? cacheRoot())]);
  const flags = [...CFLAGS, ...featureDefines(libc)];
  // `manifest: 1`: builds from before build.json had none, so they get a directory of their own.
  const key = createHash('sha256')
    .update(JSON.stringify({ cc, version: version.stdout.split('\n')[0], flags, arch: process.arch, sources: srcHash, manifest: 1 }))
    .digest('hex');
  const dir = join(opts.root ?? cacheRoot(), 'probes', key.slice(0, 16));
  if (existsSync(join(dir, '.complete'))) return { dir, names, libc, compiled: false, ms: performance.now() - t0 };

  // Build into a private directory and rename it into place: concurrent
  // builders (two vitest runs, a lab command) never see half a cache.
  const staging = `${dir}.tmp-${process.pid}`;
  mkdirSync(staging, { recursive: true });
  try {
    await Promise.all(
      names.map(async (name) => {
        const r = await execa(cc, [...flags, '-o', join(staging, name), join(NATIVE_DIR, `${name}.c`)], {
          env,
          reject: false,
          all: true,
        });
        if (r.exitCode !== 0 || r.failed) {
          throw new ProbeBuildError(`compiling native-helpers/${name}.c with ${cc} failed (exit ${r.exitCode ?? r.signal}):\n${r.all ?? r.message}`);
        }
      }),
    );
    writeFileSync(join(staging, FEATURES_FILE), `${JSON.stringify(libc)}\n`);
    const manifest: BuildManifest = { arch: process.arch, sources: srcHash, probes: names, libc };
    writeFileSync(join(staging, MANIFEST_FILE), `${JSON.stringify(manifest)}\n`);
    mkdirSync(join(staging, '.complete'));
    try {
      renameSync(staging, dir);
    } catch (e) {
      // Another builder won the race with the same sources: theirs is as good.
      if (!existsSync(join(dir, '.complete'))) throw e;
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return { dir, names, libc, compiled: true, ms: performance.now() - t0 };
}
