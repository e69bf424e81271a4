/**
 * What a figure may draw from: the report's observations that the rules
 * would read (complete, from a test that was not skipped: whySetAside in
 * helpers/claims/rule.ts, the one definition), and, when there are none of a
 * kind, why, in the report's own words. A figure never fills a gap.
 */
import { familyFiles, type ClaimFamily } from '../../claims/families.js';
import { whySetAside } from '../../claims/rule.js';
import type { ObservationKind } from '../../observations.js';
import type { ClaimsReport, ReportObservation } from '../claims-report.js';

export type UsableObservation<K extends ObservationKind> = ReportObservation<K> & { complete: true };

/** The observations of `kind` the rules would read, in report order. */
export function usable<K extends ObservationKind>(r: ClaimsReport, kind: K): UsableObservation<K>[] {
  return r.observations.filter((o): o is UsableObservation<K> => o.kind === kind && whySetAside(o) === undefined);
}

/**
 * Why no observation of `kind` can be drawn: each recorded one set aside with
 * its reason, or none recorded (and, in a partial run, which case files did
 * not run; given the family that records it, which of its tests were skipped
 * and why).
 */
export function whyMissing(r: ClaimsReport, kind: ObservationKind, family?: ClaimFamily): string {
  const recorded = r.observations.filter((o) => o.kind === kind);
  if (recorded.length) {
    return `every ${kind} observation was set aside: ${recorded.map((o) => `${o.id} (${o.test}, ${o.testState}): ${whySetAside(o) ?? 'usable'}`).join('; ')}`;
  }
  const notRun = r.cases.claimFilesNotRun.length ? ` (this run did not run ${r.cases.claimFilesNotRun.join(', ')})` : '';
  const file = family && familyFiles(family).caseFile;
  const skipped = file ? r.tests.list.filter((t) => t.file === file && t.state === 'skipped') : [];
  const why = skipped.length ? `; skipped in ${file}: ${skipped.map((t) => `"${t.name}" (${t.skipReason ?? t.state})`).join('; ')}` : '';
  return `no ${kind} observation was recorded in this run${notRun}${why}`;
}
