/**
 * The claim-verification reports: one real `npm run report` on a part of the
 * suite, whose four files must agree and say which cases ran; the reporter's
 * choice to leave a report alone after a run that bore on no claim; the
 * matrix merge; and bad report input. (claims.html in a real headless
 * Chromium is checked by browser.test.ts, from a report made in-process.)
 * Everything that is not about a command's own behaviour (exit status, what
 * it prints) calls the report functions in-process rather than spawn tsx.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dir as tmpDir } from 'tmp-promise';
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest';
import type { TestModule } from 'vitest/node';
import { PROJECT_ROOT } from '../../helpers/harness/paths.js';
import { VERDICTS } from '../../helpers/claims/index.js';
import { CLAIM_CASE_FILES } from '../../helpers/claims/families.js';
import { environment } from '../../helpers/harness/environment.js';
import { runCommand } from '../../helpers/cli.js';
import { command as reportCommand, main as reportMain } from '../../scripts/report.js';
import { buildClaimsReport, casesLine, readClaimsReport, ReportInputError, type ClaimsReport, type TestOutcome } from '../../helpers/report/claims-report.js';
import { buildMatrix, renderMatrixMarkdown, type Matrix, writeMatrix } from '../../helpers/report/matrix.js';
import { esc } from '../../helpers/report/html.js';
import { renderHtml, renderJunit, renderMarkdown } from '../../helpers/report/render.js';
import ClaimsReporter from '../../helpers/report/reporter.js';
import { reportFiles } from '../../helpers/report/write.js';

let work: { path: string; cleanup: () => Promise<void> };
let out: string;
let report: ClaimsReport;
let run: { exitCode: number; stdout: string; stderr: string };
let stepSummary: string;

beforeAll(async () => {
  work = await tmpDir({ unsafeCleanup: true, prefix: 'clonelab-reports-' });
  out = join(work.path, 'out');
  stepSummary = join(work.path, 'step-summary.md');
  // A real run of the main job (its vitest run, its report, its summary), on one test file to keep it
  // quick; in-process through runCommand, as the script runs it before exiting (the exit wiring itself
  // is proven by cli-errors.test.ts's one spawned run).
  const said = { out: '', err: '' };
  const before = process.env.GITHUB_STEP_SUMMARY;
  process.env.GITHUB_STEP_SUMMARY = stepSummary;
  try {
    const exitCode = await runCommand(reportCommand, ['--out', out, 'cases/claims/ids.test.ts'], (v, io) => reportMain(v, io, 'pipe'), {
      out: (x) => (said.out += x),
      err: (x) => (said.err += x),
    });
    run = { exitCode, stdout: said.out, stderr: said.err };
  } finally {
    if (before === undefined) delete process.env.GITHUB_STEP_SUMMARY;
    else process.env.GITHUB_STEP_SUMMARY = before;
  }
  report = readClaimsReport(out);
}, 120_000);

afterAll(async () => {
  await work?.cleanup();
});

describe('npm run report', () => {
  test('prints the four paths and a one-line summary, and exits 0', () => {
    expect(run.exitCode, run.stderr).toBe(0);
    for (const f of Object.values(reportFiles(out)) as string[]) expect(run.stdout).toContain(f.slice(f.lastIndexOf('/') + 1));
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
      // The "why" is the rule's one-line summary, in every format.
      expect(md, c.id).toContain(`** | ${c.partialRun ? '(partial run) ' : ''}${c.summary.replace(/\|/g, '\\|')} |`);
      expect(html, c.id).toContain(`<td class="hide-narrow">${esc(c.summary)}</td>`);
      expect(junit, c.id).toContain(`<system-out>${esc(c.summary)}</system-out>`);
    }
    for (const v of VERDICTS) expect(html).toContain(`data-count="${v}">${report.summary[v]}<`);
    expect(html).toContain(`data-tests="passed">${report.tests.passed}<`);
    // Every test, and one case per claim rule (an <error> where a rule threw).
    const total = report.tests.total + report.claims.length;
    const broken = report.claims.filter((c) => c.broken).length;
    expect(junit).toMatch(
      new RegExp(`<testsuites name="clonelab" tests="${total}" failures="${report.tests.failed}" skipped="${report.tests.skipped}" errors="${broken}"`),
    );
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
    for (const c of report.claims) expect(summary, c.id).toContain(`${c.summary.replace(/\|/g, '\\|')} |`);
  });

  // A bad argument to the command (exit 2 with the usage) is checked in-process in cli-errors.test.ts.
});

describe('which cases ran', () => {
  const outcome = (file: string, n: number): TestOutcome[] => Array.from({ length: n }, (_, i) => ({ name: `test ${i}`, file, state: 'passed' }));

  test('a run of one claim case file says so in claims.json, on every claim, in claims.md, claims.html, junit.xml and the summary line', () => {
    const ids = 'cases/claims/ids.test.ts';
    const notRun = CLAIM_CASE_FILES.filter((f) => f !== ids);
    expect(report.cases).toEqual({ files: [{ file: ids, tests: report.tests.total, claimBearing: true }], claimFilesNotRun: notRun, complete: false });
    for (const c of report.claims) {
      expect(c.partialRun, c.id).toMatch(
        new RegExp(`^Judged from a partial run: ${notRun.length} of the ${CLAIM_CASE_FILES.length} claim-bearing case files did not run`),
      );
      for (const f of notRun) expect(c.partialRun, c.id).toContain(f);
    }
    const line = casesLine(report);
    expect(line).toBe(
      `Cases: a partial run, 1 of ${CLAIM_CASE_FILES.length} claim-bearing case files ran (tests each: ${ids} ${report.tests.total}); not run: ${notRun.join(', ')}. Every verdict rests on this part only.`,
    );
    const files = reportFiles(out);
    expect(readFileSync(files.markdown, 'utf8')).toContain(line);
    expect(readFileSync(files.markdown, 'utf8')).toMatch(/^\| A7 \| .* \| \*\*[a-z-]+\*\* \| \(partial run\) /m);
    expect(readFileSync(files.html, 'utf8')).toContain(`<p data-cases="partial">${line}</p>`);
    expect(readFileSync(files.junit, 'utf8')).toContain('<property name="claimCaseFiles.complete" value="false"/>');
    expect(readFileSync(stepSummary, 'utf8')).toContain(line);
    expect(run.stdout).toContain(`; partial run: 1 of ${CLAIM_CASE_FILES.length} claim-bearing case files`);
  });

  test('every claim case file and some tool tests: complete, and no claim says partial', () => {
    const tests = [...CLAIM_CASE_FILES.flatMap((f, i) => outcome(f, i + 1)), ...outcome('cases/tooling/lab.test.ts', 3)];
    const r = buildClaimsReport({
      observations: [],
      tests,
      environment: { ...environment(), clone3: 'not probed by this test' },
      reason: 'passed',
      unhandledErrors: [],
    });
    expect(r.cases.complete).toBe(true);
    expect(r.cases.claimFilesNotRun).toEqual([]);
    expect(r.cases.files.filter((f) => !f.claimBearing)).toEqual([{ file: 'cases/tooling/lab.test.ts', tests: 3, claimBearing: false }]);
    expect(r.claims.filter((c) => c.partialRun)).toEqual([]);
    expect(casesLine(r)).toMatch(
      new RegExp(
        `^Cases: all ${CLAIM_CASE_FILES.length} claim-bearing case files ran \\(tests each: cases/claims/ids\\.test\\.ts 1, .*\\), and 1 other case file \\(3 tests\\)\\.$`,
      ),
    );
    expect(renderMarkdown(r)).not.toContain('(partial run)');
    expect(renderHtml(r)).toContain('<p data-cases="complete">');
    expect(renderJunit(r)).toContain('<property name="claimCaseFiles.complete" value="true"/>');
    // An older report of the same schema, without the list: not known, and said so.
    expect(casesLine({} as ClaimsReport)).toMatch(/^Cases: not recorded/);
  });

  test('a claim case file that failed to load (no test) counts as not run, and its error is shown', () => {
    const [broken, ...others] = CLAIM_CASE_FILES as [string, ...string[]];
    const r = buildClaimsReport({
      observations: [],
      tests: others.flatMap((f) => outcome(f, 1)),
      caseFiles: [{ file: broken, tests: 0, errors: ['SyntaxError: Unexpected token'] }, ...others.map((file) => ({ file, tests: 1 }))],
      environment: { ...environment(), clone3: 'not probed by this test' },
      reason: 'failed',
      unhandledErrors: [],
    });
    expect(r.cases).toMatchObject({ complete: false, claimFilesNotRun: [broken] });
    expect(r.claims.every((c) => c.partialRun?.includes(broken))).toBe(true);
    expect(renderMarkdown(r)).toContain(`### Errors outside any test\n\n- ${broken}: SyntaxError: Unexpected token`);
  });

  /** The reporter as vitest calls it at the end of a run, over modules of these files with one passed test each. */
  async function endRun(dir: string, files: string[]): Promise<string> {
    const modules = files.map((file) => {
      const tc = { fullName: `a test of ${file}`, result: () => ({ state: 'passed' }), diagnostic: () => undefined, meta: () => ({}) };
      return { moduleId: join(PROJECT_ROOT, file), errors: () => [], children: { allTests: () => [tc][Symbol.iterator]() } };
    }) as unknown as TestModule[];
    const said: string[] = [];
    const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => (said.push(String(chunk)), true));
    try {
      await new ClaimsReporter({ dir }).onTestRunEnd(modules, [], 'passed');
    } finally {
      spy.mockRestore();
    }
    return said.join('');
  }

  test('a run of tool tests only leaves the claim report as it was, and says so in one line', async () => {
    const dir = join(work.path, 'kept-report');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'claims.json'), "the user's report");
    const said = await endRun(dir, ['cases/tooling/lab.test.ts']);
    expect(said.trim()).toMatch(
      /^clonelab: no claim-bearing case ran \(cases\/tooling\/lab\.test\.ts\), so the claim report in .*kept-report\/ is left as it was\.$/,
    );
    expect(readFileSync(join(dir, 'claims.json'), 'utf8')).toBe("the user's report");
    for (const f of ['claims.md', 'claims.html', 'junit.xml']) expect(existsSync(join(dir, f)), f).toBe(false);
  });

  test('a run with a claim case file writes the report, with that file listed', async () => {
    const dir = join(work.path, 'new-report');
    const said = await endRun(dir, ['cases/tooling/lab.test.ts', 'cases/claims/ps.test.ts']);
    expect(said).toMatch(/clonelab: wrote .*claims\.json/);
    const r = readClaimsReport(dir);
    expect(r.cases.files.map((f) => [f.file, f.claimBearing])).toEqual([
      ['cases/tooling/lab.test.ts', false],
      ['cases/claims/ps.test.ts', true],
    ]);
    expect(r.cases.complete).toBe(false);
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
    expect(m.columns.map((c) => c.label)).toEqual([
      `${report.environment.name} ${report.environment.kernelRelease}`,
      `another-environment ${report.environment.kernelRelease}`,
    ]);
    expect(m.claims[0]).toMatchObject({ id: 'A7', differs: true });
    expect(m.claims.slice(1).every((c) => !c.differs)).toBe(true);
    expect(m.tests[0]!.differs).toBe(true);
    expect(m.tests[0]!.name).toBe(report.tests.list.at(-1)!.name);
  });

  test('every column names its world; labels name the parts that differ (libc, wrapper, runtime, user...)', () => {
    const world = (patch: Record<string, unknown>): ClaimsReport => {
      const r = structuredClone(report);
      Object.assign(r.environment, patch);
      return r;
    };
    const caps40 = Array.from({ length: 40 }, (_, i) => `CAP_${i}`);
    const name = report.environment.name; // "host", or the environment check:environments names
    // A report from before the runtime and wrapper facts.
    const old = world({ libc: 'glibc 2.36', euid: 1000, capabilities: [] });
    delete (old.environment as { runtime?: unknown }).runtime;
    delete (old.environment as { probeWrapper?: unknown }).probeWrapper;
    delete (old.environment as { seccomp?: unknown }).seccomp;
    const m = buildMatrix([
      { source: 'glibc', report: world({ euid: 0, capabilities: caps40, seccomp: 'disabled', libc: 'glibc 2.36', probeWrapper: null, runtime: null }) },
      { source: 'musl', report: world({ euid: 0, capabilities: caps40, libc: 'musl 1.2.3', probeWrapper: null, runtime: null }) },
      { source: 'qemu', report: world({ euid: 0, capabilities: caps40, libc: 'glibc 2.36', probeWrapper: 'qemu-x86_64 7.2.22', runtime: null }) },
      { source: 'old', report: old },
    ]);
    expect(m.columns.map((c) => c.label)).toEqual([
      `${name} glibc 2.36 euid 0/40 caps`,
      `${name} musl 1.2.3 euid 0/40 caps`,
      `${name} glibc 2.36 qemu-x86_64 euid 0/40 caps`,
      `${name} glibc 2.36 runtime unrecorded wrapper unrecorded euid 1000/no caps`,
    ]);
    // A report from before the runtime and wrapper facts says so, rather than "none".
    expect(m.columns[3]!.world).toMatchObject({ runtime: 'not recorded', wrapper: 'not recorded', user: 'euid 1000, no capabilities' });
    const md = renderMatrixMarkdown(m);
    for (const c of m.columns) expect(md).toContain(`kernel ${c.environment.kernelRelease}; arch ${c.environment.arch}; libc ${c.environment.libc}; runtime`);
  });

  test('what npm run report:matrix does with a file and a directory: matrix.json, .md and .html', () => {
    // In-process, through the functions scripts/report-matrix.ts calls; the command's own exits are spawned below.
    const mout = join(work.path, 'matrix-out');
    const written = writeMatrix(buildMatrix([out, join(out, 'claims.json')].map((source) => ({ source, report: readClaimsReport(source) }))), mout);
    expect(written.map((f) => f.slice(mout.length + 1)).sort()).toEqual(['matrix.html', 'matrix.json', 'matrix.md']);
    const m = JSON.parse(readFileSync(join(mout, 'matrix.json'), 'utf8')) as Matrix;
    expect(m.columns).toHaveLength(2);
    expect(m.columns[1]!.label).toMatch(/#2$/);
  });

  /** Inputs that are not usable reports, and what the error must say. */
  const BAD: { name: string; make: (dir: string) => string; says: RegExp }[] = [
    { name: 'truncated JSON', make: (d) => write(d, 't.json', JSON.stringify(report).slice(0, 200)), says: /not valid JSON, truncated or damaged/ },
    { name: 'empty file', make: (d) => write(d, 'e.json', ''), says: /the file is empty/ },
    {
      name: 'wrong schema version',
      make: (d) => write(d, 's.json', JSON.stringify({ ...report, schemaVersion: 99 })),
      says: /schema version 99 is not the one this clonelab reads \(2\)/,
    },
    { name: 'not a clonelab report', make: (d) => write(d, 'n.json', '{"hello": "world"}'), says: /not a clonelab claims report/ },
    {
      name: 'unknown claim ID',
      make: (d) => write(d, 'u.json', JSON.stringify({ ...report, claims: [...report.claims, { ...report.claims[0], id: 'Z9' }] })),
      says: /unknown claim IDs: Z9/,
    },
    {
      name: 'directory without claims.json',
      make: (d) => {
        mkdirSync(join(d, 'empty-dir'), { recursive: true });
        return join(d, 'empty-dir');
      },
      says: /the directory holds no claims.json/,
    },
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

  // The command itself, through runCommand (what a spawned run does before process.exit): the two ways it refuses to write.
  const matrixCommand = async (argv: string[]) => {
    const said = { out: '', err: '' };
    const { command, main } = await import('../../scripts/report-matrix.js');
    const exitCode = await runCommand(command, argv, main, { out: (x) => (said.out += x), err: (x) => (said.err += x) });
    return { exitCode, stdout: said.out, stderr: said.err };
  };

  test('the command stops at a bad input, exits 1 and leaves an existing matrix untouched', async () => {
    const mout = join(work.path, 'kept');
    mkdirSync(mout, { recursive: true });
    writeFileSync(join(mout, 'matrix.json'), 'the good one');
    const bad = write(work.path, 'bad.json', '{"tool": {"name": "clonelab"}, "schemaVersion": 1, "claims"');
    const r = await matrixCommand(['--out', mout, out, bad]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(bad);
    expect(r.stderr).toMatch(/Nothing was written/);
    expect(readFileSync(join(mout, 'matrix.json'), 'utf8')).toBe('the good one');
  });

  test('an output directory that cannot be written is refused', async () => {
    const blocker = write(work.path, 'a-file', 'x');
    const r = await matrixCommand(['--out', join(blocker, 'sub'), out]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/cannot write to .*a-file\/sub \((ENOTDIR|EEXIST)\)/);
  });
});
