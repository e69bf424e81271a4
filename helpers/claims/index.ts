/**
 * The claim registry: every claim of CLAIMS.md (at the project root) in
 * clonelab's own words, and the rule that turns this run's observations into
 * its verdict. The rules live with their claim family in
 * helpers/claims/<family>.ts (the same name as cases/claims/<family>.test.ts,
 * which records what they read; helpers/claims/families.ts has the layout).
 * cases/tooling/registry.test.ts checks the registry against CLAIMS.md and
 * against the case files (helpers/claims/registry-check.ts).
 *
 * A rule sees only complete observations (helpers/observations.ts). With a
 * kind it needs not completely observed, the verdict is `inconclusive` and
 * names what failed. A rule that finds too little to judge throws
 * `Inconclusive` with what it missed; any other throw is a defect of the
 * rule: the claim is `inconclusive` in the report and the run fails.
 */
import type { ObservationKind, RecordedObservation } from '../observations.js';
import {
  type Claim,
  type Decision,
  type EnvironmentFact,
  type EvidenceOnly,
  type ExpectedDifference,
  type ObservationIndex,
  Inconclusive,
  whySetAside,
} from './rule.js';
import type { CheckedEnvironment } from './checked-environments.js';
import { CLAIM_FAMILIES, FAMILY_LAYOUT, type ClaimFamily, type FamilyLayout } from './families.js';
import { CLONE_CLAIMS, CLONE_EVIDENCE_ONLY } from './clone.js';
import { IDS_CLAIMS } from './ids.js';
import { KERNEL_THREADS_CLAIMS } from './kernel-threads.js';
import { NAMESPACES_CLAIMS } from './namespaces.js';
import { PROC_CLAIMS } from './proc.js';
import { PS_CLAIMS } from './ps.js';
import { SIGNALS_CLAIMS } from './signals.js';
import { THREAD_GROUP_CLAIMS } from './thread-group.js';

export {
  VERDICTS,
  type Verdict,
  type Decision,
  Inconclusive,
  nonEmpty,
  present,
  type Usable,
  whySetAside,
  ObservationIndex,
  type Claim,
  type EvidenceOnly,
  type ExpectedDifference,
} from './rule.js';
export { ENVIRONMENT_FACTS, type EnvironmentFact, type RuleEnvironment, ruleEnvironment } from './rule.js';

/** One claim family as the registry holds it: its claims, the kinds it records only as evidence, and its layout. */
export interface RegistryFamily {
  name: ClaimFamily;
  claims: readonly Claim[];
  evidenceOnly: EvidenceOnly;
  layout: FamilyLayout;
}

const MODULES: Record<ClaimFamily, { claims: readonly Claim[]; evidenceOnly?: EvidenceOnly }> = {
  ids: { claims: IDS_CLAIMS },
  proc: { claims: PROC_CLAIMS },
  clone: { claims: CLONE_CLAIMS, evidenceOnly: CLONE_EVIDENCE_ONLY },
  signals: { claims: SIGNALS_CLAIMS },
  'thread-group': { claims: THREAD_GROUP_CLAIMS },
  'kernel-threads': { claims: KERNEL_THREADS_CLAIMS },
  namespaces: { claims: NAMESPACES_CLAIMS },
  ps: { claims: PS_CLAIMS },
};

/** Every family, in the order of CLAIM_FAMILIES. */
export const FAMILIES: readonly RegistryFamily[] = CLAIM_FAMILIES.map((name) => ({
  name,
  claims: MODULES[name].claims,
  evidenceOnly: MODULES[name].evidenceOnly ?? {},
  layout: FAMILY_LAYOUT[name] ?? {},
}));

/** Every claim, in the order of CLAIMS.md (T1, A1..A15, B1..B5, C1..C5). */
export const CLAIMS: Claim[] = FAMILIES.flatMap((f) => f.claims).sort((a, b) => claimOrder(a.id) - claimOrder(b.id));

/** The family that holds a claim (CLAIMS.md's "family" column). */
export const familyOf = (id: string): ClaimFamily | undefined => FAMILIES.find((f) => f.claims.some((c) => c.id === id))?.name;

/** The claims whose verdict `env` is expected to move, with how and why (Claim.expectedIn), by ID. */
export function expectedIn(env: CheckedEnvironment): Record<string, ExpectedDifference> {
  return Object.fromEntries(
    CLAIMS.flatMap((c) => {
      const e = c.expectedIn?.[env];
      return e ? [[c.id, e]] : [];
    }),
  );
}

/** T1, A1..A15, B1..B5, C1..C5: the order of CLAIMS.md. */
function claimOrder(id: string): number {
  return id === 'T1' ? 0 : (id.charCodeAt(0) - 64) * 100 + Number(id.slice(1));
}

/** Every observation kind a claim's rule may read. */
export const readsOf = (c: Claim): ObservationKind[] => [...c.needs, ...(c.uses ?? [])];

export interface Evaluation extends Decision {
  /** The kinds the rule read (asked the index for). */
  read: ObservationKind[];
  /** The environment facts the rule read (asked the index for). */
  readEnv: EnvironmentFact[];
  /** The usable observations of every kind the rule read. */
  used: RecordedObservation[];
  /** Observations of the kinds it reads that it did not get, with why. */
  setAside: { observation: RecordedObservation; reason: string }[];
  /** The rule itself failed: a defect of clonelab, which fails the run. */
  broken?: string;
}

const setAsideText = (s: Evaluation['setAside']): string =>
  s.map((x) => `${x.observation.kind}/${x.observation.variant} (${x.observation.test}): ${x.reason}`).join('; ');

/** The verdict of one claim over this run's observations, with what it read and what it set aside. */
export function evaluate(claim: Claim, index: ObservationIndex): Evaluation {
  if (claim.notTestable) return { verdict: 'not-testable', explanation: claim.notTestable, read: [], readEnv: [], used: [], setAside: [] };
  const setAside = readsOf(claim).flatMap((k) => index.setAside(k));
  if (!claim.decide) {
    return { verdict: 'inconclusive', explanation: 'No rule of this version of clonelab judges this claim.', read: [], readEnv: [], used: [], setAside };
  }
  const missing = claim.needs.filter((k) => !index.has(k));
  if (missing.length) {
    const aside = setAside.filter((x) => missing.includes(x.observation.kind));
    const never = missing.filter((k) => !aside.some((x) => x.observation.kind === k));
    return {
      verdict: 'inconclusive',
      explanation: [
        `This run did not completely observe what the rule needs (${missing.join(', ')}).`,
        aside.length ? `Set aside: ${setAsideText(aside)}.` : '',
        never.length ? `Never recorded: ${never.join(', ')} (their tests were skipped, failed before recording, or were not run).` : '',
      ]
        .filter(Boolean)
        .join(' '),
      read: [],
      readEnv: [],
      used: [],
      setAside,
    };
  }
  const view = index.view(claim.env ?? []);
  let decision: Decision;
  let broken: string | undefined;
  try {
    decision = claim.decide(view);
  } catch (e) {
    if (e instanceof Inconclusive) {
      decision = { verdict: 'inconclusive', explanation: e.message };
    } else {
      broken = e instanceof Error ? (e.stack ?? e.message) : String(e);
      const message = e instanceof Error ? e.message : String(e);
      decision = {
        verdict: 'inconclusive',
        explanation: `The rule for ${claim.id} failed on this run's observations (${message}): a defect of clonelab, not a finding about the kernel.`,
      };
    }
  }
  const read = [...view.reads];
  const readEnv = [...view.envReads];
  const used = index.list.filter((o) => read.includes(o.kind) && whySetAside(o) === undefined);
  const asideRead = setAside.filter((x) => read.includes(x.observation.kind));
  const explanation = asideRead.length
    ? `${decision.explanation} Not used, because not completely observed: ${setAsideText(asideRead)}.`
    : decision.explanation;
  return { ...decision, explanation, read, readEnv, used, setAside, ...(broken ? { broken } : {}) };
}

/**
 * Text in an explanation that stands for a value nobody observed: undefined,
 * null, NaN, an object printed as such, a -1 or '?' placeholder, an unparsed
 * "none()", or a list that came out empty ("()", "[]", ": .", a double space).
 * Returns the offending piece, or undefined. Used by the rule tests and by
 * `npm run check:faults` on real reports.
 */
export function findPlaceholder(explanation: string): string | undefined {
  const patterns = [
    /\bundefined\b/,
    /\bnull\b/,
    /\bNaN\b/,
    /\[object \w+\]/,
    /(?<![\w.:-])-1(?![\d.])/,
    /(?:^|[\s(/:,])\?(?=[\s)/,.;]|$)/,
    /\bnone\(\)/,
    /(?<!\w)\(\s*\)/,
    /\[\s*\]/,
    /:\s*[.;,]/,
    /\S {2,}\S/,
    /^\s*$/,
  ];
  for (const p of patterns) {
    const m = explanation.match(p);
    if (m) return m[0] || '(empty)';
  }
  return undefined;
}
