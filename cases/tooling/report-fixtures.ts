/**
 * Reports and matrices made in-process for the tests of the report pages
 * (figures.test.ts, figures-more.test.ts, browser.test.ts): a claims report
 * built from a real healthy run's observations (cases/rules/fixtures/, as
 * recorded by scripts/rule-fixture.ts) in the environment that run recorded,
 * and a two-column matrix of such reports, one column with its claims.html
 * beside it; and how the figure tests compare element counts.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLAIM_CASE_FILES } from '../../helpers/claims/families.js';
import { ENVIRONMENT_FIXTURE, healthyObservations } from '../../helpers/claims/rule-cases.js';
import { environment, type Environment } from '../../helpers/harness/environment.js';
import type { RecordedObservation } from '../../helpers/observations.js';
import { buildClaimsReport, type ClaimsReport } from '../../helpers/report/claims-report.js';
import { buildMatrix, type Matrix } from '../../helpers/report/matrix.js';

let env: Environment | undefined;
/** This host's environment with the healthy run's recorded facts over it (read once). */
function fixtureEnvironment(): Environment {
  env ??= { ...environment(), ...(JSON.parse(readFileSync(ENVIRONMENT_FIXTURE, 'utf8')) as object), clone3: 'not probed by this test' };
  return env;
}

/**
 * A report of these observations in the healthy run's environment, with one
 * passed test per claim-bearing case file: every file counted as run, unless
 * it is in `notRun`.
 */
export function reportOf(observations: RecordedObservation[], notRun: string[] = []): ClaimsReport {
  const files = CLAIM_CASE_FILES.filter((f) => !notRun.includes(f));
  return buildClaimsReport({
    observations,
    tests: files.map((file) => ({ name: `a test of ${file}`, file, state: 'passed' as const })),
    environment: { ...fixtureEnvironment() },
    reason: 'passed',
    unhandledErrors: [],
  });
}

/**
 * A matrix of two columns of the healthy run's report, written under `dir`:
 * `host` (dir/a/claims.json, with a claims.html beside it) and
 * `pid-namespace` (dir/b/claims.json alone, T1 inconclusive there).
 */
export function twoColumns(dir: string): Matrix {
  const r = reportOf(healthyObservations());
  const other = structuredClone(r);
  other.claims.find((c) => c.id === 'T1')!.verdict = 'inconclusive';
  other.claims.find((c) => c.id === 'T1')!.explanation = 'No kernel thread was visible from a child PID namespace.';
  const a = join(dir, 'a');
  const b = join(dir, 'b');
  for (const [d, rep] of [
    [a, r],
    [b, other],
  ] as const) {
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'claims.json'), JSON.stringify(rep));
  }
  writeFileSync(join(a, 'claims.html'), '<p>the report</p>');
  return buildMatrix([
    { source: a, report: r, label: 'host' },
    { source: join(b, 'claims.json'), report: other, label: 'pid-namespace' },
  ]);
}

/** The non-zero counts of a figure's elements() answer: an absent role and a role counted 0 mean the same. */
export const nonZero = (e: Record<string, number> | undefined): Record<string, number> => Object.fromEntries(Object.entries(e ?? {}).filter(([, n]) => n > 0));
