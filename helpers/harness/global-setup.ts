/**
 * vitest global setup: refuse to start without /proc, build the probes once
 * for the whole run, and after the run make sure no probe task is left.
 */
import type { TestProject } from 'vitest/node';
import { buildProbes } from './build.js';
import { procProblem } from './environment.js';
import { leftoverProbeTasks } from './leftovers.js';
import { configureProbes } from './probe.js';

declare module 'vitest' {
  export interface ProvidedContext {
    probeDir: string;
  }
}

export default async function setup(project: TestProject): Promise<() => void> {
  const noProc = procProblem();
  if (noProc) throw new Error(noProc);
  const built = await buildProbes();
  project.provide('probeDir', built.dir);
  // The reporter runs in this process: it probes clone3 itself (environment.ts recordEnvironment()).
  configureProbes(built.dir);
  return () => {
    // Only below this vitest process: another clonelab run (a nested `npm run report`, a
    // second terminal) may be using the same probe cache at the same time.
    const left = leftoverProbeTasks(built.dir, { ancestor: process.pid, kill: true });
    if (left.length) {
      throw new Error(
        `clonelab left ${left.length} probe task(s) running after the suite; they were killed now:\n` +
          left.map((t) => `  PID ${t.pid} ${t.state} ${t.exe}`).join('\n'),
      );
    }
  };
}
