/**
 * The figures of claims.html (helpers/report/figures/): drawn from a report
 * made of a real run's observations (the rule fixtures, cases/rules/fixtures,
 * through report-fixtures.ts), each element counted against the
 * observations; replaced by the reason when the observations are removed or
 * set aside, never drawn from defaults; placed where a reader of each claim
 * finds them. That every figure holds the same elements in a real Chromium
 * is checked by browser.test.ts.
 */
import { describe, expect, test } from 'vitest';
import { CLAIM_CASE_FILES } from '../../helpers/claims/families.js';
import { healthyObservations } from '../../helpers/claims/rule-cases.js';
import type { CompleteObservation, ObservationKind, RecordedObservation } from '../../helpers/observations.js';
import type { ClaimsReport } from '../../helpers/report/claims-report.js';
import { FIGURES, type Figure } from '../../helpers/report/figures/index.js';
import { renderHtml } from '../../helpers/report/render.js';
import { nonZero, reportOf } from './report-fixtures.js';

/** The kinds each figure of this helper draws from (the ones removed to make it missing). */
const NEEDS: Record<string, ObservationKind> = { 'thread-group': 'procListing', 'signal-landing': 'signalLanding' };

/** A complete observation of `kind`, typed as such. */
const isComplete = <K extends ObservationKind>(o: RecordedObservation, kind: K): o is CompleteObservation<K> & RecordedObservation<K> =>
  o.kind === kind && o.complete;

const figure = (id: string): Figure => FIGURES.find((f) => f.id === id)!;
const drawn = (f: Figure, r: ClaimsReport): string => {
  const out = f.render(r);
  if (!('svg' in out)) throw new Error(`figure ${f.id} was not drawn: ${out.missing}`);
  return out.svg;
};
/** How many elements of each data-role an SVG holds, read from its text (browser.test.ts reads the DOM). */
const rolesIn = (svg: string): Record<string, number> => {
  const counts: Record<string, number> = {};
  for (const m of svg.matchAll(/ data-role="([^"]+)"/g)) counts[m[1]!] = (counts[m[1]!] ?? 0) + 1;
  return counts;
};

const healthy = healthyObservations();
const report = reportOf(healthy);

describe('figures drawn from a real run', () => {
  test('the figures have distinct ids and bear on claims of the registry', () => {
    expect(new Set(FIGURES.map((f) => f.id)).size).toBe(FIGURES.length);
    const ids = report.claims.map((c) => c.id);
    for (const f of FIGURES) for (const c of f.claims) expect(ids, `figure ${f.id} names claim ${c}`).toContain(c);
  });

  test.for(FIGURES.map((f) => f.id))('%s: drawn, with exactly the elements its observations call for', (id) => {
    const f = figure(id);
    const svg = drawn(f, report);
    expect(svg).toMatch(/^<svg [^>]*viewBox="0 0 420 \d+"/);
    expect(svg).not.toMatch(/undefined|NaN|null|\[object/);
    expect(rolesIn(svg)).toEqual(nonZero(f.elements(report)));
  });

  test('the thread group is the 4-thread listing: its TGID, every TID, which readdir and task/ listed', () => {
    const l = healthy.filter((o) => isComplete(o, 'procListing')).find((o) => o.result.threads === 4)?.result;
    if (!l) throw new Error('the fixture has no 4-thread procListing: run scripts/rule-fixture.ts');
    const svg = drawn(figure('thread-group'), report);
    for (const tid of l.tids) expect(svg).toContain(`data-tid="${tid}"`);
    expect(svg).toContain(`Thread group ${l.tgid}`);
    expect(figure('thread-group').elements(report)).toMatchObject({ task: 5, 'listed-by-readdir': 1, 'listed-in-task-dir': 5, 'not-listed-by-readdir': 4 });
  });

  test('elements follow the observations: a thread listed by readdir, a kill that landed in the thread, a cd refused', () => {
    const changed = structuredClone(healthy);
    for (const o of changed) {
      if (isComplete(o, 'procListing') && o.result.threads === 4) o.result.nonLeaderListed = [o.result.tids[1]!];
      if (isComplete(o, 'signalLanding')) for (const s of o.result.sends) if (s.method === 'kill' && s.to === o.result.target) s.landed = 'target';
      if (isComplete(o, 'shellCd') && o.variant === 'bash')
        Object.assign(o.result, { exitCode: 1, pwd: undefined, cdStderr: 'cd: /proc/1: No such file or directory' });
    }
    const r = reportOf(changed);
    const tg = figure('thread-group');
    const sig = figure('signal-landing');
    expect(tg.elements(r)).toMatchObject({ 'listed-by-readdir': 2, 'not-listed-by-readdir': 3, 'cd-refused': 1 });
    expect(sig.elements(r)!['to-own']).toBe(sig.elements(report)!['to-own']! + 1);
    expect(sig.elements(r)!['to-shared']).toBe(sig.elements(report)!['to-shared']! - 1);
    for (const f of [tg, sig]) expect(rolesIn(drawn(f, r))).toEqual(nonZero(f.elements(r)));
    expect(drawn(tg, r)).toContain('No such file or directory');
  });
});

describe('a figure whose observations are missing gives the reason, and no drawing', () => {
  test.for(Object.entries(NEEDS))('%s without any %s observation', ([id, kind]) => {
    const r = reportOf(healthy.filter((o) => o.kind !== kind));
    const f = figure(id);
    expect(f.render(r)).toEqual({ missing: `no ${kind} observation was recorded in this run` });
    expect(f.elements(r)).toBeUndefined();
    const block = renderHtml(r).match(new RegExp(`<figure id="figure-${id}"[^]*?</figure>`))![0];
    expect(block).toContain(`Not drawn: no ${kind} observation was recorded in this run.`);
    expect(block).not.toContain('<svg');
  });

  test.for(Object.entries(NEEDS))('%s with every %s observation set aside: the reasons they were set aside', ([id, kind]) => {
    const why = `probe 'ids' failed: pthread_create: EAGAIN`;
    const r = reportOf(
      healthy.map((o) =>
        o.kind === kind ? { kind: o.kind, variant: o.variant, complete: false, unobserved: why, evidence: {}, test: o.test, testState: 'failed' } : o,
      ),
    );
    const reason = (x: ClaimsReport) => {
      const out = figure(id).render(x);
      if ('svg' in out) throw new Error(`figure ${id} was drawn from observations that were set aside`);
      return out.missing;
    };
    expect(reason(r)).toContain(`every ${kind} observation was set aside: ${kind}/`);
    expect(reason(r)).toContain(why);
    // A complete observation of a test skipped after recording it is set aside too, as the rules do.
    expect(reason(reportOf(healthy.map((o) => (o.kind === kind ? { ...o, testState: 'skipped' } : o))))).toContain('its test was skipped after recording it');
  });

  test('in a partial run, the reason names the case files that did not run', () => {
    const r = reportOf(
      healthy.filter((o) => o.kind !== 'signalLanding'),
      CLAIM_CASE_FILES.filter((f) => f.includes('signals')),
    );
    expect(figure('signal-landing').render(r)).toEqual({
      missing: 'no signalLanding observation was recorded in this run (this run did not run cases/claims/signals.test.ts)',
    });
  });

  test('a part of a figure without its observations is drawn as its reason, the rest still drawn', () => {
    const r = reportOf(healthy.filter((o) => o.kind !== 'shellCd' && o.kind !== 'shellKill'));
    for (const f of [figure('thread-group'), figure('signal-landing')]) {
      const svg = drawn(f, r);
      expect(f.elements(r)!['missing-part']).toBe(1);
      expect(rolesIn(svg)).toEqual(nonZero(f.elements(r)));
    }
    expect(drawn(figure('thread-group'), r)).toContain('no shellCd observation was recorded in this run');
    expect(drawn(figure('signal-landing'), r)).toContain('no shellKill observation was recorded in this run');
  });
});

describe('placement in claims.html', () => {
  const html = renderHtml(report);
  test('each figure once, in the figures section, its caption linking to its claims; each claim links to its figures', () => {
    for (const f of FIGURES) {
      expect(html.match(new RegExp(`data-figure="${f.id}"`, 'g'))).toHaveLength(1);
      const block = html.match(new RegExp(`<figure id="figure-${f.id}"[^]*?</figure>`))![0];
      for (const c of f.claims) {
        expect(block).toContain(`href="#claim-${c}"`);
        const row = html.match(new RegExp(`<tr id="claim-${c}"[^]*?</tr>`))![0];
        expect(row).toContain(`<a href="#figure-${f.id}" data-figure-link="${f.id}">`);
      }
    }
    // A claim no figure bears on carries no figure link.
    const bare = report.claims.find((c) => !FIGURES.some((f) => f.claims.includes(c.id)))!;
    expect(html.match(new RegExp(`<tr id="claim-${bare.id}"[^]*?</tr>`))![0]).not.toContain('data-figure-link');
  });
});
