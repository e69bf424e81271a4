/**
 * What a real nested vitest run makes of the observe fixture and of declared
 * requirements: one `vitest run --retry=1` of cases/fixtures/observe.fixture.ts
 * and cases/fixtures/needs.fixture.ts together (one vitest start, not two),
 * whose report is read back.
 *
 * - Observations (helpers/observations.ts, the reporter): complete and
 *   incomplete are kept apart, a retried attempt keeps its own outcome, and
 *   what the rules may not use is set aside with its reason.
 * - Requirements (helpers/harness/needs.ts, helpers/harness/test-setup.ts): a
 *   plain vitest test declared with unmet needs is skipped with the generated
 *   reason before its body, on a test, a table or a describe; a met one runs.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa, type Result } from 'execa';
import { dir as tmpDir, type DirectoryResult } from 'tmp-promise';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { PROJECT_ROOT, VITEST } from '../../helpers/harness/paths.js';
import type { ClaimsReport } from '../../helpers/report/claims-report.js';

const FIXTURES = ['cases/fixtures/observe.fixture.ts', 'cases/fixtures/needs.fixture.ts'];

describe('a nested run of the observe and needs fixtures, with --retry=1', () => {
  let work: DirectoryResult | undefined;
  let run: Result;
  let report: ClaimsReport;
  beforeAll(async () => {
    work = await tmpDir({ unsafeCleanup: true, prefix: 'clonelab-nested-' });
    run = await execa(process.execPath, [VITEST, 'run', '--retry=1'], {
      cwd: PROJECT_ROOT,
      reject: false,
      env: { CLONELAB_FIXTURE: FIXTURES.join(','), CLONELAB_REPORT_DIR: work.path },
    });
    report = JSON.parse(readFileSync(join(work.path, 'claims.json'), 'utf8')) as ClaimsReport;
  }, 120_000);
  afterAll(() => work?.cleanup());

  test('attempts, incomplete observations and skipped tests in the report', () => {
    expect(run.exitCode, String(run.stdout)).toBe(1); // the unreadable value fails its test
    const obs = (variant: string, attempt = 0) =>
      report.observations.find((o) => o.kind === 'unusedPidLookup' && o.variant === variant && (o.attempt ?? 0) === attempt);

    // The first attempt failed and was retried: its observation says so, whatever the last attempt did.
    expect(obs('attempt 0')).toMatchObject({ complete: true, testState: 'failed (attempt 1, retried)', attempt: 0 });
    expect(obs('attempt 1', 1)).toMatchObject({ complete: true, testState: 'passed', attempt: 1 });
    // A builder that threw: no result, the reason instead (in both attempts of that failing test).
    expect(obs('unreadable', 0)).toMatchObject({
      complete: false,
      unobserved: 'Uid line of /proc/self/status could not be read',
      testState: 'failed (attempt 1, retried)',
    });
    expect(obs('unreadable', 1)).toMatchObject({ complete: false, testState: 'failed' });
    expect(obs('unreadable', 1)).not.toHaveProperty('result');
    expect(obs('then skipped')).toMatchObject({ complete: true, testState: 'skipped' });

    // A13 reads unusedPidLookup: it lists what it used and what it set aside, with why.
    const a13 = report.claims.find((c) => c.id === 'A13')!;
    expect(a13.setAside.map((x) => `${x.variant}: ${x.reason}`).sort()).toEqual([
      'then skipped: its test was skipped after recording it',
      'unreadable: Uid line of /proc/self/status could not be read',
      'unreadable: Uid line of /proc/self/status could not be read',
    ]);
    expect(a13.verdict).toBe('inconclusive'); // it needs hiddenTidLookup and shellCd, which this fixture never records

    // No claim case file ran, but observations were recorded: the report is written, and says it is partial.
    expect(report.cases.files).toEqual(
      expect.arrayContaining([expect.objectContaining({ file: 'cases/fixtures/observe.fixture.ts', tests: 3, claimBearing: false })]),
    );
    expect(report.cases.complete).toBe(false);
    expect(report.claims.every((c) => c.partialRun?.startsWith('Judged from a partial run:'))).toBe(true);
  });

  test('a test with unmet needs is skipped with the reason before its body, on a test, a table or a describe; a met one runs', () => {
    const missing = 'needs /nonexistent/clonelab-needs-fixture: it does not exist here';
    const fromNeeds = report.tests.list.filter((t) => t.file === 'cases/fixtures/needs.fixture.ts');
    expect(fromNeeds.map((t) => [t.name, t.state, t.skipReason])).toEqual([
      ['a file that is not there', 'skipped', missing],
      ['row one of a table that needs a file that is not there', 'skipped', `${missing}: nothing is lost`],
      ['row two of a table that needs a file that is not there', 'skipped', `${missing}: nothing is lost`],
      ['a group that needs a file that is not there > a test of the group', 'skipped', missing],
      ['met: sh is on PATH', 'passed', undefined],
    ]);
  });
});
