/**
 * Which claim-bearing case files a run needs for the claims it is asked
 * about (`npm run kernels -- --claim C3`), and which claims such a narrowed
 * run can judge.
 *
 * One source of truth each: what a claim's rule reads is the registry's
 * (Claim.needs and Claim.uses, helpers/claims/index.ts readsOf), and what a
 * case file records is read from its text by the same scan that
 * cases/tooling/registry.test.ts checks the layout with
 * (helpers/claims/registry-check.ts scanCaseFile, through scanRepository).
 * No table here names a file for a claim, so a kind moved from one case file
 * to another moves the scope with it.
 *
 * A claim is in scope of a set of case files when every kind its rule reads
 * that any claim-bearing file records is recorded by one of them: its verdict
 * then rests on the same observations as in a full run. Out of scope, its
 * verdict in a narrowed report is `inconclusive` only because the experiment
 * was not run; the matrix says "out-of-scope" instead (applyScope), so it is
 * not read as observed and failed.
 */
import { CLAIM_CASE_FILES, CLAIM_FAMILIES, familyFiles } from './families.js';
import { CLAIMS, readsOf, type Claim } from './index.js';
import { scanRepository } from './registry-check.js';
import { PROJECT_ROOT } from '../harness/paths.js';
import type { Matrix } from '../report/matrix.js';

/** The kinds each claim-bearing case file records, by its path relative to the project root. */
export type RecordedKinds = Readonly<Record<string, readonly string[]>>;

/**
 * What the claim-bearing case files under `root` record, read from their
 * text. A file whose `observe(` calls the scan cannot read (a kind that is
 * not a string literal) is reported, not guessed at: the scope would be
 * wrong in a way no run would show.
 */
export function recordedKinds(root: string = PROJECT_ROOT): RecordedKinds {
  const scan = scanRepository(root, CLAIM_FAMILIES);
  const out: Record<string, readonly string[]> = {};
  for (const f of scan.families) {
    const file = familyFiles(f.name).caseFile;
    if (!f.caseFile) throw new Error(`${file} is missing: the scope of a claim cannot be worked out without it`);
    if (f.caseFile.unreadable.length)
      throw new Error(
        `${file}: observe() with a kind that is not a string literal (${f.caseFile.unreadable.join(', ')}): the scope of a claim cannot be read from it; write the kind as a literal`,
      );
    out[file] = f.caseFile.recorded;
  }
  return out;
}

export interface ClaimScope {
  /** The claim IDs asked for, in the registry's order. */
  asked: string[];
  /** The case files to run, in the order of CLAIM_CASE_FILES. */
  caseFiles: string[];
  /** Every claim the run can judge as a full run would (the asked ones and any other its files cover), in the registry's order. */
  claims: string[];
}

/** The ID list for messages: "T1, A1, ..., C5". */
export const claimIds = (claims: readonly Claim[] = CLAIMS): string[] => claims.map((c) => c.id);

/**
 * The case files that record what the claims `ids` read, and every claim
 * those files cover. Throws on an unknown ID (naming the valid ones), and
 * when the claims read nothing any case file records (B5, not testable on a
 * Linux host): there is nothing to run for them.
 */
export function claimScope(ids: readonly string[], recorded: RecordedKinds, claims: readonly Claim[] = CLAIMS): ClaimScope {
  const unknown = ids.filter((id) => !claims.some((c) => c.id === id));
  if (unknown.length) throw new Error(`unknown claim ${unknown.join(', ')} (valid: ${claimIds(claims).join(', ')})`);
  const asked = claims.filter((c) => ids.includes(c.id));
  const reads = new Set(asked.flatMap(readsOf) as string[]);
  const order = Object.keys(recorded);
  const caseFiles = order.filter((f) => recorded[f]!.some((k) => reads.has(k)));
  if (!caseFiles.length)
    throw new Error(
      `${asked.map((c) => c.id).join(', ')} ${asked.length === 1 ? 'reads' : 'read'} no observation that a case file records: there is nothing to run for ${asked.length === 1 ? 'it' : 'them'}`,
    );
  return { asked: asked.map((c) => c.id), caseFiles, claims: claimsCovered(caseFiles, recorded, claims) };
}

/** The claims whose every recorded kind is recorded by one of `caseFiles`: those a run of these files judges as a full run would. */
export function claimsCovered(caseFiles: readonly string[], recorded: RecordedKinds, claims: readonly Claim[] = CLAIMS): string[] {
  const ran = new Set(caseFiles.flatMap((f) => recorded[f] ?? []));
  const anywhere = new Set(Object.values(recorded).flat());
  return claims.filter((c) => (readsOf(c) as string[]).filter((k) => anywhere.has(k)).every((k) => ran.has(k))).map((c) => c.id);
}

/** The cell of a claim the run did not set out to judge (schemas/matrix.schema.json lists it). */
export const OUT_OF_SCOPE = 'out-of-scope';

/**
 * The matrix of a narrowed run: every column's cell of a claim outside
 * `scope.claims` says "out-of-scope" (its explanation dropped: it would
 * explain a verdict the matrix does not show), and the test rows of
 * claim-bearing case files outside `scope.caseFiles` are left out. The rows
 * in scope keep buildMatrix's order (those that differ first); the claims
 * out of scope follow them, in registry order, none of them differing.
 */
export function applyScope(m: Matrix, scope: Pick<ClaimScope, 'claims' | 'caseFiles'>): Matrix {
  const inScope = new Set(scope.claims);
  const outOfScope = m.claims
    .filter((c) => !inScope.has(c.id))
    .sort((a, b) => CLAIMS.findIndex((c) => c.id === a.id) - CLAIMS.findIndex((c) => c.id === b.id))
    .map((c) => ({ ...c, cells: Object.fromEntries(Object.keys(c.cells).map((label) => [label, OUT_OF_SCOPE])), explanations: {}, differs: false, facts: [] }));
  return {
    ...m,
    claims: [...m.claims.filter((c) => inScope.has(c.id)), ...outOfScope],
    tests: m.tests.filter((t) => scope.caseFiles.includes(t.file) || !CLAIM_CASE_FILES.includes(t.file)),
  };
}
