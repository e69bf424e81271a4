/**
 * npm run report:matrix -- [--out DIR] <claims.json files or directories>...
 * Merges reports from several kernels or hosts into matrix.json, matrix.md
 * and matrix.html. Every input is checked before anything is written: one
 * bad input stops the command with its name and the problem, and no output
 * file is touched.
 */
import { accessSync, constants, mkdirSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { readClaimsReport, ReportInputError } from '../helpers/report/claims-report.js';
import { defaultReportDir } from '../helpers/harness/paths.js';
import { buildMatrix, writeMatrix } from '../helpers/report/matrix.js';

const USAGE = 'usage: npm run report:matrix -- [--out DIR] REPORT [REPORT...]  (REPORT: a claims.json or a directory holding one)';
const fail = (message: string, code = 2): never => {
  console.error(`report:matrix: ${message}`);
  process.exit(code);
};

const argv = process.argv.slice(2);
let out = defaultReportDir();
const inputs: string[] = [];
for (let i = 0; i < argv.length; i++) {
  const a = argv[i]!;
  if (a === '--out') out = resolve(argv[++i] ?? fail(`--out needs a directory\n${USAGE}`));
  else if (a === '--help' || a === '-h') {
    console.log(USAGE);
    process.exit(0);
  } else if (a.startsWith('-')) fail(`unknown option '${a}'\n${USAGE}`);
  else inputs.push(a);
}
if (!inputs.length) fail(`no reports given\n${USAGE}`);

const reports = [];
for (const input of inputs) {
  try {
    reports.push({ source: input, report: readClaimsReport(input) });
  } catch (e) {
    if (e instanceof ReportInputError) fail(`${e.message}\nNothing was written.`, 1);
    throw e;
  }
}
try {
  mkdirSync(out, { recursive: true });
  accessSync(out, constants.W_OK);
} catch (e) {
  fail(`cannot write to ${out} (${(e as NodeJS.ErrnoException).code ?? e}). Nothing was written.`, 1);
}
const matrix = buildMatrix(reports);
const files = writeMatrix(matrix, out);
console.log(`matrix of ${matrix.columns.length} reports: ${matrix.claims.filter((c) => c.differs).length} claims and ${matrix.tests.filter((t) => t.differs).length} tests differ`);
for (const f of files) console.log(`  ${relative(process.cwd(), f) || f}`);
