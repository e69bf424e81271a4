/**
 * What tests record. An observation is one experiment's outcome, of a named
 * kind whose shape its claim family declares (helpers/claims/<family>.ts).
 * Claim rules read them; tests attach them to their vitest task
 * (`task.meta.observations`), and the reporter collects them from every
 * worker.
 *
 * Two things are kept apart:
 * - whether an observation is *complete*: its probe ran to the end, every
 *   field was read, nothing it depends on failed. Only complete observations
 *   reach the rules; an incomplete one keeps its reason and what was seen so
 *   far, and is set aside.
 * - whether the test's expectation of documented Linux held. A complete
 *   observation that contradicts it fails its test and is still evidence.
 */
import { test as base } from 'vitest';
import type { CloneObservations } from './claims/clone.js';
import type { IdsObservations } from './claims/ids.js';
import type { KernelThreadsObservations } from './claims/kernel-threads.js';
import type { NamespacesObservations } from './claims/namespaces.js';
import type { ProcObservations } from './claims/proc.js';
import type { PsObservations } from './claims/ps.js';
import type { SignalsObservations } from './claims/signals.js';
import type { ThreadGroupObservations } from './claims/thread-group.js';
import { ProbeNotBuilt } from './harness/build.js';
import { ProbeFailure } from './harness/probe.js';
import { unobservedReason } from './unobserved.js';

export { must, Unobserved, unobservedReason, unobservedUnless } from './unobserved.js';
export { needs } from './harness/needs.js';

export interface ObservationResults
  extends
    IdsObservations,
    ProcObservations,
    CloneObservations,
    SignalsObservations,
    ThreadGroupObservations,
    KernelThreadsObservations,
    NamespacesObservations,
    PsObservations {}

export type ObservationKind = keyof ObservationResults;

/** What was seen, as seen: probe records, /proc text, transcripts. */
export type Evidence = Record<string, unknown>;

interface ObservationBase<K extends ObservationKind> {
  kind: K;
  /** Which variant of the experiment this was, e.g. "pthread x64". */
  variant: string;
  evidence: Evidence;
  /** Which attempt of its test made it (0 unless vitest --retry ran the test again). */
  attempt?: number;
}

/** Observed to the end: the rules may read it. */
export interface CompleteObservation<K extends ObservationKind = ObservationKind> extends ObservationBase<K> {
  complete: true;
  result: ObservationResults[K];
}

/** Not observed to the end: no result, only why, and what was seen before it stopped. */
export interface IncompleteObservation<K extends ObservationKind = ObservationKind> extends ObservationBase<K> {
  complete: false;
  /** What could not be observed, e.g. "probe 'signals --threads 2' failed: ... tgkill: EPERM". */
  unobserved: string;
}

export type Observation<K extends ObservationKind = ObservationKind> = CompleteObservation<K> | IncompleteObservation<K>;

/** As stored in a report: with the test that made it and how that attempt of the test ended. */
export type RecordedObservation<K extends ObservationKind = ObservationKind> = Observation<K> & { test: string; testState: string };

declare module '@vitest/runner' {
  interface TaskMeta {
    observations?: Observation[];
  }
}

/**
 * Record one observation. `build` runs the experiment and returns its result;
 * it may fill `evidence` as it goes. If it throws (a probe failed or hit its
 * deadline, a value could not be read: `must`), the observation is recorded
 * as incomplete with the reason and the evidence gathered so far, and the
 * error is thrown on, so that the test fails with it. Resolves with the
 * result, for the test's assertions.
 */
export type Observe = <K extends ObservationKind>(
  kind: K,
  variant: string,
  build: (evidence: Evidence) => ObservationResults[K] | Promise<ObservationResults[K]>,
) => Promise<ObservationResults[K]>;

/**
 * vitest's `test`, with an `observe` fixture that attaches observations to the
 * running test. (A test declared with `needs({...})` is skipped before its
 * body when a requirement is unmet: helpers/harness/test-setup.ts does that
 * for every test, this one and vitest's own.)
 */
export const test = base.extend<{ observe: Observe }>({
  observe: async ({ task, skip }, use) => {
    const list: Observation[] = (task.meta.observations ??= []);
    // vitest runs a retried test again in the same task: each attempt keeps its own number.
    const attempt = task.result?.retryCount ?? 0;
    await use(async (kind, variant, build) => {
      const evidence: Evidence = {};
      try {
        const result = await build(evidence);
        list.push({ kind, variant, complete: true, result, evidence, attempt });
        return result;
      } catch (e) {
        if (e instanceof ProbeFailure) {
          evidence.probeRecords ??= e.details.records;
          if (e.details.stderr.trim()) evidence.probeStderr ??= e.details.stderr.trim().split('\n').slice(-20).join('\n');
        }
        list.push({ kind, variant, complete: false, unobserved: unobservedReason(e), evidence, attempt });
        // A probe this run's libc could not build (helpers/harness/build.ts): the test has nothing to run, it is not broken.
        if (e instanceof ProbeNotBuilt) skip(e.message);
        throw e;
      }
    });
  },
});
