/**
 * npm run report:matrix -- [--out DIR] <claims.json files or directories>...
 * Merges reports from several kernels or hosts into matrix.json, matrix.md
 * and matrix.html. Every input is checked before anything is written: one
 * bad input stops the command with its name and the problem, and no output
 * file is touched.
 */
import { accessSync, constants, mkdirSync } from 'node:fs';
import { relative } from 'node:path';
import { defineCommand, directory, fail, option, runMain, type Io, type ValuesOf } from '../helpers/cli.js';
import { defaultReportDir } from '../helpers/harness/paths.js';
import { readClaimsReport, ReportInputError } from '../helpers/report/claims-report.js';
import { buildMatrix, differenceSummary, writeMatrix } from '../helpers/report/matrix.js';

export const command = defineCommand({
  name: 'report:matrix',
  summary: 'Merges claims reports from several kernels or environments into matrix.json, matrix.md and matrix.html, the rows where they disagree first.',
  options: {
    out: option({ value: 'DIR', description: 'where the matrix is written', convert: directory, default: () => defaultReportDir(), defaultText: 'reports/' }),
  },
  positionals: { name: 'REPORT', description: 'a claims.json, or a directory holding one', min: 1 },
});

/** The command's work, apart from process exit: the tests run it in-process through runCommand. */
export function main({ out, positionals: inputs }: ValuesOf<typeof command>, io: Io): void {
  const reports = [];
  for (const input of inputs) {
    try {
      reports.push({ source: input, report: readClaimsReport(input) });
    } catch (e) {
      if (e instanceof ReportInputError) fail(`${e.message}\nNothing was written.`);
      throw e;
    }
  }
  try {
    mkdirSync(out, { recursive: true });
    accessSync(out, constants.W_OK);
  } catch (e) {
    fail(`cannot write to ${out} (${(e as NodeJS.ErrnoException).code ?? String(e)}). Nothing was written.`);
  }
  const matrix = buildMatrix(reports);
  const files = writeMatrix(matrix, out);
  io.out(`matrix: ${differenceSummary(matrix)}\n`);
  for (const f of files) io.out(`  ${relative(process.cwd(), f) || f}\n`);
}

await runMain(import.meta.url, command, main);
