/** Runs in every test worker: where the probes are, and no probe outlives its test. */
import { afterAll, afterEach, inject } from 'vitest';
import { leftoverProbeTasks } from './leftovers.js';
import { configureProbes, stopAllProbes } from './probe.js';

const probeDir = inject('probeDir');
configureProbes(probeDir);

afterEach(stopAllProbes);

afterAll(() => {
  const left = leftoverProbeTasks(probeDir, { ancestor: process.pid });
  if (left.length) throw new Error(`probe tasks left after this file: ${left.map((t) => `${t.pid} (${t.exe})`).join(', ')}`);
});
