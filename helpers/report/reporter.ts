/**
 * The vitest reporter that turns a run into reports/claims.json: it collects
 * each test's outcome and the observations tests attached to their meta,
 * runs the claim rules over them, and writes the report atomically, with the
 * list of case files that ran. A run that bore on no claim (only tests of
 * clonelab itself, e.g. `vitest run cases/tooling/lab.test.ts`) leaves the
 * last report as it was rather than replace it with 25 inconclusive claims.
 */
import { relative } from 'node:path';
import type { Reporter, SerializedError, TestModule, TestRunEndReason } from 'vitest/node';
import { PROJECT_ROOT } from '../harness/paths.js';
import { recordEnvironment } from '../harness/environment.js';
import type { RecordedObservation } from '../observations.js';
import { CLAIM_CASE_FILES } from '../claims/families.js';
import { buildClaimsReport, summaryLine, type TestOutcome } from './claims-report.js';
import { defaultReportDir } from '../harness/paths.js';
import { writeReports } from './write.js';

/** What a serialized error says: its message, or all of it when it has none (a thrown value that was not an Error). */
const errorText = (e: SerializedError): string => e.message ?? JSON.stringify(e);

export default class ClaimsReporter implements Reporter {
  /** `dir`: where the report goes (default reports/ or CLONELAB_REPORT_DIR); tests of the reporter give their own. */
  constructor(private readonly options: { dir?: string } = {}) {}

  async onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<SerializedError>, reason: TestRunEndReason): Promise<void> {
    const dir = this.options.dir ?? defaultReportDir();
    if (testModules.length === 0) {
      // Global setup failed (no compiler, no /proc) or nothing matched: keep the last good report.
      process.stderr.write(`clonelab: no test ran, so ${relative(process.cwd(), dir) || dir}/ is left as it was.\n`);
      return;
    }
    const tests: TestOutcome[] = [];
    const observations: RecordedObservation[] = [];
    const caseFiles: { file: string; tests: number; errors: string[] }[] = [];
    for (const mod of testModules) {
      const file = relative(PROJECT_ROOT, mod.moduleId);
      caseFiles.push({ file, tests: [...mod.children.allTests()].length, errors: mod.errors().map(errorText) });
      for (const tc of mod.children.allTests()) {
        const r = tc.result();
        tests.push({
          name: tc.fullName,
          file,
          state: r.state,
          ...(r.state === 'skipped' ? { skipReason: r.note ?? 'skipped without a stated reason' } : {}),
          ...(r.state === 'failed' ? { errors: r.errors.map((e) => e.message) } : {}),
        });
        // A retried test ran again in the same task: an attempt before the last one failed, whatever the last did.
        const lastAttempt = tc.diagnostic()?.retryCount ?? 0;
        for (const o of tc.meta().observations ?? []) {
          const attempt = o.attempt ?? 0;
          observations.push({ ...o, test: tc.fullName, testState: attempt < lastAttempt ? `failed (attempt ${attempt + 1}, retried)` : r.state });
        }
      }
    }
    // Claim-bearing: one of the claim case files ran, or some test recorded an
    // observation (a fixture of cases/tooling/observations.test.ts does).
    if (!observations.length && !caseFiles.some((f) => CLAIM_CASE_FILES.includes(f.file))) {
      const ran = caseFiles.length === 1 ? caseFiles[0]!.file : `${caseFiles.length} case files`;
      process.stdout.write(
        `\nclonelab: no claim-bearing case ran (${ran}), so the claim report in ${relative(process.cwd(), dir) || dir}/ is left as it was.\n`,
      );
      return;
    }
    const report = buildClaimsReport({
      observations,
      tests,
      caseFiles,
      environment: await recordEnvironment(),
      reason,
      unhandledErrors: unhandledErrors.map(errorText),
    });
    const files = writeReports(report, dir);
    const rel = (f: string) => relative(process.cwd(), f) || f;
    process.stdout.write(`\nclonelab: wrote ${Object.values(files).map(rel).join(', ')}\nclonelab: ${summaryLine(report)}\n`);
    const broken = report.claims.filter((c) => c.broken);
    if (broken.length) {
      // A rule that throws is a defect of clonelab: the report keeps an inconclusive verdict, the run fails.
      process.stderr.write(
        `clonelab: the rules of ${broken.map((c) => c.id).join(', ')} threw; this run fails:\n${broken.map((c) => `  ${c.id}: ${c.broken}`).join('\n')}\n`,
      );
      process.exitCode = 1;
    }
  }
}
