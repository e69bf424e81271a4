/**
 * Compiles every native-helpers/*.c with the host's C compiler, once per
 * source hash: the cache key covers the sources, the shared header, the flags
 * and the compiler's own version line, so a fresh clone needs no build step
 * and an unchanged tree rebuilds nothing.
 */
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

export const PROJECT_ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
export const NATIVE_DIR = join(PROJECT_ROOT, 'native-helpers');
export const CFLAGS = ['-O2', '-Wall', '-Wextra', '-Werror', '-pthread', '-D_GNU_SOURCE'] as const;

export class ProbeBuildError extends Error {
  override name = 'ProbeBuildError';
}

/** Where built probes live; CLONELAB_CACHE_DIR moves it (e.g. a read-only checkout). */
export function cacheRoot(): string {
  return process.env.CLONELAB_CACHE_DIR ?? join(PROJECT_ROOT, 'node_modules', '.cache', 'clonelab');
}

/** The compiler named by $CC (first word), else cc, gcc, clang: the first on PATH. */
export function findCompiler(env: NodeJS.ProcessEnv = process.env): string {
  const candidates = env.CC ? [env.CC.trim().split(/\s+/)[0]!] : ['cc', 'gcc', 'clang'];
  for (const name of candidates) {
    const paths = name.includes('/') ? [name] : (env.PATH ?? '').split(delimiter).filter(Boolean).map((d) => join(d, name));
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

export interface BuiltProbes {
  /** Directory holding one executable per probe, named after its .c file. */
  dir: string;
  names: string[];
  /** false when the cache already had this exact build. */
  compiled: boolean;
  ms: number;
}

export async function buildProbes(opts: { env?: NodeJS.ProcessEnv; root?: string } = {}): Promise<BuiltProbes> {
  const t0 = performance.now();
  const env = opts.env ?? process.env;
  const cc = findCompiler(env);
  const sources = readdirSync(NATIVE_DIR).filter((f) => f.endsWith('.c') || f.endsWith('.h')).sort();
  const names = sources.filter((f) => f.endsWith('.c')).map((f) => f.slice(0, -2));
  const version = await execa(cc, ['--version'], { env, reject: false });
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ cc, version: version.stdout.split('\n')[0], flags: CFLAGS, arch: process.arch }));
  for (const f of sources) hash.update(f).update('\0').update(readFileSync(join(NATIVE_DIR, f)));
  const dir = join(opts.root ?? cacheRoot(), 'probes', hash.digest('hex').slice(0, 16));
  if (existsSync(join(dir, '.complete'))) return { dir, names, compiled: false, ms: performance.now() - t0 };

  // Build into a private directory and rename it into place: concurrent
  // builders (two vitest runs, a lab command) never see half a cache.
  const staging = `${dir}.tmp-${process.pid}`;
  mkdirSync(staging, { recursive: true });
  try {
    await Promise.all(
      names.map(async (name) => {
        const r = await execa(cc, [...CFLAGS, '-o', join(staging, name), join(NATIVE_DIR, `${name}.c`)], {
          env,
          reject: false,
          all: true,
        });
        if (r.exitCode !== 0 || r.failed) {
          throw new ProbeBuildError(
            `compiling native-helpers/${name}.c with ${cc} failed (exit ${r.exitCode ?? r.signal}):\n${r.all ?? r.message}`,
          );
        }
      }),
    );
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
  return { dir, names, compiled: true, ms: performance.now() - t0 };
}
