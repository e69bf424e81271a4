/**
 * The claim families. One name leads from a claim to all its parts:
 *
 *   cases/claims/<family>.test.ts        the experiments, which record observations
 *   helpers/claims/<family>.ts           the observation kinds and the claim rules over them
 *   cases/rules/<family>.rules.test.ts   the rule tests, over recorded fixtures
 *   native-helpers/<family>.c            the probe the experiments run
 *
 * A family whose experiments need no probe of their own says which one they
 * run instead, and why (`probe` below). cases/tooling/registry.test.ts checks
 * this layout on disk (helpers/claims/registry-check.ts), and which claims
 * each family holds is CLAIMS.md's "family" column.
 *
 * The case files of the families are the ones whose observations the claim
 * rules read; the other case files test clonelab itself (reports, lab,
 * harness, leftovers, command-line tools) and bear no claim. Tools that rerun
 * only what verdicts depend on (npm run check:faults) run these.
 */

/** How a family departs from the one-name layout. */
export interface FamilyLayout {
  /**
   * There is no native-helpers/<family>.c: the family's experiments run the
   * probe `instead` (a native-helpers/ base name), or none at all (null),
   * `because` of what they observe.
   */
  probe?: { instead: string | null; because: string };
}

export const CLAIM_FAMILIES = ['ids', 'proc', 'clone', 'signals', 'thread-group', 'kernel-threads', 'namespaces', 'ps'] as const;

export type ClaimFamily = (typeof CLAIM_FAMILIES)[number];

/** The families that depart from the one-name layout, and how; the others have every part. */
export const FAMILY_LAYOUT: Partial<Record<ClaimFamily, FamilyLayout>> = {
  'kernel-threads': {
    probe: {
      instead: null,
      because:
        'Kernel threads are started by the kernel, not by a probe: the experiments read what /proc shows of the tasks already there and send at most signal 0.',
    },
  },
  ps: {
    probe: {
      instead: 'ids',
      because: 'What is observed is what procps ps(1) prints, and the ids probe already makes the thread group it is pointed at.',
    },
  },
};

/** The paths of a family's parts, relative to the project root (vitest takes case files this way). */
export const familyFiles = (f: string) => ({
  caseFile: `cases/claims/${f}.test.ts`,
  ruleModule: `helpers/claims/${f}.ts`,
  ruleTests: `cases/rules/${f}.rules.test.ts`,
  probe: `native-helpers/${f}.c`,
});

export const CLAIM_CASE_FILES: readonly string[] = CLAIM_FAMILIES.map((f) => familyFiles(f).caseFile);
