/**
 * The report pages in a real headless Chromium, one browser for the file
 * (chromium.ts), started in beforeAll while the pages are made in-process
 * from a real healthy run's observations (report-fixtures.ts): claims.html
 * renders every claim with its verdict, opens to the evidence, filters, and
 * fetches nothing, in a 420 px window; every figure of FIGURES holds exactly
 * the elements its observations call for (figures.test.ts checks the same on
 * the SVG text) and fits that window, a screenshot of each saved under
 * reports/figures/ (defaultReportDir()); and the matrix's verdict grid
 * (figures-more.test.ts) holds a cell per claim and column, coloured and
 * linked, its screenshot saved there too. The written files of a real
 * `npm run report` are checked, without a browser, by reports.test.ts.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { dir as tmpDir } from 'tmp-promise';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { healthyObservations } from '../../helpers/claims/rule-cases.js';
import { needs } from '../../helpers/harness/needs.js';
import { defaultReportDir } from '../../helpers/harness/paths.js';
import { casesLine, type ClaimsReport } from '../../helpers/report/claims-report.js';
import { FIGURES } from '../../helpers/report/figures/index.js';
import { page as htmlPage } from '../../helpers/report/html.js';
import { matrixGrid } from '../../helpers/report/matrix.js';
import { renderHtml } from '../../helpers/report/render.js';
import { startChromium } from './chromium.js';
import { nonZero, reportOf, twoColumns } from './report-fixtures.js';

/** The little of the DOM the figures test reads (this project compiles without the DOM library). */
interface Dom {
  getAttribute(name: string): string | null;
  querySelectorAll(selector: string): Iterable<Dom>;
  querySelector(selector: string): Dom | null;
  getBoundingClientRect(): { width: number };
  parentElement: { clientWidth: number } | null;
}

/** Started first in beforeAll, beside the making of the pages; each test awaits it (undefined: no Chromium here). */
let browser: Promise<Browser> | undefined;
let work: { path: string; cleanup: () => Promise<void> };
/** The healthy run's report: all 26 claims, every observation; and its claims.html, written under `work`. */
let report: ClaimsReport;
let claimsHtml: string;
/** Where screenshots are kept (reports/figures/). */
const shots = () => join(defaultReportDir(), 'figures');

beforeAll(async () => {
  browser = startChromium();
  work = await tmpDir({ unsafeCleanup: true, prefix: 'clonelab-browser-' });
  report = reportOf(healthyObservations());
  claimsHtml = join(work.path, 'claims.html');
  writeFileSync(claimsHtml, renderHtml(report));
  mkdirSync(shots(), { recursive: true });
});

afterAll(async () => {
  await browser?.then(
    (b) => b.close(),
    () => {},
  );
  await work?.cleanup();
});

describe('in a real browser', needs({ cmds: ['chromium'] }), () => {
  test('claims.html renders every claim with its verdict, expands to evidence, filters, and prints a screenshot', async () => {
    const b = await browser!; // launched in beforeAll, beside the making of the page
    const page = await b.newPage({ viewport: { width: 420, height: 900 } }); // a narrow window
    const requests: string[] = [];
    page.on('request', (r) => {
      if (!r.url().startsWith('file:')) requests.push(r.url());
    });
    await page.goto(`file://${claimsHtml}`);
    const rows = page.locator('#claims-table tbody tr');
    expect(report.claims).toHaveLength(26);
    expect(await rows.count()).toBe(26);
    // Every claim-bearing case file counted as run: the complete cases line.
    expect(report.cases.complete).toBe(true);
    expect(await page.locator('[data-cases="complete"]').textContent()).toBe(casesLine(report));
    for (const c of report.claims) {
      await expect.poll(() => page.locator(`tr[data-claim="${c.id}"] .badge`).textContent()).toBe(c.verdict);
    }
    const a7 = page.locator('tr[data-claim="A7"] details.claim');
    await a7.locator(':scope > summary').click();
    await expect.poll(() => a7.locator('details.evidence > summary').first().isVisible()).toBe(true);
    // Evidence is put in when its section opens, from the page's one copy of the observations.
    await a7.locator('details.evidence > summary').first().click();
    await expect.poll(() => a7.locator('details.evidence pre').first().textContent()).toContain('rawGetpid');
    // Its "full evidence" link opens that observation, listed once below, with its evidence.
    await a7.locator('details.evidence a').first().click();
    const href = (await a7.locator('details.evidence a').first().getAttribute('href'))!;
    const full = page.locator(`details${href}`);
    await expect.poll(() => full.getAttribute('open')).not.toBeNull();
    await expect.poll(() => full.locator('pre').textContent()).toContain('"evidence"');
    await page.selectOption('#verdict', report.claims[0]!.verdict);
    const visible = await page.locator('#claims-table tbody tr:not([hidden])').count();
    expect(visible).toBe(report.claims.filter((c) => c.verdict === report.claims[0]!.verdict).length);
    const shot = join(work.path, 'claims.png');
    if (process.env.CLONELAB_KEEP_SCREENSHOT) await page.screenshot({ path: process.env.CLONELAB_KEEP_SCREENSHOT, fullPage: false });
    await page.screenshot({ path: shot, fullPage: false });
    expect(readFileSync(shot).subarray(1, 4).toString()).toBe('PNG');
    expect(requests).toEqual([]);
    await page.close();
  });

  test('every figure holds the elements its observations call for; a screenshot of each under reports/figures/', async () => {
    const b = await browser!;
    const page = await b.newPage({ viewport: { width: 420, height: 900 } }); // the narrow window the figures are laid out for
    await page.goto(`file://${claimsHtml}`);
    // What the page holds, read in one round trip: each figure's count of every data-role, and whether its drawing fits.
    const seen = await page.locator('[data-figure]').evaluateAll((figs) =>
      (figs as unknown as Dom[]).map((fig) => {
        const roles: Record<string, number> = {};
        for (const e of fig.querySelectorAll('[data-role]')) roles[e.getAttribute('data-role')!] = (roles[e.getAttribute('data-role')!] ?? 0) + 1;
        const svg = fig.querySelector('svg');
        return { id: fig.getAttribute('data-figure')!, roles, fits: !!svg && svg.getBoundingClientRect().width <= (svg.parentElement?.clientWidth ?? 0) + 1 };
      }),
    );
    expect(seen.map((x) => x.id)).toEqual(FIGURES.map((f) => f.id));
    for (const f of FIGURES) {
      const expected = f.elements(report);
      expect(expected, `figure ${f.id} is missing from a healthy run`).toBeDefined();
      const onPage = seen.find((x) => x.id === f.id)!;
      // Every role counted holds (a count of 0: none on the page), and no role is drawn that is not counted.
      expect(onPage.roles, `figure ${f.id}: [data-role] counts on the page`).toEqual(nonZero(expected));
      expect(onPage.fits, `figure ${f.id} fits a 420 px window`).toBe(true);
      const shot = join(shots(), `${f.id}.png`);
      await page.locator(`[data-figure="${f.id}"]`).screenshot({ path: shot, animations: 'disabled' });
      expect(readFileSync(shot).subarray(1, 4).toString()).toBe('PNG');
    }
    await page.close();
  });

  test('in Chromium at 420 px: the matrix grid holds a cell per claim and column, coloured and linked; a screenshot under reports/figures/', async () => {
    // Written where matrix.html would be, so the grid's relative links resolve as they would there.
    const m = twoColumns(work.path);
    const out = join(work.path, 'out');
    mkdirSync(out, { recursive: true });
    const body = `<div id="fig-matrix-grid">${matrixGrid(m, out)}</div>`;
    writeFileSync(join(out, 'figures.html'), htmlPage('figures', body));
    const b = await browser!;
    const p = await b.newPage({ viewport: { width: 420, height: 900 } });
    await p.goto(`file://${join(out, 'figures.html')}`);
    expect(await p.locator('svg[data-figure="matrix-grid"] [data-role="verdict-cell"]').count()).toBe(m.claims.length * m.columns.length);
    // Page-side expressions as strings: this project's TypeScript has no DOM types.
    const t1 = '[data-role="verdict-cell"][data-claim="T1"][data-column="pid-namespace"] rect';
    expect(await p.evaluate(`getComputedStyle(document.querySelector('${t1}')).fill`)).toBe('rgb(87, 96, 106)'); // inconclusive: #57606a
    const a5 = 'a[data-role="verdict-cell"][data-claim="A5"]';
    expect(await p.evaluate(`new URL(document.querySelector('${a5}').getAttribute('href'), document.baseURI).href`)).toBe(
      `file://${join(work.path, 'a', 'claims.html')}#claim-A5`,
    );
    expect(await p.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(420);
    await p.locator('#fig-matrix-grid').screenshot({ path: join(shots(), 'matrix-grid.png') });
    await p.close();
  });
});
