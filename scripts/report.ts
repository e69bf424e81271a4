/**
 * npm run report [-- --out DIR] [--libc glibc|musl] [FILTER...]: the main job. Runs the
 * claim-bearing cases (helpers/claims/families.ts: one file per claim
 * family; the tests of clonelab itself run in `npm test`), the claims
 * reporter writes the report as the run ends, and this says where it went.
 * --probe-wrapper runs every probe under a command (qemu-user: qemu's
 * user-mode emulator), through CLONELAB_PROBE_WRAP (helpers/harness/probe.ts).
 * FILTERs narrow the claim cases the way vitest's file filters do (a part of
 * the path). Exits non-zero when a test failed; the report is written all
 * the same. With GITHUB_STEP_SUMMARY set, the summary table is appended
 * there too.
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { execa } from 'execa';
import { CLAIM_CASE_FILES } from '../helpers/claims/families.js';
import { defineCommand, directory, fail, oneOf, option, runMain, UsageError, type Converter, type Io, type ValuesOf } from '../helpers/cli.js';
import { PROBE_WRAP_VARIABLE, PROBE_WRAPPERS, probeWrapperWords } from '../helpers/harness/probe.js';
import { LIBCS, ProbeBuildError, probeLibc, toolchain } from '../helpers/harness/build.js';
import { commandPath, defaultReportDir, PROJECT_ROOT, VITEST } from '../helpers/harness/paths.js';
import { readClaimsReport, summaryLine } from '../helpers/report/claims-report.js';
import { renderMarkdownSummary } from '../helpers/report/render.js';
import { reportFiles } from '../helpers/report/write.js';

/** --probe-wrapper's words, its command found on PATH (or given as a path) before a whole run is spent on it. */
const wrapperCommand: Converter<string[]> = {
  what: 'a command or a built-in wrapper name',
  convert(raw) {
    let words: string[];
    try {
      words = probeWrapperWords(raw);
    } catch (e) {
      throw new UsageError(`--probe-wrapper: ${(e as Error).message}`);
    }
    const bin = words[0]!;
    if (!commandPath(bin)) {
      const hint = raw.trim() === 'qemu-user' ? ' (Debian: apt-get install qemu-user)' : '';
      throw new UsageError(`--probe-wrapper: ${bin} was not found on PATH${hint}`);
    }
    return words;
  },
};

export const command = defineCommand({
  name: 'report',
  summary: 'Runs the claim-bearing cases and writes claims.json, claims.md, claims.html and junit.xml to DIR.',
  options: {
    libc: option({
      value: 'LIBC',
      description: 'the libc the probes are built against and run with (musl needs musl-tools)',
      convert: oneOf(LIBCS),
      default: () => probeLibc(),
      defaultText: 'glibc, or CLONELAB_LIBC',
    }),
    out: option({ value: 'DIR', description: 'where the report is written', convert: directory, default: () => defaultReportDir(), defaultText: 'reports/' }),
    'probe-wrapper': option({
      value: 'CMD',
      description: `runs every probe under this command (words split at spaces; it must run the probe as its own process), or a built-in name: ${Object.entries(
        PROBE_WRAPPERS,
      )
        .map(([name, w]) => `${name}, ${w.describe}`)
        .join('; ')}`,
      convert: wrapperCommand,
    }),
  },
  positionals: { name: 'FILTER', description: `runs only the claim case files whose path contains it (${CLAIM_CASE_FILES.join(', ')})` },
  check: ({ positionals }) => void selectCaseFiles(positionals),
});

/**
 * The case files to run: every claim case file, or those a filter matches.
 * vitest matches a filter anywhere in a file's path; the same rule here, on
 * the path relative to the project and the absolute one (a filter may be
 * typed as either).
 */
export function selectCaseFiles(filters: readonly string[]): string[] {
  if (!filters.length) return [...CLAIM_CASE_FILES];
  const matches = (file: string, f: string) => file.includes(f) || join(PROJECT_ROOT, file).includes(resolve(f));
  for (const f of filters) {
    if (!CLAIM_CASE_FILES.some((file) => matches(file, f))) {
      throw new UsageError(`no claim case file matches '${f}' (the claim case files: ${CLAIM_CASE_FILES.join(', ')}; the other tests run with npm test)`);
    }
  }
  return CLAIM_CASE_FILES.filter((file) => filters.some((f) => matches(file, f)));
}

/**
 * The main job, apart from process exit (the tests run it in-process through
 * runCommand): vitest's own output goes to this terminal ('inherit'), or is
 * kept out of the way ('pipe') when a test runs it.
 */
export async function main(
  { out, libc, 'probe-wrapper': probeWrapper, positionals }: ValuesOf<typeof command>,
  io: Io,
  vitestOutput: 'inherit' | 'pipe' = 'inherit',
): Promise<number> {
  const caseFiles = selectCaseFiles(positionals);
  // A missing toolchain (musl-gcc) is said here, plainly, rather than as a failed global setup inside vitest's output.
  try {
    await toolchain(libc);
  } catch (e) {
    if (e instanceof ProbeBuildError) fail(e.message);
    throw e;
  }
  const files = reportFiles(out);
  const before = existsSync(files.json) ? readFileSync(files.json, 'utf8') : undefined;
  const run = await execa(process.execPath, [VITEST, 'run', ...caseFiles], {
    cwd: PROJECT_ROOT,
    stdio: vitestOutput,
    reject: false,
    env: { CLONELAB_REPORT_DIR: out, CLONELAB_LIBC: libc, ...(probeWrapper ? { [PROBE_WRAP_VARIABLE]: JSON.stringify(probeWrapper) } : {}) },
  });
  const after = existsSync(files.json) ? readFileSync(files.json, 'utf8') : undefined;
  if (after === undefined || after === before)
    fail(`the suite wrote no new report to ${out} (vitest exit ${run.exitCode ?? run.signal}); see the output above.`);
  const report = readClaimsReport(files.json);
  const rel = (f: string) => relative(process.cwd(), f) || f;
  io.out(
    `\nclaim-verification report (${caseFiles.length} claim case file${caseFiles.length === 1 ? '' : 's'}):\n${(Object.values(files) as string[])
      .map((f) => `  ${rel(f)}`)
      .join('\n')}\n`,
  );
  io.out(`${summaryLine(report)}\n`);
  if (process.env.GITHUB_STEP_SUMMARY) appendFileSync(process.env.GITHUB_STEP_SUMMARY, `${renderMarkdownSummary(report)}\n`);
  return run.exitCode ?? 1;
}

await runMain(import.meta.url, command, main);
