/**
 * How an experiment says it did not observe something: instead of a
 * placeholder (-1, 0, '?', ''), it throws, and the observation that was being
 * built becomes incomplete with the reason (helpers/observations.ts). Apart
 * from observations.ts so that code outside a test (vitest's global setup,
 * scripts) can use it.
 */
import { ProbeFailure } from './harness/probe.js';

/**
 * A value the experiment needed and did not get. Thrown instead of writing a
 * placeholder (-1, 0, '?', ''): the observation becomes incomplete with this
 * reason, and the test fails with it.
 */
export class Unobserved extends Error {
  override name = 'Unobserved';
}

/** `value`, or an Unobserved naming `what` when it is undefined or null. */
export function must<T>(value: T | undefined | null, what: string): T {
  if (value === undefined || value === null) throw new Unobserved(`${what} could not be read`);
  return value;
}

/** Throws Unobserved unless `ok`: for an observation that needs a step to have worked. */
export function unobservedUnless(ok: boolean, why: string): asserts ok {
  if (!ok) throw new Unobserved(why);
}

/** The reason an error makes an observation incomplete, in one or two lines. */
export function unobservedReason(e: unknown): string {
  if (e instanceof Unobserved) return e.message;
  if (e instanceof ProbeFailure) {
    const errors = e.details.records.filter((r) => r.event === 'error').map((r) => (r.event === 'error' ? `${r.op}: ${r.errno}` : ''));
    return `probe '${[e.probe, ...e.args].join(' ')}' failed: ${e.reason}${errors.length ? ` (error records: ${errors.join(', ')})` : ''}`;
  }
  return `the experiment stopped: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`;
}
