/**
 * Runs before every test file (vitest evaluates setup files again for each
 * file, also when one worker runs several files without isolation): where the
 * probes are, and no probe outlives its test.
 */
import { setGracefulCleanup } from 'tmp-promise';
import { afterAll, afterEach, beforeEach, inject } from 'vitest';
import { leftoverProbeTasks } from './leftovers.js';
import { skipUnmet } from './needs.js';
import { configureProbes, stopAllProbes } from './probe.js';

const probeDir = inject('probeDir');
configureProbes(probeDir);

// Per file: vitest collects these hooks into the file being set up.
// (A file with test.concurrent tests that start probes in this process would
// have one test's afterEach stop the other's probes: keep such tests sequential.)
afterEach(stopAllProbes);

// A test declared with needs({...}) (helpers/harness/needs.ts) whose
// requirements are not met here is skipped with the generated reason before
// its body runs, so before any probe starts: for every test of every file.
beforeEach(({ task, skip }) => skipUnmet({ task, skip }));

afterAll(() => {
  // This worker's PID is the ancestor for every file it runs; files run one at a time in it.
  const left = leftoverProbeTasks(probeDir, { ancestor: process.pid });
  if (left.length) throw new Error(`probe tasks left after this file: ${left.map((t) => `${t.pid} (${t.exe})`).join(', ')}`);
});

// Per worker process, once: with isolate: false this file runs again for every
// test file of the worker, and a handler added each time would pile up
// (Node warns past 10 listeners of one event).
const INSTALLED = Symbol.for('clonelab.test-setup.process-handlers');
const worker = globalThis as { [INSTALLED]?: true };
if (!worker[INSTALLED]) {
  worker[INSTALLED] = true;
  // An interrupted run (Ctrl-C, a CI cancel) ends this worker with a signal:
  // exit instead, so that the exit hooks run (probe.ts stops every reaper,
  // tmp removes its temporary directories).
  setGracefulCleanup();
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const)
    process.once(sig, () => process.exit(128 + ({ SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as const)[sig]));
  // If vitest's main process dies first (interrupted, killed), this worker's IPC
  // channel closes: leave too, rather than linger as an orphan with probes running.
  // (check:flakes caught workers outliving an interrupted run by more than 10 s.)
  if (process.send) process.once('disconnect', () => process.exit(process.exitCode ?? 0));
}
