/**
 * vitest global setup: refuse to start without /proc, build the probes once
 * for the whole run, and after the run make sure no probe task is left.
 */
import type { TestProject } from 'vitest/node';
import { buildProbes } from './build.js';
import { procProblem } from './environment.js';
import { leftoverProbeTasks } from './leftovers.js';
import { unobservedReason } from '../unobserved.js';
import { configureProbes, runProbe } from './probe.js';

declare module 'vitest' {
  export interface ProvidedContext {
    probeDir: string;
  }
}

/**
 * A fact for every report: is clone3 there, or does this kernel (or a seccomp
 * profile) say ENOSYS, so that libc and the suite fall back to clone? A probe
 * that cannot answer (a fault run refusing one of its own syscalls) leaves the
 * fact unknown, with why; the run goes on.
 */
async function clone3Availability(): Promise<string> {
  try {
    const c3 = await runProbe('clone', ['--try', 'clone3:none']);
    const t = c3.records.find((r) => r.event === 'try');
    if (!t || t.event !== 'try') return 'unknown: the share probe printed no "try" record';
    return t.result === 'ok' ? 'available' : `${t.result}: falls back to clone`;
  } catch (e) {
    return `unknown: ${unobservedReason(e)}`;
  }
}

export default async function setup(project: TestProject): Promise<() => void> {
  const noProc = procProblem();
  if (noProc) throw new Error(noProc);
  const built = await buildProbes();
  project.provide('probeDir', built.dir);
  configureProbes(built.dir);
  process.env.CLONELAB_CLONE3 = await clone3Availability();
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
