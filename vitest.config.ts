import { accessSync, constants, existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { defineConfig } from 'vitest/config';
import { PROJECT_ROOT } from './helpers/harness/paths.js';

const MODULE_CACHE = join(PROJECT_ROOT, 'node_modules', '.cache', 'vitest-modules');

/** Whether `dir`, or the nearest of its ancestors that exists, can be written by this process. */
function writable(dir: string): boolean {
  let d = dir;
  while (!existsSync(d) && dirname(d) !== d) d = dirname(d);
  try {
    accessSync(d, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

export default defineConfig({
  test: {
    // Fixtures run only when a test asks for them (cases/tooling/leftovers.test.ts).
    include: process.env.CLONELAB_FIXTURE ? process.env.CLONELAB_FIXTURE.split(',') : ['cases/**/*.test.ts'],
    // Builds the probes once per run and checks that nothing of ours is left.
    globalSetup: ['helpers/harness/global-setup.ts'],
    // Evaluated again before every test file, also without isolation (vitest re-imports setup files per file).
    setupFiles: ['helpers/harness/test-setup.ts'],
    // Child processes, not worker threads: a probe's PR_SET_PDEATHSIG follows
    // the thread that spawned it, and each file's probes die with its worker.
    pool: 'forks',
    // One worker runs several files one after the other, sharing its module
    // cache: it saves re-importing the rules, harness and vitest itself for
    // every file (about a fifth of the suite's wall time on 2 cores). It is
    // safe because nothing a file can change outlives it in a way the next one
    // sees:
    // - probes: helpers/harness/probe.ts keeps one set of live probes per
    //   process; test-setup.ts stops them after each test and checks after
    //   each file that none of this worker's probe tasks is left (ancestry is
    //   the worker's PID, the same for every file it runs, one at a time);
    // - process-wide handlers (signals, IPC disconnect) are installed once per
    //   worker by test-setup.ts, not once per file;
    // - module state elsewhere is a cache of facts that do not change within a
    //   run (environment(), the syscall table, the probe directory);
    // - the one test that changes process.env (faults.test.ts, the probe wrap)
    //   restores it synchronously before it yields;
    // - observations live in each test's task meta, never in module state.
    isolate: false,
    // Vitest's default is one worker per core less one: a single worker on 2
    // cores, which runs the files one after the other. The long files of the
    // suite mostly wait on child processes (nested vitest runs started cold, a
    // browser, tsx, probes) rather than compute, so four workers on 2 cores
    // overlap that waiting: npm test measured 15-17 s with 2 workers and
    // 11-13 s with 4 on a loaded 2-core machine, for the same CPU time; the
    // claim cases alone take the same wall time with 2 or 4. (One core, e.g. a
    // small kernel guest under emulation: one worker, as vitest would choose.)
    maxWorkers: availableParallelism() > 1 ? Math.max(4, availableParallelism() - 1) : 1,
    testTimeout: 60_000,
    hookTimeout: 30_000,
    // A kernel guest also records when each case file ran (helpers/kernels/breakdown.ts).
    reporters: ['default', './helpers/report/reporter.ts', ...(process.env.CLONELAB_TIMING_FILE ? ['./helpers/kernels/timing-reporter.ts'] : [])],
    // Transformed modules kept on disk between runs, and shared by the nested
    // runs some tests start (vitest writes each entry atomically): about a
    // sixth of npm test's CPU time on 2 cores. Beside the checkout's other
    // caches, and only where it can be written (a kernel guest sees the
    // checkout read-only over 9p; a read-only checkout runs without it).
    experimental: { fsModuleCache: writable(MODULE_CACHE), fsModuleCachePath: MODULE_CACHE },
  },
});
