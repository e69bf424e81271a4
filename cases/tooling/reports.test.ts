/**
 * The claim-verification reports: one real `npm run report` on a part of the
 * suite, whose four files must agree; the matrix merge; bad report input;
 * and the HTML in a real headless Chromium.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { dir as tmpDir } from 'tmp-promise';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { PROJECT_ROOT } from '../../helpers/harness/paths.js';
import { VERDICTS } from '../../helpers/claims/index.js';
import { hostOnlyReason } from '../../helpers/harness/environment.js';
import { readClaimsReport, ReportInputError, type ClaimsReport } from '../../helpers/report/claims-report.js';
import { buildMatrix } from '../../helpers/report/matrix.js';
import { reportFiles } from '../../helpers/report/write.js';

const TSX = join(PROJECT_ROOT, 'node_modules/tsx/dist/cli.mjs');
const script = (name: string, args: string[], env: Record<string, string> = {}) =>
  execa(process.execPath, [TSX, join(PROJECT_ROOT, 'scripts', name), ...args], { cwd: PROJECT_ROOT, reject: false, env: { CI: '', ...env } });

let work: { path: string; cleanup: () => Promise<void> };
let out: string;
let report: ClaimsReport;
let run: Awaited<ReturnType<typeof script>>;
let stepSummary: string;

/** Report tooling does not depend on the kernel: `npm run kernels` checks it on the host, not in every slow guest. */
const HOST_ONLY = hostOnlyReason('report tooling (kernel-independent)');

beforeEach(({ skip }) => {
  if (HOST_ONLY) skip(HOST_ONLY);
});

beforeAll(async () => {
  if (HOST_ONLY) return;
  work = await tmpDir({ unsafeCleanup: true, prefix: 'clonelab-reports-' });
  out = join(work.path, 'out');
  stepSummary = join(work.path, 'step-summary.md');
  // A real run of the main job, on one test file to keep it quick.
  run = await script('report.ts', ['--out', out, 'cases/claims/ids.test.ts'], { GITHUB_STEP_SUMMARY: stepSummary });
  report = readClaimsReport(out);
}, 120_000);

afterAll(async () => {
  await work?.cleanup();
});

describe('npm run report', () => {
  test('prints the four paths and a one-line summary, and exits 0', () => {
    expect(run.exitCode, run.stderr).toBe(0);
    for (const f of Object.values(reportFiles(out))) expect(run.stdout).toContain(f.slice(f.lastIndexOf('/') + 1));
    expect(run.stdout).toMatch(/claims: \d+ confirmed, \d+ refuted, \d+ nuanced, \d+ inconclusive, \d+ not-testable; tests: \d+ passed, 0 failed, 0 skipped/);
  });

  test('claims.json, claims.md, claims.html and junit.xml say the same thing', () => {
    const files = reportFiles(out);
    const md = readFileSync(files.markdown, 'utf8');
    const html = readFileSync(files.html, 'utf8');
    const junit = readFileSync(files.junit, 'utf8');
    expect(report.claims).toHaveLength(26);
    for (const c of report.claims) {
      expect(md, c.id).toMatch(new RegExp(`^\\| ${c.id} \\| .* \\| \\*\\*${c.verdict}\\*\\* \\|`, 'm'));
      expect(html, c.id).toContain(`data-verdict="${c.verdict}" data-claim="${c.id}"`);
    }
    for (const v of VERDICTS) expect(html).toContain(`data-count="${v}">${report.summary[v]}<`);
    expect(html).toContain(`data-tests="passed">${report.tests.passed}<`);
    // Every test, and one case per claim rule (an <error> where a rule threw).
    const total = report.tests.total + report.claims.length;
    const broken = report.claims.filter((c) => c.broken).length;
    expect(junit).toMatch(new RegExp(`<testsuites name="clonelab" tests="${total}" failures="${report.tests.failed}" skipped="${report.tests.skipped}" errors="${broken}"`));
    expect((junit.match(/<testcase /g) ?? []).length).toBe(total);
    // Observations are stored once and every reference resolves.
    const ids = new Set(report.observations.map((o) => o.id));
    for (const c of report.claims) for (const o of c.observations) expect(ids.has(o.id), o.id).toBe(true);
    // Self-contained: nothing fetched from anywhere.
    expect(html).not.toMatch(/<(link|img|script)[^>]+(href|src)=["']?(https?:)?\/\//);
  });

  test('GITHUB_STEP_SUMMARY gets the summary table', () => {
    const summary = readFileSync(stepSummary, 'utf8');
    expect(summary).toContain('| ID | claim (in our words) | verdict | why |');
    for (const c of report.claims) expect(summary).toContain(`| ${c.id} |`);
  });

  test('a bad argument is refused with the usage and status 2', async () => {
    const r = await script('report.ts', ['--bogus']);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/unknown option '--bogus'[\s\S]*usage: npm run report/);
  });
});

describe('matrix', () => {
  test('merging two reports puts the rows where they differ first', () => {
    // A second column that differs in one claim and one test, as another environment would.
    const other: ClaimsReport = structuredClone(report);
    other.environment = { ...other.environment, name: 'another-environment' };
    other.claims.find((c) => c.id === 'A7')!.verdict = 'inconclusive';
    other.tests.list[other.tests.list.length - 1]!.state = 'skipped';
    const m = buildMatrix([
      { source: 'root', report },
      { source: 'other', report: other },
    ]);
    expect(m.columns.map((c) => c.label)).toEqual([`${report.environment.name} ${report.environment.kernelRelease}`, `another-environment ${report.environment.kernelRelease}`]);
    expect(m.claims[0]).toMatchObject({ id: 'A7', differs: true });
    expect(m.claims.slice(1).every((c) => !c.differs)).toBe(true);
    expect(m.tests[0]!.differs).toBe(true);
    expect(m.tests[0]!.name).toBe(report.tests.list.at(-1)!.name);
  });

  test('npm run report:matrix writes matrix.json, .md and .html from files and directories', async () => {
    const mout = join(work.path, 'matrix-out');
    const r = await script('report-matrix.ts', ['--out', mout, out, join(out, 'claims.json')]);
    expect(r.exitCode, r.stderr).toBe(0);
    const m = JSON.parse(readFileSync(join(mout, 'matrix.json'), 'utf8'));
    expect(m.columns).toHaveLength(2);
    expect(m.columns[1].label).toMatch(/#2$/);
    for (const f of ['matrix.md', 'matrix.html']) expect(existsSync(join(mout, f))).toBe(true);
  });

  /** Inputs that are not usable reports, and what the error must say. */
  const BAD: { name: string; make: (dir: string) => string; says: RegExp }[] = [
    { name: 'truncated JSON', make: (d) => write(d, 't.json', JSON.stringify(report).slice(0, 200)), says: /not valid JSON, truncated or damaged/ },
    { name: 'empty file', make: (d) => write(d, 'e.json', ''), says: /the file is empty/ },
    { name: 'wrong schema version', make: (d) => write(d, 's.json', JSON.stringify({ ...report, schemaVersion: 99 })), says: /schema version 99 is not the one this clonelab reads \(2\)/ },
    { name: 'not a clonelab report', make: (d) => write(d, 'n.json', '{"hello": "world"}'), says: /not a clonelab claims report/ },
    { name: 'unknown claim ID', make: (d) => write(d, 'u.json', JSON.stringify({ ...report, claims: [...report.claims, { ...report.claims[0], id: 'Z9' }] })), says: /unknown claim IDs: Z9/ },
    { name: 'directory without claims.json', make: (d) => { mkdirSync(join(d, 'empty-dir'), { recursive: true }); return join(d, 'empty-dir'); }, says: /the directory holds no claims.json/ },
    { name: 'missing path', make: (d) => join(d, 'nope.json'), says: /cannot read it \(ENOENT\)/ },
  ];
  function write(dir: string, name: string, text: string): string {
    const f = join(dir, name);
    writeFileSync(f, text);
    return f;
  }

  test.for(BAD)('refuses $name with the file name and the problem', ({ make, says }) => {
    const f = make(work.path);
    const err = (() => {
      try {
        readClaimsReport(f);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(ReportInputError);
    expect(String(err)).toContain(f);
    expect(String(err)).toMatch(says);
  });

  test('the command stops at a bad input, exits 1 and leaves an existing matrix untouched', async () => {
    const mout = join(work.path, 'kept');
    mkdirSync(mout, { recursive: true });
    writeFileSync(join(mout, 'matrix.json'), 'the good one');
    const bad = write(work.path, 'bad.json', '{"tool": {"name": "clonelab"}, "schemaVersion": 1, "claims"');
    const r = await script('report-matrix.ts', ['--out', mout, out, bad]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(bad);
    expect(r.stderr).toMatch(/Nothing was written/);
    expect(readFileSync(join(mout, 'matrix.json'), 'utf8')).toBe('the good one');
  });

  test('an output directory that cannot be written is refused', async () => {
    const blocker = write(work.path, 'a-file', 'x');
    const r = await script('report-matrix.ts', ['--out', join(blocker, 'sub'), out]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/cannot write to .*a-file\/sub \((ENOTDIR|EEXIST)\)/);
  });
});

describe('in a real browser', () => {
  test('claims.html renders every claim with its verdict, expands to evidence, filters, and prints a screenshot', async ({ skip }) => {
    const chromium = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((p) => existsSync(p));
    if (!chromium) return skip('no Chromium on this host (apt-get install chromium)');
    const { chromium: pw } = await import('playwright-core');
    const browser = await pw.launch({
      executablePath: chromium,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage({ viewport: { width: 420, height: 900 } }); // a narrow window
      const requests: string[] = [];
      page.on('request', (r) => {
        if (!r.url().startsWith('file:')) requests.push(r.url());
      });
      await page.goto(`file://${reportFiles(out).html}`);
      const rows = page.locator('#claims-table tbody tr');
      expect(await rows.count()).toBe(26);
      for (const c of report.claims) {
        await expect.poll(() => page.locator(`tr[data-claim="${c.id}"] .badge`).textContent()).toBe(c.verdict);
      }
      const a7 = page.locator('tr[data-claim="A7"] details.claim');
      await a7.locator(':scope > summary').click();
      await expect.poll(() => a7.locator('details.evidence > summary').first().isVisible()).toBe(true);
      await a7.locator('details.evidence > summary').first().click();
      expect(await a7.locator('details.evidence pre').first().textContent()).toContain('rawGetpid');
      await page.selectOption('#verdict', report.claims[0]!.verdict);
      const visible = await page.locator('#claims-table tbody tr:not([hidden])').count();
      expect(visible).toBe(report.claims.filter((c) => c.verdict === report.claims[0]!.verdict).length);
      const shot = join(work.path, 'claims.png');
      if (process.env.CLONELAB_KEEP_SCREENSHOT) await page.screenshot({ path: process.env.CLONELAB_KEEP_SCREENSHOT, fullPage: false });
      await page.screenshot({ path: shot, fullPage: false });
      expect(readFileSync(shot).subarray(1, 4).toString()).toBe('PNG');
      expect(requests).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});
