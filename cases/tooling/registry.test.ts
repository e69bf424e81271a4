/**
 * The claim registry checks itself: every testable claim declares the
 * verdicts its rule can return and has rule tests that reach them
 * (helpers/claims/rule-cases.ts checks the reaching), and no case file writes a
 * placeholder where a value could not be read.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { PROJECT_ROOT } from '../../helpers/harness/paths.js';
import { CLAIMS, evaluate, findPlaceholder, nonEmpty, ObservationIndex, readsOf, VERDICTS, type Claim } from '../../helpers/claims/index.js';
import { environment } from '../../helpers/harness/environment.js';
import { buildClaimsReport, summaryLine } from '../../helpers/report/claims-report.js';
import { renderJunit } from '../../helpers/report/render.js';
import { healthyObservations, judge } from '../../helpers/claims/rule-cases.js';

const CASES = join(PROJECT_ROOT, 'cases');
const RULE_TESTS = join(CASES, 'rules');
const ruleTestText = readdirSync(RULE_TESTS)
  .filter((f) => f.endsWith('.rules.test.ts'))
  .map((f) => readFileSync(join(RULE_TESTS, f), 'utf8'))
  .join('\n');

describe.each(CLAIMS.filter((c) => !c.notTestable))('claim $id', (claim) => {
  test('declares the verdicts its rule can return', () => {
    expect(claim.decide).toBeTypeOf('function');
    expect(claim.verdicts?.length).toBeGreaterThan(0);
    for (const v of claim.verdicts ?? []) expect(VERDICTS.filter((x) => x !== 'not-testable')).toContain(v);
  });
  test('reads exactly the kinds it declares (needs and uses), on the healthy run', () => {
    const e = judge(claim.id, healthyObservations());
    expect(e.read.filter((k) => !readsOf(claim).includes(k)), 'read without declaring').toEqual([]);
    expect(readsOf(claim).filter((k) => !e.read.includes(k)), 'declared but never read').toEqual([]);
  });
  test('has rule tests', () => {
    expect(ruleTestText).toMatch(new RegExp(`ruleCases\\(\\s*'${claim.id}'`));
  });
});

test('B5 is not-testable by what it talks about, whatever is observed', () => {
  const b5 = CLAIMS.find((c) => c.id === 'B5')!;
  expect(b5.notTestable).toMatch(/other operating systems/);
  expect(b5.decide).toBeUndefined();
});

test('no case file writes a placeholder for a value it could not read', () => {
  // A value that could not be read, defaulted to -1, '?' or 'none', becomes a fact. Use must() instead.
  // (`?? 0` and `?? ''` have honest uses, counters and parsing, so they are left to review.)
  const placeholder = /\?\?\s*(-1|'\?'|'none'|"none")(?![\w.])/;
  const offenders = readdirSync(CASES)
    .filter((f) => f.endsWith('.test.ts'))
    .flatMap((f) => readFileSync(join(CASES, f), 'utf8').split('\n').map((line, i) => ({ where: `cases/${f}:${i + 1}`, line })))
    .filter((l) => !/^\s*(\/\/|\*)/.test(l.line) && placeholder.test(l.line));
  expect(offenders.map((o) => `${o.where}: ${o.line.trim()}`)).toEqual([]);
});

test('findPlaceholder catches what unobserved values look like, and passes observed prose', () => {
  for (const bad of ['handled by undefined', 'exit status null', 'NaN ms', 'state ?/? (zombie)', 'called none(), which', 'answered  (no signal)', 'namespaces ()', 'rules held: .', 'pid -1 seen']) {
    expect(findPlaceholder(bad), bad).toBeDefined();
  }
  for (const ok of ['In 7 thread groups (pthread x1, clone x64), every task had Tgid 1234.', 'Pid: 1234, Tgid: 1234; fdinfo Pid:-1 after the reap.', 'getpid() returned the Tgid; exit() ended the group.']) {
    expect(findPlaceholder(ok), ok).toBeUndefined();
  }
});

describe('a rule that throws', () => {
  const index = new ObservationIndex(healthyObservations());
  const claim = (decide: Claim['decide']): Claim => ({ id: 'X1', source: 'answer 1', statement: 'a claim for this test', needs: ['threadGroupIds'], decide, verdicts: ['confirmed'] });

  test('is a defect: inconclusive in the report, broken, and an <error> in junit.xml', () => {
    const e = evaluate(claim(() => {
      throw new TypeError("Cannot read properties of undefined (reading 'tid')");
    }), index);
    expect(e.verdict).toBe('inconclusive');
    expect(e.explanation).toMatch(/a defect of clonelab, not a finding about the kernel/);
    expect(e.broken).toMatch(/TypeError: Cannot read properties of undefined/);
    const report = buildClaimsReport({ observations: [], tests: [], environment: { ...environment(), clone3: 'not probed by this test' }, reason: 'passed', unhandledErrors: [] });
    report.claims[0] = { ...report.claims[0]!, broken: e.broken! };
    expect(renderJunit(report)).toMatch(new RegExp(`<testcase classname="claim rules" name="${report.claims[0]!.id}: [a-z-]+"><error message=`));
    expect(summaryLine(report)).toMatch(/BROKEN rules: /);
  });

  test('with Inconclusive is a rule that saw too little, not a defect', () => {
    const e = evaluate(claim(() => ({ verdict: 'confirmed', explanation: `${nonEmpty([], 'thread group').length} groups` })), index);
    expect(e).toMatchObject({ verdict: 'inconclusive', explanation: 'No thread group was observed completely in this run.' });
    expect(e.broken).toBeUndefined();
  });
});
