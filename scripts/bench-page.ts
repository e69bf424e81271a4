/**
 * npm run bench:page: how heavy the HTML reports are to open. Renders
 * claims.html from a real report (reports/claims.json, or --from) with this
 * clonelab's renderer, and matrix.html for a matrix of 5 columns made from
 * copies of that report (each named apart, each with one claim's verdict
 * changed, so the matrix has rows that differ); then opens each page N times
 * in a fresh headless Chromium tab and measures (does not assert) its size,
 * the time to the load event, and the time to open every <details> (what
 * printing does: all evidence put in at once).
 *
 *   npm run bench:page [-- --from DIR|FILE] [--runs N]
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { dir as tmpDir } from 'tmp-promise';
import { defineCommand, fail, option, path, runMain, wholeNumber } from '../helpers/cli.js';
import { writeFileAtomic } from '../helpers/harness/fs.js';
import { findCommand } from '../helpers/harness/needs.js';
import { defaultReportDir } from '../helpers/harness/paths.js';
import { VERDICTS } from '../helpers/claims/index.js';
import { readClaimsReport, ReportInputError, type ClaimsReport } from '../helpers/report/claims-report.js';
import { buildMatrix, writeMatrix } from '../helpers/report/matrix.js';
import { writeReports } from '../helpers/report/write.js';

export const command = defineCommand({
  name: 'bench:page',
  summary:
    'Measures (does not assert) the size of claims.html and of a 5-column matrix.html rendered from a real report, and their load time in headless Chromium; writes bench/page.json under the report directory (reports/, or CLONELAB_REPORT_DIR).',
  options: {
    from: option({
      value: 'REPORT',
      description: 'the claims.json (or a directory holding one) to render',
      convert: path('a claims.json or a directory'),
      default: () => defaultReportDir(),
      defaultText: 'reports/',
    }),
    runs: option({ value: 'N', description: 'page loads to time, each page', convert: wholeNumber(1), default: 9 }),
  },
});

/** How many columns the matrix page has: the "a matrix of 5 columns". */
const MATRIX_COLUMNS = 5;

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
  return { n: s.length, median: q(0.5), p10: q(0.1), p90: q(0.9) };
};

/**
 * Copies of one report as other environments would give it: named apart, and
 * column k (k > 0) with its k-th claim's verdict moved to the next one, so the
 * matrix has as many differing rows as a real one could.
 */
function variants(r: ClaimsReport, n: number): ClaimsReport[] {
  return Array.from({ length: n }, (_, k) => {
    const v = structuredClone(r);
    v.environment.name = `${r.environment.name}-${k + 1}`;
    const c = k > 0 ? v.claims[(k - 1) % v.claims.length] : undefined;
    if (c) c.verdict = VERDICTS[(VERDICTS.indexOf(c.verdict) + 1) % VERDICTS.length]!;
    return v;
  });
}

/** What printing does: the page's beforeprint handlers fill every section, then every <details> opens; until the next frame. */
const OPEN_EVERY_DETAILS = `(async () => {
  const t0 = performance.now();
  window.dispatchEvent(new Event('beforeprint'));
  document.querySelectorAll('details').forEach((d) => { d.open = true; });
  document.body.getBoundingClientRect();
  await new Promise((r) => requestAnimationFrame(r));
  return performance.now() - t0;
})()`;

/** One page opened `runs` times, each in a new tab: load-event time, and the time to open every <details>. */
export async function measurePage(browser: Browser, file: string, runs: number) {
  const load: number[] = [];
  const openAll: number[] = [];
  for (let i = 0; i < runs; i++) {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(`file://${file}`, { waitUntil: 'load' });
    // Page-side code as text: this project's TypeScript has no DOM types (it runs in Node).
    load.push(await page.evaluate<number>(`performance.getEntriesByType('navigation')[0].loadEventEnd`));
    openAll.push(await page.evaluate<number>(OPEN_EVERY_DETAILS));
    await page.close();
  }
  return { bytes: statSync(file).size, loadMs: stats(load), openEveryDetailsMs: stats(openAll) };
}

await runMain(import.meta.url, command, async ({ from, runs }) => {
  const chromium = findCommand('chromium');
  if (!chromium) fail('no Chromium found (chromium or chromium-browser on PATH; Debian: apt-get install chromium)');
  let report: ClaimsReport;
  try {
    report = readClaimsReport(from);
  } catch (e) {
    if (e instanceof ReportInputError) fail(`${e.message} (write one with npm run report, or name another with --from)`);
    throw e;
  }
  const work = await tmpDir({ unsafeCleanup: true, prefix: 'clonelab-bench-page-' });
  try {
    const claimsHtml = writeReports(report, join(work.path, 'host')).html;
    const matrixDir = join(work.path, 'matrix');
    writeMatrix(buildMatrix(variants(report, MATRIX_COLUMNS).map((r, k) => ({ source: `copy ${k + 1} of ${from}`, report: r }))), matrixDir);
    const { chromium: pw } = await import('playwright-core');
    const browser = await pw.launch({ executablePath: chromium, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
    try {
      const result = {
        generatedAt: new Date().toISOString(),
        from,
        chromium: browser.version(),
        claimsHtml: await measurePage(browser, claimsHtml, runs),
        matrixHtml: { columns: MATRIX_COLUMNS, ...(await measurePage(browser, join(matrixDir, 'matrix.html'), runs)) },
      };
      const fmt = (s: ReturnType<typeof stats>) => `median ${s.median.toFixed(1)} ms (p10 ${s.p10.toFixed(1)}, p90 ${s.p90.toFixed(1)}, n=${s.n})`;
      for (const [name, m] of [
        ['claims.html', result.claimsHtml],
        [`matrix.html (${MATRIX_COLUMNS} columns)`, result.matrixHtml],
      ] as const) {
        console.log(`${name}: ${(m.bytes / 1024).toFixed(0)} KiB; load ${fmt(m.loadMs)}; every <details> opened ${fmt(m.openEveryDetailsMs)}`);
      }
      const file = join(defaultReportDir(), 'bench', 'page.json');
      writeFileAtomic(file, `${JSON.stringify(result, null, 2)}\n`);
      console.log(`wrote ${file}`);
    } finally {
      await browser.close();
    }
  } finally {
    await work.cleanup();
  }
});
