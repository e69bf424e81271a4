/**
 * The case files whose observations the claim rules read: one per claim
 * family, named after it (helpers/claims/<family>.ts judges what
 * cases/claims/<family>.test.ts observed). The other case files test clonelab
 * itself (reports, lab, harness, leftovers, command-line tools) and bear no
 * claim. Tools that rerun only what verdicts depend on (npm run check:faults)
 * run these.
 */
export const CLAIM_FAMILIES = ['ids', 'proc', 'clone', 'signals', 'thread-group', 'kernel-threads', 'namespaces', 'ps'] as const;

export type ClaimFamily = (typeof CLAIM_FAMILIES)[number];

/** Paths relative to the project root, as vitest takes them. */
export const CLAIM_CASE_FILES: readonly string[] = CLAIM_FAMILIES.map((f) => `cases/claims/${f}.test.ts`);
