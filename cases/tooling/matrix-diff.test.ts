/**
 * The matrix says what changed at the level of observations
 * (helpers/report/observation-diff.ts, shown by helpers/report/matrix.ts):
 * - two healthy runs of one kernel show no fact that differs. The reports
 *   are three real host runs (`CLONELAB_REPORT_DIR=DIR npx vitest run
 *   cases/claims`), trimmed to what the comparison reads (claims with their
 *   observation ids, observations without evidence) and gzipped under
 *   cases/tooling/fixtures/host-run-*.json.gz. A fact that is new on every
 *   run and not recognised as such (a PID in a field of a new name) fails
 *   here, not in a user's matrix;
 * - a kernel that answers differently shows it, with the same verdict or not:
 *   pidfd_open(2) with PIDFD_THREAD is EINVAL before Linux 6.9, and 5.10 prints
 *   no "Kthread:" line in /proc/PID/status (fs/proc/array.c, added in 6.x);
 * - the facts reach matrix.json (checked against schemas/matrix.schema.json),
 *   matrix.md and matrix.html, next to the verdict row.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { dir as tmpDir } from 'tmp-promise';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { healthyObservations } from '../../helpers/claims/rule-cases.js';
import { PROJECT_ROOT } from '../../helpers/harness/paths.js';
import type { RecordedObservation } from '../../helpers/observations.js';
import type { ClaimsReport } from '../../helpers/report/claims-report.js';
import { buildMatrix, FACTS_SHOWN, type Matrix, renderMatrixHtml, renderMatrixMarkdown, writeMatrix } from '../../helpers/report/matrix.js';
import { factDifferences, factRows, observationFacts } from '../../helpers/report/observation-diff.js';
import { reportOf } from './report-fixtures.js';

let work: { path: string; cleanup: () => Promise<void> };
beforeAll(async () => {
  work = await tmpDir({ unsafeCleanup: true, prefix: 'clonelab-matrix-diff-' });
});
afterAll(async () => {
  await work?.cleanup();
});

/** A trimmed real host run: what factDifferences reads of a report. */
const hostRun = (name: string) =>
  JSON.parse(gunzipSync(readFileSync(join(PROJECT_ROOT, 'cases', 'tooling', 'fixtures', `host-run-${name}.json.gz`))).toString('utf8')) as ClaimsReport;

/** The complete results of a kind, to change in place. */
const resultsOf = (list: RecordedObservation[], kind: string) =>
  list.filter((o) => o.kind === kind && o.complete).map((o) => (o as { result: unknown }).result as Record<string, unknown>);

let baseline: ClaimsReport | undefined;
/** The healthy run's report, built once (building one evaluates every rule). */
const healthyReport = () => (baseline ??= reportOf(healthyObservations()));

/** A matrix of the healthy run (column "new") and the same run changed by `change` (column "old"). */
function versus(change: (list: RecordedObservation[]) => void): Matrix {
  const changed = structuredClone(healthyObservations());
  change(changed);
  return buildMatrix([
    { source: 'new', label: 'new', report: healthyReport() },
    { source: 'old', label: 'old', report: reportOf(changed) },
  ]);
}

/** pidfd_open(PIDFD_THREAD) as before Linux 6.9: EINVAL, nothing sent. */
const noPidfdThread = (list: RecordedObservation[]) => {
  for (const r of resultsOf(list, 'signalLanding'))
    for (const s of r.sends as { method: string; result: string; syscall: string; landed: string }[])
      if (s.method === 'pidfd-thread') Object.assign(s, { result: 'EINVAL', syscall: 'pidfd_open', landed: 'none' });
};

/** /proc/PID/status as 5.10 prints it: no "Kthread:" line. */
const noKthreadLine = (list: RecordedObservation[]) => {
  for (const r of resultsOf(list, 'kernelThreads')) (r.kthreadLine as { present: boolean }).present = false;
  for (const r of resultsOf(list, 'threadGroupIds')) r.statusKeySets = (r.statusKeySets as string[][]).map((keys) => keys.filter((k) => k !== 'Kthread'));
};

describe('healthy against healthy', () => {
  const runs = ['a', 'b', 'c'].map((n) => [n, hostRun(n)] as [string, ClaimsReport]);

  test.each([
    ['a', 'b'],
    ['a', 'c'],
    ['b', 'c'],
  ])('host runs %s and %s of one kernel: no fact differs, though every PID does', (x, y) => {
    const pair = runs.filter(([n]) => n === x || n === y);
    // The runs are real and distinct: their task IDs differ (else this test could not fail).
    const tgids = pair.map(([, r]) => (r.observations.find((o) => o.kind === 'signalLanding') as { result: { tgid: number } }).result.tgid);
    expect(tgids[0]).not.toBe(tgids[1]);
    const factsOf = factDifferences(pair);
    const differing = pair[0]![1].claims.flatMap((c) => factsOf(c.id).map((f) => `${c.id} ${f.observation} ${f.path}: ${JSON.stringify(f.values)}`));
    expect(differing).toEqual([]);
  });

  test('the same report twice, through buildMatrix: every claim with no facts', () => {
    const r = healthyReport();
    const m = buildMatrix([
      { source: 'x', report: r },
      { source: 'y', report: r },
    ]);
    expect(m.claims.filter((c) => c.facts.length)).toEqual([]);
    expect(renderMatrixMarkdown(m)).toContain('0 claims and 0 tests differ between 2 columns; 0 claims read observations whose facts differ');
  });
});

describe('task IDs', () => {
  test('are renamed in the order they appear, in numbers and in /proc paths and status text alike', () => {
    const [o] = healthyObservations().filter((x) => x.kind === 'hiddenTidLookup' && x.complete);
    const facts = observationFacts({ ...o!, id: 'x' });
    expect(facts.get('tgid')).toBe('#1');
    expect(facts.get('tid')).toBe('#2');
    expect(facts.get('lookup.path')).toBe('"/proc/#2"');
    expect(facts.get('lookup.statusIds')).toMatch(/Tgid:\\t#1\\nPid:\\t#2\\n/);
  });

  test('a changed relation between them is a fact: the thread reporting its TID as its TGID', () => {
    const m = versus((list) => {
      for (const r of resultsOf(list, 'threadGroupIds')) {
        const t = (r.tasks as { role: string; statusTgid: number; tid: number }[]).find((x) => x.role !== 'leader')!;
        t.statusTgid = t.tid;
      }
    });
    const facts = m.claims.find((c) => c.id === 'A4')!.facts;
    expect(facts.some((f) => /statusTgid$/.test(f.path) && f.values.new !== f.values.old)).toBe(true);
  });
});

describe('what another kernel changes', () => {
  test('a real 5.10 guest against a real host run: the "Kthread:" line and the PIDFD_THREAD errno are among the facts', () => {
    // cases/tooling/fixtures/guest-5.10.json.gz: npm run kernels -- --kernel 5.10 (Debian 5.10.0-32-amd64 under TCG), trimmed like the host runs.
    const pair: [string, ClaimsReport][] = [
      ['host', hostRun('a')],
      ['5.10', JSON.parse(gunzipSync(readFileSync(join(PROJECT_ROOT, 'cases', 'tooling', 'fixtures', 'guest-5.10.json.gz'))).toString('utf8')) as ClaimsReport],
    ];
    const factsOf = factDifferences(pair);
    const t1 = factsOf('T1').find((f) => f.path === 'kthreadLine.present');
    expect(t1?.values).toEqual({ host: 'true', '5.10': 'false' });
    expect(factsOf('A4').find((f) => f.path === 'statusKeySets[0]{Kthread}')?.values).toEqual({ host: 'present' });
    expect(factsOf('C3').find((f) => f.path === 'sends[method=pidfd-thread].result')?.values).toEqual({ host: '"ok"', '5.10': '"EINVAL"' });
    // pidfd_open(2) of a non-leader without PIDFD_THREAD: ENOENT since 6.9, EINVAL before.
    expect(factsOf('C3').find((f) => f.path === 'sends[method=pidfd].result')?.values).toEqual({ host: '"ENOENT"', '5.10': '"EINVAL"' });
  });

  test('PIDFD_THREAD EINVAL (before 6.9): the errno and where it landed, for the claims that read signalLanding', () => {
    const m = versus(noPidfdThread);
    const c3 = m.claims.find((c) => c.id === 'C3')!;
    const errno = c3.facts.find((f) => f.path === 'sends[method=pidfd-thread].result');
    expect(errno?.observation).toMatch(/^signalLanding\//);
    expect(errno?.values).toEqual({ new: '"ok"', old: '"EINVAL"' });
    expect(c3.facts.map((f) => f.path)).toContain('sends[method=pidfd-thread].syscall');
  });

  test('no "Kthread:" status line (5.10): a member of the status key set that vanished, and the flag that says so', () => {
    const m = versus(noKthreadLine);
    const t1 = m.claims.find((c) => c.id === 'T1')!;
    expect(t1.facts).toContainEqual({
      observation: 'kernelThreads/every task with PF_KTHREAD',
      path: 'kthreadLine.present',
      values: { new: 'true', old: 'false' },
    });
    const a4 = m.claims.find((c) => c.id === 'A4')!;
    expect(a4.facts.find((f) => f.path.endsWith('{Kthread}'))?.values).toEqual({ new: 'present' });
  });

  test('an observation set aside in one column is one fact with the reason, not one per leaf', () => {
    const m = versus((list) => {
      const i = list.findIndex((o) => o.kind === 'kernelThreads');
      const { kind, variant, evidence, test: t, testState } = list[i]!;
      list[i] = { kind, variant, evidence, test: t, testState, complete: false, unobserved: 'open /proc/2/status: EACCES' };
    });
    const t1 = m.claims.find((c) => c.id === 'T1')!;
    expect(t1.facts).toEqual([
      {
        observation: 'kernelThreads/every task with PF_KTHREAD',
        path: '(observation)',
        values: { new: 'complete', old: 'incomplete: open /proc/2/status: EACCES' },
      },
    ]);
  });

  test('a column without a report is left out of the comparison', () => {
    const changed = structuredClone(healthyObservations());
    noPidfdThread(changed);
    const m = buildMatrix([
      { source: 'new', label: 'new', report: healthyReport() },
      { source: 'hung', label: 'hung', broken: 'the guest did not answer within 300 s' },
      { source: 'old', label: 'old', report: reportOf(changed) },
    ]);
    const f = m.claims.find((c) => c.id === 'C3')!.facts.find((x) => x.path === 'sends[method=pidfd-thread].result')!;
    expect(Object.keys(f.values)).toEqual(['new', 'old']);
  });
});

describe('the pages', () => {
  const m = versus((list) => {
    noPidfdThread(list);
    noKthreadLine(list);
  });

  test('matrix.md: the headline counts claims whose facts differ, the row says so, and a table per claim lists them', () => {
    const md = renderMatrixMarkdown(m);
    const withFacts = m.claims.filter((c) => c.facts.length);
    const sameVerdict = withFacts.filter((c) => !c.differs);
    expect(sameVerdict.length).toBeGreaterThan(0);
    expect(md).toContain(`${withFacts.length} claims read observations whose facts differ`);
    const c3 = m.claims.find((c) => c.id === 'C3')!;
    const note = c3.differs ? `${c3.facts.length} facts differ` : `same verdict, ${c3.facts.length} facts differ`;
    expect(md).toContain(`C3: ${c3.statement} (${note})`);
    expect(md).toContain(`### C3: ${note}`);
    expect(md).toMatch(/\| signalLanding\/[^|]+ \| `sends\[method=pidfd-thread\]\.result` \| "ok" \| "EINVAL" \|/);
    expect(md).toMatch(/`statusKeySets\[0\]\{Kthread\}` \| present \| absent \|/);
  });

  test('matrix.html: a link from the verdict row to a facts table per claim', () => {
    const html = renderMatrixHtml(m);
    for (const c of m.claims.filter((x) => x.facts.length)) {
      expect(html).toContain(`<a href="#facts-${c.id}" data-role="facts-note">`);
      expect(html).toContain(`<table data-role="facts" data-claim="${c.id}">`);
    }
    expect(html).toContain('<code>sends[method=pidfd-thread].result</code></td><td><code>&quot;ok&quot;</code></td><td><code>&quot;EINVAL&quot;</code>');
  });

  test('matrix.json: the facts match the schema and are written whole; the pages show the first FACTS_SHOWN', () => {
    // Every clone(2) flag combination refused by the older kernel: more facts than the pages show.
    const many = versus((list) => {
      for (const r of resultsOf(list, 'cloneMatrix')) for (const row of r.rows as { accepted: boolean }[]) row.accepted = !row.accepted;
    });
    const big = many.claims.find((c) => c.facts.length > FACTS_SHOWN)!;
    expect(big).toBeDefined();
    writeMatrix(many, work.path);
    const json = JSON.parse(readFileSync(join(work.path, 'matrix.json'), 'utf8')) as Matrix;
    expect(json.claims.find((c) => c.id === big.id)!.facts).toHaveLength(big.facts.length);
    const rows = factRows(big.facts).length;
    expect(rows).toBeGreaterThan(FACTS_SHOWN);
    expect(readFileSync(join(work.path, 'matrix.md'), 'utf8')).toContain(`and ${rows - FACTS_SHOWN} more rows of facts (matrix.json lists them all)`);
  });
});
