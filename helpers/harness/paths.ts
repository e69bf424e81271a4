/**
 * Where clonelab's files are: the checkout, the probe sources, the build
 * cache and the default report directory. One place, so the report schema,
 * the probe builder and the kernel guests do not lend each other constants.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
export const NATIVE_DIR = join(PROJECT_ROOT, 'native-helpers');
/** vitest's entry, run with `node` directly: npx and npm would add their own start-up to every nested run. */
export const VITEST = join(PROJECT_ROOT, 'node_modules', 'vitest', 'vitest.mjs');

/**
 * Where a command runs from: a name with a slash as given, else the first
 * executable file of that name in env.PATH (as execvp(3) looks); undefined
 * when there is none. The one lookup for compilers, wrappers and needs.
 */
export function commandPath(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const executable = (p: string): boolean => {
    try {
      accessSync(p, constants.X_OK);
      return statSync(p).isFile();
    } catch {
      return false;
    }
  };
  if (name.includes('/')) return executable(name) ? name : undefined;
  return (env.PATH ?? '')
    .split(delimiter)
    .filter(Boolean)
    .map((d) => join(d, name))
    .find(executable);
}

/** Where built probes live; CLONELAB_CACHE_DIR moves it (e.g. a read-only checkout). */
export function cacheRoot(): string {
  return process.env.CLONELAB_CACHE_DIR ?? join(PROJECT_ROOT, 'node_modules', '.cache', 'clonelab');
}

/** Where `npm run report` and `npm test` write: reports/, or CLONELAB_REPORT_DIR. */
export function defaultReportDir(): string {
  return process.env.CLONELAB_REPORT_DIR ?? join(PROJECT_ROOT, 'reports');
}
