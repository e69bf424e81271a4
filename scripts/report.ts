/**
 * npm run report [-- --out DIR]: the main job. Runs the whole suite (the
 * claims reporter writes the report as it ends) and says where it went.
 * Exits non-zero when a test failed; the report is written all the same.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { execa } from 'execa';
import { PROJECT_ROOT } from '../helpers/build.js';
import { defaultReportDir, summaryLine, type ClaimsReport } from '../helpers/report/claims-report.js';

function parseArgs(argv: string[]): { out: string } {
  let out = defaultReportDir();
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out' && argv[i + 1]) out = resolve(argv[++i]!);
    else if (argv[i] === '--help' || argv[i] === '-h') {
      console.log('usage: npm run report [-- --out DIR]\n  runs the suite and writes DIR/claims.json (default: reports/)');
      process.exit(0);
    } else {
      console.error(`report: unknown argument '${argv[i]}' (valid: --out DIR, --help)`);
      process.exit(2);
    }
  }
  return { out };
}

const { out } = parseArgs(process.argv.slice(2));
const file = join(out, 'claims.json');
const before = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
const run = await execa('vitest', ['run'], {
  cwd: PROJECT_ROOT,
  preferLocal: true,
  stdio: 'inherit',
  reject: false,
  env: { CLONELAB_REPORT_DIR: out },
});
const after = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
if (after === undefined || after === before) {
  console.error(`report: the suite wrote no new report to ${file} (vitest exit ${run.exitCode ?? run.signal}); see the output above.`);
  process.exit(1);
}
const report = JSON.parse(after) as ClaimsReport;
console.log(`\nclaims report: ${relative(process.cwd(), file) || file}`);
console.log(summaryLine(report));
process.exit(run.exitCode ?? 1);
