/**
 * The clone sharing grid, the kernel-threads figure and the matrix's
 * verdict grid, drawn from a report made of a real healthy run's
 * observations (cases/rules/fixtures/, recorded by scripts/rule-fixture.ts
 * from a real reports/claims.json; built by report-fixtures.ts): each figure
 * holds as many elements of each role as the observations say, moves when
 * they change, and gives the reason instead of a drawing when they are
 * missing. The matrix grid has one cell per claim and column in its
 * verdict's colour, linked to the claim in the column's claims.html when
 * that page lies beside the report. The matrix grid in Chromium at 420 px
 * (and its screenshot under reports/figures/) is checked by browser.test.ts.
 */
import { join } from 'node:path';
import { dir as tmpDir } from 'tmp-promise';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { healthyObservations } from '../../helpers/claims/rule-cases.js';
import { familyFiles } from '../../helpers/claims/families.js';
import type { RecordedObservation } from '../../helpers/observations.js';
import type { ClaimsReport } from '../../helpers/report/claims-report.js';
import { VERDICT_COLOURS } from '../../helpers/report/html.js';
import { matrixGrid } from '../../helpers/report/matrix.js';
import { cloneGrid } from '../../helpers/report/figures/clone-grid.js';
import { countRoles, type Figure } from '../../helpers/report/figures/figure.js';
import { kernelThreads } from '../../helpers/report/figures/kernel-threads.js';
import { reportOf, twoColumns } from './report-fixtures.js';

let work: { path: string; cleanup: () => Promise<void> };

beforeAll(async () => {
  work = await tmpDir({ unsafeCleanup: true, prefix: 'clonelab-figures-more-' });
});

afterAll(async () => {
  await work?.cleanup();
});

const healthy = () => structuredClone(healthyObservations());
/** The complete results of a kind, to change in place. */
const resultsOf = (list: RecordedObservation[], kind: string) =>
  list.filter((o) => o.kind === kind && o.complete).map((o) => (o as RecordedObservation & { result: never }).result as Record<string, unknown>);
/** Every observation of a kind made incomplete, as a failed probe leaves it. */
const failed = (list: RecordedObservation[], kind: string, unobserved: string): RecordedObservation[] =>
  list.map((o) => (o.kind === kind ? { kind: o.kind, variant: o.variant, complete: false, unobserved, evidence: {}, test: o.test, testState: 'failed' } : o));

function drawn(f: Figure, r: ClaimsReport): string {
  const out = f.render(r);
  if (!('svg' in out)) throw new Error(`${f.id} was not drawn: ${out.missing}`);
  return out.svg;
}

describe('the clone sharing grid', () => {
  test('holds one band per matrix row and API, a bar per resource shared, and one cell per flag-rule row', () => {
    const list = healthy();
    const r = reportOf(list);
    const svg = drawn(cloneGrid, r);
    const rows = resultsOf(list, 'cloneMatrix').flatMap((m) => m.rows as { accepted: boolean; shared?: Record<string, boolean> }[]);
    const expected = cloneGrid.elements(r)!;
    expect(countRoles(svg)).toEqual(expected);
    expect(expected.accepted! + expected.refused!).toBe(rows.length);
    expect(expected.shared).toBe(rows.reduce((n, x) => n + Object.values(x.shared ?? {}).filter(Boolean).length, 0));
    expect(expected['rule-row']).toBe(resultsOf(list, 'cloneRules').flatMap((x) => x.rows as unknown[]).length);
    expect(svg).toMatch(/^<svg [^>]*data-svg="clone-grid"/);
    expect(svg).not.toMatch(/(href|src)="(https?:)?\/\//);
  });

  test('moves with the observations: a resource not shared, a refusal by another errno, a rule answered against the docs', () => {
    const list = healthy();
    const [clone] = resultsOf(list, 'cloneMatrix') as { rows: { flags: string; accepted: boolean; errno?: string; shared?: Record<string, boolean> }[] }[];
    const thread = clone!.rows.find((x) => x.flags === 'VM|FS|FILES|SIGHAND|THREAD|SYSVSEM')!;
    thread.shared!.fs = false;
    const none = clone!.rows.find((x) => x.flags === 'none')!;
    Object.assign(none, { accepted: false, errno: 'EPERM', shared: undefined });
    const rule = (resultsOf(list, 'cloneRules')[0]!.rows as { result: string }[])[0]!;
    rule.result = 'ok';
    const before = cloneGrid.elements(reportOf(healthy()))!;
    const r = reportOf(list);
    const svg = drawn(cloneGrid, r);
    expect(countRoles(svg)).toEqual(cloneGrid.elements(r));
    expect(cloneGrid.elements(r)).toMatchObject({ accepted: before.accepted! - 1, refused: before.refused! + 1, shared: before.shared! - 1 });
    expect(svg).toContain('refused: EPERM (1)');
    expect(svg).toMatch(/data-role="rule-row"[^>]*data-result="ok" data-against-docs="true"/);
    expect(svg).toContain('1 answer differing from documented Linux');
  });

  test('an incomplete matrix gives its reason and no drawing; missing flag rules leave the grid with their reason', () => {
    const r = reportOf(failed(healthy(), 'cloneMatrix', 'probe clone --matrix failed: clone3: ENOSYS'));
    const out = cloneGrid.render(r);
    expect('svg' in out).toBe(false);
    expect('missing' in out && out.missing).toMatch(/^every cloneMatrix observation was set aside: .*probe clone --matrix failed: clone3: ENOSYS/);
    expect(cloneGrid.elements(r)).toBeUndefined();

    const absent = reportOf(
      healthy().filter((o) => !o.kind.startsWith('clone')),
      [familyFiles('clone').caseFile],
    );
    const gone = cloneGrid.render(absent);
    expect('svg' in gone).toBe(false);
    expect('missing' in gone && gone.missing).toMatch(
      /^no cloneMatrix observation was recorded in this run \(this run did not run [^)]*cases\/claims\/clone\.test\.ts/,
    );

    const noRules = reportOf(failed(healthy(), 'cloneRules', 'probe clone --try failed: EPERM'));
    const svg = drawn(cloneGrid, noRules);
    expect(countRoles(svg)['rule-row']).toBeUndefined();
    expect(cloneGrid.elements(noRules)!['rule-row']).toBe(0);
    expect(svg).toMatch(/data-missing="cloneRules">every cloneRules observation was set aside/);
  });
});

describe('kernel threads next to a user process', () => {
  test('one square per kernel thread of the census, each property, the user process only where observed', () => {
    const list = healthy();
    const r = reportOf(list);
    const svg = drawn(kernelThreads, r);
    const census = resultsOf(list, 'kernelThreads')[0] as { count: number; states: Record<string, number> };
    expect(countRoles(svg)).toEqual(kernelThreads.elements(r));
    expect(countRoles(svg).kthread).toBe(census.count);
    for (const [state, n] of Object.entries(census.states)) expect(svg.match(new RegExp(`data-role="kthread" data-state="${state}"`, 'g'))).toHaveLength(n);
    // Without the single-thread process, its cells say "not observed" instead of a value.
    const without = reportOf(healthy().filter((o) => o.kind !== 'singleThreadProcess'));
    const svg2 = drawn(kernelThreads, without);
    expect(countRoles(svg2)['user-observed']).toBe(countRoles(svg)['user-observed']! - 4);
    expect(countRoles(svg2)).toEqual(kernelThreads.elements(without));
  });

  test('a kernel thread with a user address space moves from "lacked" to "some have it"', () => {
    const list = healthy();
    const census = resultsOf(list, 'kernelThreads')[0] as { noVmSize: number };
    census.noVmSize -= 1;
    const svg = drawn(kernelThreads, reportOf(list));
    expect(svg).toMatch(/<g data-role="property" data-has="1" data-lacks="\d+"[^>]*><title>a user address space/);
    expect(svg).toContain('Some have it, or not every one could be read');
  });

  test('no census gives its reason; an empty census says none was visible', () => {
    const r = reportOf(failed(healthy(), 'kernelThreads', 'readdir(/proc): EACCES'));
    const out = kernelThreads.render(r);
    expect('svg' in out).toBe(false);
    expect('missing' in out && out.missing).toContain('readdir(/proc): EACCES');
    expect(kernelThreads.elements(r)).toBeUndefined();
    const list = healthy();
    Object.assign(resultsOf(list, 'kernelThreads')[0]!, { count: 0, states: {}, vanished: 2 });
    const svg = drawn(kernelThreads, reportOf(list));
    expect(svg).toContain('No kernel thread was visible from the initial PID namespace (2 exited during the census).');
    expect(countRoles(svg).kthread).toBeUndefined();
  });
});

describe('the matrix verdict grid', () => {
  test('one cell per claim and column, in its verdict colour; a link where claims.html lies beside, else the explanation', () => {
    const m = twoColumns(work.path);
    const html = matrixGrid(m, join(work.path, 'out'));
    const cells = [
      ...html.matchAll(
        /<(a|g) (?:href="([^"]*)" )?data-role="verdict-cell" data-claim="([^"]+)" data-column="([^"]+)" data-verdict="([^"]+)"><title>([^<]*)<\/title><rect [^>]*fill="([^"]+)"/g,
      ),
    ];
    expect(cells).toHaveLength(m.claims.length * m.columns.length);
    for (const claim of m.claims) {
      for (const col of m.columns) {
        const cell = cells.find((c) => c[3] === claim.id && c[4] === col.label);
        expect(cell, `${claim.id} ${col.label}`).toBeDefined();
        expect(cell![5]).toBe(claim.cells[col.label]);
        expect(cell![7]).toBe(VERDICT_COLOURS[claim.cells[col.label]!]);
        if (col.label === 'host') expect(cell![2]).toBe(`../a/claims.html#claim-${claim.id}`);
        else expect(cell![6]).toContain(claim.explanations[col.label]!.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/'/g, '&#39;').slice(0, 40));
      }
    }
    const t1 = cells.find((c) => c[3] === 'T1' && c[4] === 'pid-namespace')!;
    expect(t1[6]).toBe('T1 in pid-namespace: inconclusive. No kernel thread was visible from a child PID namespace.');
    // Rendered without knowing where it is written: no links, every cell titled with its explanation.
    expect(matrixGrid(m)).not.toContain('href=');
  });
});
