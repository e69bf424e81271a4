/**
 * The claim registry: every claim of ../shared/CLAIMS.md in clonelab's own
 * words, and the rule that turns this run's observations into its verdict.
 * The rules live with their claim family in helpers/rules/<family>.ts (the
 * same name as cases/<family>.test.ts, which records what they read).
 *
 * A rule sees only complete observations (helpers/observations.ts). With a
 * kind it needs not completely observed, the verdict is `inconclusive` and
 * names what failed. A rule that finds too little to judge throws
 * `Inconclusive` with what it missed; any other throw is a defect of the
 * rule: the claim is `inconclusive` in the report and the run fails.
 */
import type { CompleteObservation, ObservationKind, RecordedObservation } from './observations.js';
import { CLONE_CLAIMS } from './rules/clone.js';
import { IDS_CLAIMS } from './rules/ids.js';
import { KERNEL_THREADS_CLAIMS } from './rules/kernel-threads.js';
import { PID_NAMESPACES_CLAIMS } from './rules/pid-namespaces.js';
import { PROC_VISIBILITY_CLAIMS } from './rules/proc-visibility.js';
import { PS_CLAIMS } from './rules/ps.js';
import { SIGNALS_CLAIMS } from './rules/signals.js';
import { THREAD_VS_PROCESS_CLAIMS } from './rules/thread-vs-process.js';

export const VERDICTS = ['confirmed', 'refuted', 'nuanced', 'inconclusive', 'not-testable'] as const;
export type Verdict = (typeof VERDICTS)[number];

export interface Decision {
  verdict: Verdict;
  explanation: string;
}

/**
 * Thrown by a rule that, over complete observations, still saw too little to
 * judge (an empty set, a row it needs absent): the verdict is inconclusive
 * with this message. Never confirm over nothing.
 */
export class Inconclusive extends Error {
  override name = 'Inconclusive';
}

/** `xs` if it has at least one element; otherwise the rule saw nothing: Inconclusive. */
export function nonEmpty<T>(xs: readonly T[], what: string): readonly [T, ...T[]] {
  if (!xs.length) throw new Inconclusive(`No ${what} was observed completely in this run.`);
  return xs as readonly [T, ...T[]];
}

/** `x` if defined; otherwise Inconclusive naming what was missing. */
export function present<T>(x: T | undefined, what: string): T {
  if (x === undefined) throw new Inconclusive(`${what} was not observed completely in this run.`);
  return x;
}

export type Usable<K extends ObservationKind> = CompleteObservation<K> & { test: string; testState: string };

/** Why a recorded observation is not given to the rules, or undefined when it is. */
export function whySetAside(o: RecordedObservation): string | undefined {
  if (!o.complete) return o.unobserved;
  if (o.testState === 'skipped') return 'its test was skipped after recording it';
  return undefined;
}

/**
 * The observations of one run, by kind. Rules read only the usable ones
 * (complete, from a test that was not skipped); each read is remembered, so
 * that a claim lists exactly the observations its rule looked at.
 */
export class ObservationIndex {
  readonly reads = new Set<ObservationKind>();
  constructor(readonly list: readonly RecordedObservation[]) {}
  /** A fresh view of the same observations, with its own record of reads. */
  view(): ObservationIndex {
    return new ObservationIndex(this.list);
  }
  all<K extends ObservationKind>(kind: K): Usable<K>[] {
    this.reads.add(kind);
    return this.list.filter((o) => o.kind === kind && whySetAside(o) === undefined) as Usable<K>[];
  }
  has(kind: ObservationKind): boolean {
    return this.list.some((o) => o.kind === kind && whySetAside(o) === undefined);
  }
  /** Observations of a kind that the rules do not get, each with why. */
  setAside(kind: ObservationKind): { observation: RecordedObservation; reason: string }[] {
    return this.list.flatMap((o) => {
      const reason = o.kind === kind ? whySetAside(o) : undefined;
      return reason === undefined ? [] : [{ observation: o, reason }];
    });
  }
}

export interface Claim {
  id: string;
  /** Where in the Q&A: the title, or answer 1, 2 or 3 (CLAIMS.md's "where"). */
  source: 'title' | 'answer 1' | 'answer 1 (note)' | 'answer 2' | 'answer 3';
  statement: string;
  /** Kinds without which the rule cannot judge: with none usable, the verdict is inconclusive. */
  needs: ObservationKind[];
  /** Kinds the rule also reads when present (limits, nuances), without needing them. */
  uses?: ObservationKind[];
  decide?: (o: ObservationIndex) => Decision;
  /** Every verdict `decide` can return; the rule tests reach each one (cases/rules/). */
  verdicts?: Verdict[];
  /** Why no observation on a Linux host can bear on this claim. */
  notTestable?: string;
}

export const CLAIMS: Claim[] = [
  ...KERNEL_THREADS_CLAIMS,
  ...IDS_CLAIMS,
  ...PID_NAMESPACES_CLAIMS,
  ...PROC_VISIBILITY_CLAIMS,
  ...CLONE_CLAIMS,
  ...SIGNALS_CLAIMS,
  ...PS_CLAIMS,
  ...THREAD_VS_PROCESS_CLAIMS,
].sort((a, b) => claimOrder(a.id) - claimOrder(b.id));

/** T1, A1..A15, B1..B5, C1..C5: the order of CLAIMS.md. */
function claimOrder(id: string): number {
  return id === 'T1' ? 0 : (id.charCodeAt(0) - 64) * 100 + Number(id.slice(1));
}

/** Every observation kind a claim's rule may read. */
export const readsOf = (c: Claim): ObservationKind[] => [...c.needs, ...(c.uses ?? [])];

export interface Evaluation extends Decision {
  /** The kinds the rule read (asked the index for). */
  read: ObservationKind[];
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
  if (claim.notTestable) return { verdict: 'not-testable', explanation: claim.notTestable, read: [], used: [], setAside: [] };
  const setAside = readsOf(claim).flatMap((k) => index.setAside(k));
  if (!claim.decide) {
    return { verdict: 'inconclusive', explanation: 'No rule of this version of clonelab judges this claim.', read: [], used: [], setAside };
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
      ].filter(Boolean).join(' '),
      read: [],
      used: [],
      setAside,
    };
  }
  const view = index.view();
  let decision: Decision;
  let broken: string | undefined;
  try {
    decision = claim.decide(view);
  } catch (e) {
    if (e instanceof Inconclusive) {
      decision = { verdict: 'inconclusive', explanation: e.message };
    } else {
      broken = e instanceof Error ? (e.stack ?? e.message) : String(e);
      decision = {
        verdict: 'inconclusive',
        explanation: `The rule for ${claim.id} failed on this run's observations (${e instanceof Error ? e.message : String(e)}): a defect of clonelab, not a finding about the kernel.`,
      };
    }
  }
  const read = [...view.reads];
  const used = index.list.filter((o) => read.includes(o.kind) && whySetAside(o) === undefined);
  const asideRead = setAside.filter((x) => read.includes(x.observation.kind));
  const explanation = asideRead.length
    ? `${decision.explanation} Not used, because not completely observed: ${setAsideText(asideRead)}.`
    : decision.explanation;
  return { ...decision, explanation, read, used, setAside, ...(broken ? { broken } : {}) };
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
