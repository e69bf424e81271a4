/**
 * The environments `npm run check:environments` runs the whole suite in, by
 * name. scripts/check-environments.ts says how each is made (its table is
 * keyed by these names, so the compiler holds the two together); a claim
 * whose verdict an environment is expected to move says so beside itself
 * (Claim.expectedIn, in helpers/claims/<family>.ts), naming one of these.
 */
export const CHECKED_ENVIRONMENTS = ['root', 'unprivileged', 'pid-namespace', 'hidepid', 'no-clone3', 'cpu-load', 'container'] as const;

export type CheckedEnvironment = (typeof CHECKED_ENVIRONMENTS)[number];

/** The run every other environment's verdicts are compared with: it cannot differ from itself. */
export const BASELINE_ENVIRONMENT: CheckedEnvironment = 'root';
