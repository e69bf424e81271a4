/**
 * Table-driven tests of the claim rules (cases/rules/*.rules.test.ts). Each
 * rule is fed the complete observations of a real healthy run
 * (cases/rules/fixtures/<kind>.json, written by scripts/rule-fixture.ts from
 * a real reports/claims.json) in the environment that run recorded
 * (cases/rules/fixtures/environment/healthy.json), either mutated the way
 * another kernel, libc or environment would behave, and the verdict and the
 * key facts of its explanation are checked. For every claim it also checks,
 * without being asked: each needed kind set aside makes the claim
 * inconclusive with the reason; each environment fact it declares, unknown,
 * leaves it judging without an unobserved value; it reads exactly the facts
 * it declares; no explanation holds an unobserved value; every one-line
 * summary is whole and says why (summaryFault: one line, not cut, no
 * unobserved value, the nuance for nuanced, a fact of the explanation for
 * refuted and inconclusive); and the cases reach every verdict the claim
 * declares, and no other.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { PROJECT_ROOT } from '../harness/paths.js';
import {
  CLAIMS,
  evaluate,
  type Evaluation,
  findPlaceholder,
  ObservationIndex,
  ruleEnvironment,
  type RuleEnvironment,
  summaryFault,
  type Verdict,
} from './index.js';
import type { CompleteObservation, ObservationKind, ObservationResults, RecordedObservation } from '../observations.js';

export const FIXTURE_DIR = join(PROJECT_ROOT, 'cases', 'rules', 'fixtures');
/** The environment facts of the same healthy run (a directory of its own, apart from the kinds). */
export const ENVIRONMENT_FIXTURE = join(FIXTURE_DIR, 'environment', 'healthy.json');

/** The probeWrapper fact of a run under qemu-user (helpers/harness/environment.ts), as the rule tests' mutations set it. */
export const QEMU_USER_WRAPPER = 'qemu-x86_64 (qemu-x86_64 version 7.2.22)';

/** The fixture files' text, read once per process (hundreds of rule cases each start from it). */
let fixtureTexts: string[] | undefined;

/** The healthy run's complete observations, every kind that has a fixture file: a fresh copy each call, to mutate. */
export function healthyObservations(): RecordedObservation[] {
  fixtureTexts ??= readdirSync(FIXTURE_DIR)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => readFileSync(join(FIXTURE_DIR, f), 'utf8'));
  return fixtureTexts.flatMap((text) => JSON.parse(text) as RecordedObservation[]);
}

/** The environment facts the healthy run recorded; a fact missing from the file is unknown. */
export function healthyEnvironment(): RuleEnvironment {
  return ruleEnvironment(JSON.parse(readFileSync(ENVIRONMENT_FIXTURE, 'utf8')) as Partial<RuleEnvironment>);
}

/** A copy of the healthy observations and environment to mutate, with ways to do so. */
export class Draft {
  list: RecordedObservation[];
  env: RuleEnvironment;
  constructor(list: RecordedObservation[], env: RuleEnvironment = healthyEnvironment()) {
    this.list = structuredClone(list);
    this.env = { ...env };
  }
  /**
   * The run put in another environment: e.g. `{ initialPidNamespace: false }`
   * (a container's child PID namespace), `{ euid: 1000 }` (not root), a
   * `procMountOptions` with hidepid=invisible; null for a fact the run could not read.
   */
  environment(changes: Partial<RuleEnvironment>): this {
    Object.assign(this.env, changes);
    return this;
  }
  private complete<K extends ObservationKind>(kind: K): (CompleteObservation<K> & RecordedObservation)[] {
    return this.list.filter((o) => o.kind === kind && o.complete) as (CompleteObservation<K> & RecordedObservation)[];
  }
  /** The results of every complete observation of a kind, to edit in place. */
  results<K extends ObservationKind>(kind: K): ObservationResults[K][] {
    const rs = this.complete(kind).map((o) => o.result);
    if (!rs.length) throw new Error(`the fixture has no complete ${kind} observation: run scripts/rule-fixture.ts`);
    return rs;
  }
  /** The result of the first complete observation of a kind (of a variant, if given). */
  result<K extends ObservationKind>(kind: K, variant?: string): ObservationResults[K] {
    const o = this.complete(kind).find((x) => variant === undefined || x.variant === variant);
    if (!o) throw new Error(`the fixture has no complete ${kind}${variant ? ` variant ${variant}` : ''}`);
    return o.result;
  }
  /** Every observation of a kind made incomplete, as a failed probe or refused syscall would leave it. */
  fail(kind: ObservationKind, unobserved: string, variant?: string): this {
    this.list = this.list.map((o) =>
      o.kind === kind && (variant === undefined || o.variant === variant)
        ? { kind: o.kind, variant: o.variant, complete: false, unobserved, evidence: {}, test: o.test, testState: 'failed' }
        : o,
    );
    return this;
  }
  /** Every observation of a kind gone, as when its test was skipped before recording. */
  drop(kind: ObservationKind): this {
    this.list = this.list.filter((o) => o.kind !== kind);
    return this;
  }
  /** Mark the tests of a kind failed, as a complete observation contradicting documented Linux would. */
  testFailed(kind: ObservationKind): this {
    for (const o of this.list) if (o.kind === kind) o.testState = 'failed';
    return this;
  }
  add<K extends ObservationKind>(kind: K, variant: string, result: ObservationResults[K]): this {
    this.list.push({ kind, variant, complete: true, result, evidence: {}, test: `rule test: ${kind}`, testState: 'passed' });
    return this;
  }
}

export interface RuleCase {
  /** What world this input stands for, e.g. "a libc whose getpid() returns the TID". */
  name: string;
  mutate: (d: Draft) => void;
  verdict: Verdict;
  /** Facts the explanation must state. */
  says?: (string | RegExp)[];
  /** Things it must not state (a clause that was not observed in this input). */
  saysNot?: (string | RegExp)[];
  /** Facts the one-line summary must state (the nuance, the contradicting observation, what was missing). */
  summarySays?: (string | RegExp)[];
}

/** Evaluate one claim over a list of observations, in an environment (the healthy run's by default). */
export function judge(claimId: string, list: RecordedObservation[], env: RuleEnvironment = healthyEnvironment()) {
  const claim = CLAIMS.find((c) => c.id === claimId);
  if (!claim) throw new Error(`no claim ${claimId}`);
  return evaluate(claim, new ObservationIndex(list, env));
}

const matches = (text: string, p: string | RegExp) => (typeof p === 'string' ? text.includes(p) : p.test(text));

/** The one-line summary is whole and says why (summaryFault), shown with the explanation it sums up. */
function expectSummary(e: Evaluation): void {
  expect(summaryFault(e), `summary: ${e.summary}\nexplanation: ${e.explanation}`).toBeUndefined();
}

/**
 * The rule tests of one claim: the healthy run (`healthy`: its verdict
 * there), then each case. Also tests each needed kind set aside, and that
 * the cases reach exactly the verdicts the claim declares.
 */
export function ruleCases(claimId: string, healthy: Omit<RuleCase, 'name' | 'mutate'>, cases: RuleCase[]): void {
  const claim = CLAIMS.find((c) => c.id === claimId);
  describe(`rule ${claimId}`, () => {
    const reached = new Set<Verdict>();
    const all: RuleCase[] = [{ name: 'the healthy run this fixture was taken from', mutate: () => {}, ...healthy }, ...cases];
    for (const c of all) {
      test(c.name, () => {
        const d = new Draft(healthyObservations());
        c.mutate(d);
        const e = judge(claimId, d.list, d.env);
        reached.add(e.verdict);
        expect(e.broken, `the rule threw:\n${e.broken}`).toBeUndefined();
        expect(e.verdict, e.explanation).toBe(c.verdict);
        expect(findPlaceholder(e.explanation), e.explanation).toBeUndefined();
        for (const p of c.says ?? []) expect(matches(e.explanation, p), `should say ${p}:\n${e.explanation}`).toBe(true);
        for (const p of c.saysNot ?? []) expect(matches(e.explanation, p), `should not say ${p}:\n${e.explanation}`).toBe(false);
        expectSummary(e);
        for (const p of c.summarySays ?? []) expect(matches(e.summary, p), `the summary should say ${p}:\n${e.summary}`).toBe(true);
      });
    }
    for (const kind of claim?.needs ?? []) {
      test(`with every ${kind} observation incomplete, it is inconclusive and says why`, () => {
        const d = new Draft(healthyObservations()).fail(kind, 'tgkill: EPERM (a fault of the rule test)');
        const e = judge(claimId, d.list);
        expect(e.verdict).toBe('inconclusive');
        expect(e.explanation).toContain('tgkill: EPERM (a fault of the rule test)');
        expect(e.setAside.map((x) => x.observation.kind)).toContain(kind);
        expectSummary(e);
        expect(e.summary).toContain(kind);
      });
    }
    for (const fact of claim?.env ?? []) {
      test(`with the environment fact ${fact} unknown, it still judges, and states no unobserved value`, () => {
        const d = new Draft(healthyObservations()).environment({ [fact]: null });
        const e = judge(claimId, d.list, d.env);
        expect(e.broken, `the rule threw:\n${e.broken}`).toBeUndefined();
        expect(claim?.verdicts).toContain(e.verdict);
        expect(findPlaceholder(e.explanation), e.explanation).toBeUndefined();
        expectSummary(e);
      });
    }
    test('reads exactly the environment facts it declares, on the healthy run', () => {
      const e = judge(claimId, healthyObservations());
      expect(e.broken, `the rule threw:\n${e.broken}`).toBeUndefined();
      expect([...e.readEnv].sort()).toEqual([...(claim?.env ?? [])].sort());
    });
    test('the cases reach exactly the verdicts the claim declares', () => {
      expect([...reached].sort()).toEqual([...(claim?.verdicts ?? [])].sort());
    });
  });
}
