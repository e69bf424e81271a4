/**
 * What a claim rule is made of, apart from the registry (helpers/claims/index.ts)
 * so that the rule modules (helpers/claims/<family>.ts) and the registry that
 * gathers them do not import each other: verdicts, the observation index a
 * rule reads (observations by kind, and the environment facts rules may
 * read), the Claim shape, and the ways a rule says it saw too little.
 */
import type { CompleteObservation, ObservationKind, RecordedObservation } from '../observations.js';
import type { CheckedEnvironment } from './checked-environments.js';
import type { Environment } from '../harness/environment.js';

export const VERDICTS = ['confirmed', 'refuted', 'nuanced', 'inconclusive', 'not-testable'] as const;
export type Verdict = (typeof VERDICTS)[number];

export interface Decision {
  verdict: Verdict;
  explanation: string;
  /**
   * The reason in one line, for tables (the "why" column of claims.html and
   * claims.md, the step summary, JUnit): why the verdict is what it is. For
   * nuanced it names the nuance, not the part that held; for refuted, the
   * observation that contradicts the claim; for inconclusive, what was
   * missing. Built from the same values as the explanation, one sentence
   * ending with '.', about 200 characters at most (checked for every rule
   * case by summaryFault, helpers/claims/index.ts).
   */
  summary: string;
}

/**
 * Thrown by a rule that, over complete observations, still saw too little to
 * judge (an empty set, a row it needs absent): the verdict is inconclusive
 * with this message. Never confirm over nothing. `missing` says, as a clause
 * ("no thread group was observed completely"), what was missing: evaluate()
 * makes the claim's one-line summary of it.
 */
export class Inconclusive extends Error {
  override name = 'Inconclusive';
  constructor(
    message: string,
    readonly missing: string,
  ) {
    super(message);
  }
}

/** `xs` if it has at least one element; otherwise the rule saw nothing: Inconclusive. */
export function nonEmpty<T>(xs: readonly T[], what: string): readonly [T, ...T[]] {
  if (!xs.length) throw new Inconclusive(`No ${what} was observed completely in this run.`, `no ${what} was observed completely`);
  return xs as readonly [T, ...T[]];
}

/** `x` if defined; otherwise Inconclusive naming what was missing. */
export function present<T>(x: T | undefined, what: string): T {
  if (x === undefined) throw new Inconclusive(`${what} was not observed completely in this run.`, `${what} was not observed completely`);
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
 * The facts of the report's `environment` block (helpers/harness/environment.ts)
 * that a rule may read, declared once: where this run looked from decides
 * what some claims' "every PID" or "listed in /proc" can cover. A rule reads
 * them through `o.env(fact)`, and a claim declares those it reads (`env`).
 */
export const ENVIRONMENT_FACTS = ['initialPidNamespace', 'procMountOptions', 'euid', 'probeWrapper', 'libc'] as const;
export type EnvironmentFact = (typeof ENVIRONMENT_FACTS)[number];

/**
 * The probes' libc as prose ("musl 1.2.3", "glibc 2.36"): what a rule says
 * instead of naming a libc itself, read from the `libc` fact; "this libc"
 * when the run could not tell.
 */
export function libcOfRun(o: { env(fact: 'libc'): string | null }): string {
  const l = o.env('libc');
  return l && !l.startsWith('unknown') ? l : 'this libc';
}

/** Those facts for the rules; null where this run could not tell (the rule says so, never guesses). */
export type RuleEnvironment = { [F in EnvironmentFact]: NonNullable<Environment[F]> | null };

/** What the facts are taken from: a recorded environment (a report's, this process's) or a RuleEnvironment. */
type EnvironmentSource = Partial<{ [F in EnvironmentFact]: Environment[F] | null }>;

/**
 * The rules' facts out of a recorded environment; a fact absent from it (no
 * environment given, an older report) is unknown.
 */
export function ruleEnvironment(env: EnvironmentSource = {}): RuleEnvironment {
  return Object.fromEntries(ENVIRONMENT_FACTS.map((f) => [f, env[f] ?? null])) as RuleEnvironment;
}

/**
 * The observations of one run, by kind, and the environment it ran in. Rules
 * read only the usable observations (complete, from a test that was not
 * skipped); each read, of a kind or of an environment fact, is remembered,
 * so that a claim lists exactly what its rule looked at.
 */
export class ObservationIndex {
  readonly reads = new Set<ObservationKind>();
  readonly envReads = new Set<EnvironmentFact>();
  readonly environment: RuleEnvironment;
  constructor(
    readonly list: readonly RecordedObservation[],
    /** The environment the run recorded (the report's `environment`); without one, every fact is unknown. */
    environment?: EnvironmentSource,
    /** The facts the rule reading this view declares; reading another is a defect of the rule. */
    private readonly declared: readonly EnvironmentFact[] = ENVIRONMENT_FACTS,
  ) {
    this.environment = ruleEnvironment(environment);
  }
  /** A fresh view of the same run, with its own record of reads, for a rule that declares `env`. */
  view(env: readonly EnvironmentFact[] = []): ObservationIndex {
    return new ObservationIndex(this.list, this.environment, env);
  }
  all<K extends ObservationKind>(kind: K): Usable<K>[] {
    this.reads.add(kind);
    return this.list.filter((o) => o.kind === kind && whySetAside(o) === undefined) as Usable<K>[];
  }
  /** One fact of the environment this run looked from, or null when it could not be told. */
  env<F extends EnvironmentFact>(fact: F): RuleEnvironment[F] {
    if (!this.declared.includes(fact)) {
      throw new Error(`the rule reads the environment fact ${fact} without declaring it: add it to the claim's env`);
    }
    this.envReads.add(fact);
    return this.environment[fact];
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
  /** Which sentence of the Q&A, abridged: CLAIMS.md's "seed excerpt" column, word for word (cases/tooling/registry.test.ts compares them). */
  excerpt: string;
  /** The claim in clonelab's own words: what the verdict is about (CLAIMS.md's "clonelab's statement" column). */
  statement: string;
  /** Kinds without which the rule cannot judge: with none usable, the verdict is inconclusive. */
  needs: ObservationKind[];
  /** Kinds the rule also reads when present (limits, nuances), without needing them. */
  uses?: ObservationKind[];
  /** Facts of the environment the rule reads (`o.env(fact)`): a rule may read no other. */
  env?: EnvironmentFact[];
  decide?: (o: ObservationIndex) => Decision;
  /** Every verdict `decide` can return; the rule tests reach each one (cases/rules/). */
  verdicts?: Verdict[];
  /** Why no observation on a Linux host can bear on this claim. */
  notTestable?: string;
  /**
   * Environments of `npm run check:environments` in which this claim's verdict
   * is expected to differ from the baseline's (kselftest's XFAIL idea, kept
   * beside the claim it concerns): with `verdict`, the verdict it must have
   * there; without, it may differ in any way. `because` is the sentence the
   * check prints.
   */
  expectedIn?: Partial<Record<CheckedEnvironment, ExpectedDifference>>;
}

/** A verdict an environment is expected to move, and why (Claim.expectedIn). */
export interface ExpectedDifference {
  verdict?: Verdict;
  because: string;
}

/**
 * Kinds a family records that no claim's rule reads, each with why it is
 * recorded all the same (evidence a reader of the report wants beside the
 * verdicts, a documented behaviour its test asserts). The registry check
 * (helpers/claims/registry-check.ts) fails on a recorded kind that is
 * neither read by a rule nor listed here.
 */
export type EvidenceOnly = Partial<Record<ObservationKind, string>>;
