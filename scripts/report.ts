/**
 * npm run report [-- --out DIR] [vitest filters...]: the main job. Runs the
 * suite (the claims reporter writes the report as the run ends) and says
 * where it went. Exits non-zero when a test failed; the report is written
 * all the same. With GITHUB_STEP_SUMMARY set, the summary table is appended
 * there too.
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { execa } from 'execa';
import { PROJECT_ROOT } from '../helpers/harness/paths.js';
import { readClaimsReport, summaryLine } from '../helpers/report/claims-report.js';
import { defaultReportDir } from '../helpers/harness/paths.js';
import { renderMarkdownSummary } from '../helpers/report/render.js';
import { reportFiles } from '../helpers/report/write.js';

const USAGE = 'usage: npm run report [-- --out DIR] [test file filters...]';

function parseArgs(argv: string[]): { out: string; filters: string[] } {
  let out = defaultReportDir();
  const filters: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--out') {
      if (!argv[i + 1]) fail('--out needs a directory');
      out = resolve(argv[++i]!);
    } else if (a === '--help' || a === '-h') {
      console.log(`${USAGE}\n  runs the suite and writes claims.json, claims.md, claims.html and junit.xml to DIR (default: reports/)`);
      process.exit(0);
    } else if (a.startsWith('-')) fail(`unknown option '${a}' (valid: --out DIR, --help)`);
    else filters.push(a);
  }
  return { out, filters };
}

function fail(message: string): never {
  console.error(`report: ${message}\n${USAGE}`);
  process.exit(2);
}

const { out, filters } = parseArgs(process.argv.slice(2));
const files = reportFiles(out);
const before = existsSync(files.json) ? readFileSync(files.json, 'utf8') : undefined;
const run = await execa('vitest', ['run', ...filters], {
  cwd: PROJECT_ROOT,
  preferLocal: true,
  stdio: 'inherit',
  reject: false,
  env: { CLONELAB_REPORT_DIR: out },
});
const after = existsSync(files.json) ? readFileSync(files.json, 'utf8') : undefined;
if (after === undefined || after === before) {
  console.error(`report: the suite wrote no new report to ${out} (vitest exit ${run.exitCode ?? run.signal}); see the output above.`);
  process.exit(1);
}
const report = readClaimsReport(files.json);
const rel = (f: string) => relative(process.cwd(), f) || f;
console.log(`\nclaim-verification report:\n${Object.values(files).map((f) => `  ${rel(f)}`).join('\n')}`);
console.log(summaryLine(report));
if (process.env.GITHUB_STEP_SUMMARY) appendFileSync(process.env.GITHUB_STEP_SUMMARY, `${renderMarkdownSummary(report)}\n`);
process.exit(run.exitCode ?? 1);
