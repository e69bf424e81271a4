/** Runs in every test worker: where the probes are, and no probe outlives its test. */
import { setGracefulCleanup } from 'tmp-promise';
import { afterAll, afterEach, inject } from 'vitest';
import { leftoverProbeTasks } from './leftovers.js';
import { configureProbes, stopAllProbes } from './probe.js';

const probeDir = inject('probeDir');
configureProbes(probeDir);

afterEach(stopAllProbes);

// An interrupted run (Ctrl-C, a CI cancel) ends this worker with a signal:
// exit instead, so that the exit hooks run (probe.ts stops every reaper,
// tmp removes its temporary directories).
setGracefulCleanup();
for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.once(sig, () => process.exit(128 + ({ SIGHUP: 1, SIGINT: 2, SIGTERM: 15 } as const)[sig]));
// If vitest's main process dies first (interrupted, killed), this worker's IPC
// channel closes: leave too, rather than linger as an orphan with probes running.
// (check:flakes caught workers outliving an interrupted run by more than 10 s.)
if (process.send) process.once('disconnect', () => process.exit(process.exitCode ?? 0));

afterAll(() => {
  const left = leftoverProbeTasks(probeDir, { ancestor: process.pid });
  if (left.length) throw new Error(`probe tasks left after this file: ${left.map((t) => `${t.pid} (${t.exe})`).join(', ')}`);
});
