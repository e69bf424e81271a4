/**
 * The check every rule case applies to a claim's one-line summary
 * (summaryFault, helpers/claims/index.ts), tested on its own: the faults of
 * the old first-sentence "why" (B4 cut at "e.g.", A6's confirming sentence
 * shown for a nuanced verdict) are caught, and whole summaries pass. Also
 * oneLine (helpers/claims/prose.ts), which builds summaries that never cut a
 * clause, and the summaries evaluate() writes itself.
 */
import { describe, expect, test } from 'vitest';
import { CLAIMS, evaluate, firstSentence, ObservationIndex, SUMMARY_MAX, summaryFault } from '../../helpers/claims/index.js';
import { oneLine } from '../../helpers/claims/prose.js';
import { Draft, healthyEnvironment, healthyObservations, judge } from '../../helpers/claims/rule-cases.js';

const B4_EXPLANATION =
  'The kernel refused combinations of the eight sharing flags (128 of 256 through clone (EINVAL), 128 of 256 through clone3 (EINVAL); ' +
  'e.g. clone SIGHAND, clone FS|SIGHAND), and refused these flag sets with EINVAL: CLONE_THREAD needs CLONE_SIGHAND.';
const A6_EXPLANATION =
  'In 6 thread groups (pthread x1, pthread x4) the task that ran main had PID = TGID. But a thread group can run with no live main thread ' +
  'whose PID equals its TGID: after pthread_exit in main (TGID 10543) 3 other threads ran on with Tgid 10543.';

describe('summaryFault', () => {
  test.each([
    ['cut at "e.g." (the old B4 why)', 'refuted', B4_EXPLANATION, 'The kernel refused combinations (all with EINVAL, e.g.', /as if cut/],
    ['ends in an abbreviation', 'refuted', B4_EXPLANATION, 'The kernel refused 256 combinations, i.e.', /abbreviation/],
    ['an open parenthesis', 'refuted', B4_EXPLANATION, 'The kernel refused 256 combinations (EINVAL.', /unbalanced parentheses/],
    ['an open quote', 'refuted', B4_EXPLANATION, 'The kernel refused "256 combinations.', /double quote/],
    ['two lines', 'refuted', B4_EXPLANATION, 'The kernel refused\n256 combinations.', /more than one line/],
    ['too long', 'refuted', B4_EXPLANATION, `The kernel refused ${'256 combinations, '.repeat(15)}all.`, /characters long/],
    ['an unobserved value', 'refuted', B4_EXPLANATION, 'The kernel refused undefined combinations with EINVAL.', /unobserved value 'undefined'/],
    ['no summary', 'confirmed', 'All held.', '', /no summary/],
    ['nuanced, showing the confirming sentence (the old A6 why)', 'nuanced', A6_EXPLANATION, firstSentence(A6_EXPLANATION), /repeats the confirming/],
    ['refuted, naming nothing observed', 'refuted', B4_EXPLANATION, 'It does not hold.', /names no fact/],
    ['inconclusive, naming nothing missing', 'inconclusive', 'No signal landing was observed completely in this run.', 'Not judged.', /names no fact/],
  ] as const)('catches a summary %s', (_, verdict, explanation, summary, fault) => {
    expect(summaryFault({ verdict, explanation, summary })).toMatch(fault);
  });

  test.each([
    ['refuted, naming the refusal', 'refuted', B4_EXPLANATION, 'The kernel refused 256 of 512 combinations (EINVAL; first clone SIGHAND).'],
    ['nuanced, naming the nuance', 'nuanced', A6_EXPLANATION, 'After pthread_exit in main, 3 threads of TGID 10543 ran on while it was a zombie.'],
    ['with "e.g." inside', 'refuted', B4_EXPLANATION, 'The kernel refused 256 combinations (e.g. clone SIGHAND) with EINVAL.'],
    [
      'inconclusive, naming what was missing',
      'inconclusive',
      'No signal landing was observed completely in this run.',
      'Not judged: no signal landing was observed completely.',
    ],
  ] as const)('passes a whole summary: %s', (_, verdict, explanation, summary) => {
    expect(summaryFault({ verdict, explanation, summary })).toBeUndefined();
  });

  test('firstSentence does not stop at "e.g." nor inside parentheses', () => {
    expect(firstSentence(B4_EXPLANATION)).toBe(B4_EXPLANATION);
    expect(firstSentence(A6_EXPLANATION)).toBe('In 6 thread groups (pthread x1, pthread x4) the task that ran main had PID = TGID.');
  });
});

describe('oneLine', () => {
  test('gives every clause that fits, whole, and counts the rest', () => {
    expect(oneLine('Lead: ', ['a', '', 'b'])).toBe('Lead: a; b.');
    const long = Array.from({ length: 12 }, (_, i) => `clause number ${i} with some words in it`);
    const s = oneLine('Lead: ', long);
    expect(s.length).toBeLessThanOrEqual(SUMMARY_MAX);
    expect(s).toMatch(/^Lead: clause number 0 with some words in it; .*; and \d+ more, in the explanation\.$/);
    // Each shown clause is whole.
    for (const part of s
      .replace(/^Lead: /, '')
      .replace(/; and \d+ more, in the explanation\.$/, '')
      .split('; '))
      expect(long).toContain(part);
  });
  test('with no clause, the lead alone ends the sentence', () => {
    expect(oneLine('Nothing more: ', [])).toBe('Nothing more.');
  });
});

describe('the summaries evaluate() writes itself', () => {
  test('a not-testable claim: its reason, a whole line', () => {
    for (const c of CLAIMS.filter((x) => x.notTestable)) {
      const e = evaluate(c, new ObservationIndex([], healthyEnvironment()));
      expect(e.summary).toBe(c.notTestable);
      expect(summaryFault(e), e.summary).toBeUndefined();
    }
  });
  test('a needed kind never recorded: named in the summary', () => {
    const d = new Draft(healthyObservations()).drop('signalLanding');
    const e = judge('C3', d.list, d.env);
    expect(e.verdict).toBe('inconclusive');
    expect(e.summary).toBe('Not judged: this run did not completely observe signalLanding, which the rule needs.');
    expect(summaryFault(e)).toBeUndefined();
  });
});
