/**
 * How observations reach the report (helpers/observations.ts, the reporter):
 * a nested `vitest run --retry=1` of cases/fixtures/observe.fixture.ts, whose
 * report is read back. Complete and incomplete are kept apart, a retried
 * attempt keeps its own outcome, and what the rules may not use is set aside
 * with its reason.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { dir as tmpDir } from 'tmp-promise';
import { expect, test } from 'vitest';
import { PROJECT_ROOT } from '../../helpers/harness/paths.js';
import { hostOnlyReason } from '../../helpers/harness/environment.js';
import type { ClaimsReport } from '../../helpers/report/claims-report.js';

const HOST_ONLY = hostOnlyReason('a nested vitest run of the observation fixture');

test('a nested run with --retry=1: attempts, incomplete observations and skipped tests in the report', { timeout: 120_000 }, async ({ skip }) => {
  if (HOST_ONLY) skip(HOST_ONLY);
  const work = await tmpDir({ unsafeCleanup: true, prefix: 'clonelab-observe-' });
  try {
    const run = await execa(process.execPath, [join(PROJECT_ROOT, 'node_modules/vitest/vitest.mjs'), 'run', '--retry=1'], {
      cwd: PROJECT_ROOT,
      reject: false,
      env: { CLONELAB_FIXTURE: 'cases/fixtures/observe.fixture.ts', CLONELAB_REPORT_DIR: work.path },
    });
    expect(run.exitCode, run.stdout).toBe(1); // the unreadable value fails its test
    const report = JSON.parse(readFileSync(join(work.path, 'claims.json'), 'utf8')) as ClaimsReport;
    const obs = (variant: string, attempt = 0) => report.observations.find((o) => o.kind === 'unusedPidLookup' && o.variant === variant && (o.attempt ?? 0) === attempt);

    // The first attempt failed and was retried: its observation says so, whatever the last attempt did.
    expect(obs('attempt 0')).toMatchObject({ complete: true, testState: 'failed (attempt 1, retried)', attempt: 0 });
    expect(obs('attempt 1', 1)).toMatchObject({ complete: true, testState: 'passed', attempt: 1 });
    // A builder that threw: no result, the reason instead (in both attempts of that failing test).
    expect(obs('unreadable', 0)).toMatchObject({ complete: false, unobserved: 'Uid line of /proc/self/status could not be read', testState: 'failed (attempt 1, retried)' });
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
    expect(report.cases).toMatchObject({ files: [{ file: 'cases/fixtures/observe.fixture.ts', tests: 3, claimBearing: false }], complete: false });
    expect(report.claims.every((c) => c.partialRun?.startsWith('Judged from a partial run:'))).toBe(true);
  } finally {
    await work.cleanup();
  }
});
