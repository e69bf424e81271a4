/**
 * npm run bench:kernels [-- --kernel NAME]... [-j N] [--arch ARCH]: what the
 * kernel matrix costs, and where each guest's time goes (issue 16: one guest at
 * most 60 s from QEMU start to power-off on 2 cores under TCG with a warm
 * cache; the four default kernels with -j 2 under 3 minutes).
 *
 * It runs `npm run kernels -- --no-host` (the host column is npm run report's
 * cost, measured by bench:suite) as a user would, times the whole run from
 * outside, then reads each guest's breakdown.json (helpers/kernels/breakdown.ts,
 * from the guest's own /proc/uptime stamps and timing reporter) and prints the
 * breakdown table with the wall time and each target, met or missed. Nothing
 * is timed inside a test. The load average before and after is printed: on a
 * shared machine every number is pessimistic, and a paired comparison (two
 * runs in a row) says more than one number. Writes bench/kernels.json under
 * the report directory (reports/, or CLONELAB_REPORT_DIR).
 */
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { defineCommand, option, repeated, runMain, text, wholeNumber } from '../helpers/cli.js';
import { writeFileAtomic } from '../helpers/harness/fs.js';
import { defaultReportDir, PROJECT_ROOT } from '../helpers/harness/paths.js';
import { breakdownTable, type Breakdown } from '../helpers/kernels/breakdown.js';
import { parseKernelsFile } from '../helpers/kernels/sources.js';

export const command = defineCommand({
  name: 'bench:kernels',
  summary:
    "Runs npm run kernels -- --no-host for the named kernels (default: kernels.json's default list) with -j N, times it, and prints where each guest's time went with the targets (one guest <= 60 s alone; the four defaults with -j 2 < 180 s); writes kernels.json to bench/ under the report directory.",
  options: {
    kernel: repeated({ value: 'NAME', description: 'a kernel of kernels.json (default: its default list)', convert: text('a kernel name') }),
    jobs: option({ value: 'N', short: 'j', description: 'guests at once, as npm run kernels -j', convert: wholeNumber(1, 8), default: 2 }),
    arch: option({ value: 'ARCH', description: 'passed to npm run kernels --arch', convert: text('an architecture') }),
  },
});

/** The issue's targets, and when each applies. */
const TARGETS = { oneGuestSeconds: 60, defaultsWithJ2Seconds: 180 } as const;

await runMain(import.meta.url, command, async ({ kernel, jobs: j, arch }) => {
  const kernelsFile = join(PROJECT_ROOT, 'kernels.json');
  const defaults = parseKernelsFile(readFileSync(kernelsFile, 'utf8'), kernelsFile).default;
  const kernels = kernel.length ? kernel : defaults;
  const out = join(defaultReportDir(), 'bench', 'kernels');
  rmSync(out, { recursive: true, force: true }); // a guest that wrote nothing this time must not show last time's breakdown
  const args = [
    'scripts/kernels.ts',
    '--no-host',
    '--out',
    out,
    '-j',
    String(j),
    ...kernels.flatMap((k) => ['--kernel', k]),
    ...(arch ? ['--arch', arch] : []),
  ];
  const loadBefore = loadavg();
  const t0 = process.hrtime.bigint();
  const run = await execa(join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx'), args, { cwd: PROJECT_ROOT, stdio: 'inherit', reject: false });
  const wallSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const loadAfter = loadavg();

  const guests: Breakdown[] = readdirSync(out, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(out, d.name, 'breakdown.json')))
    .map((d) => JSON.parse(readFileSync(join(out, d.name, 'breakdown.json'), 'utf8')) as Breakdown);
  console.log(`\n${breakdownTable(guests)}`);

  const verdict = (ok: boolean) => (ok ? 'met' : 'MISSED');
  const lines = [
    `npm run kernels -- -j ${j} --no-host ${kernels.map((k) => `--kernel ${k}`).join(' ')}: ${wallSeconds.toFixed(1)} s wall, exit ${run.exitCode ?? run.signal}`,
  ];
  for (const g of guests) lines.push(`  ${g.label}: ${g.totalSeconds.toFixed(1)} s, QEMU start to exit`);
  if (guests.length < kernels.length) lines.push(`  ${kernels.length - guests.length} guest(s) wrote no breakdown (see the run's output above)`);
  if (kernels.length === 1 && j === 1 && guests[0])
    lines.push(
      `one guest alone: ${guests[0].totalSeconds.toFixed(1)} s (target <= ${TARGETS.oneGuestSeconds} s: ${verdict(guests[0].totalSeconds <= TARGETS.oneGuestSeconds)})`,
    );
  else if (j === 2 && [...kernels].sort().join() === [...defaults].sort().join())
    lines.push(
      `the ${defaults.length} default kernels with -j 2: ${wallSeconds.toFixed(1)} s (target < ${TARGETS.defaultsWithJ2Seconds} s: ${verdict(wallSeconds < TARGETS.defaultsWithJ2Seconds)})`,
    );
  else lines.push('no target applies to this selection (one kernel with -j 1, or the default list with -j 2)');
  lines.push(
    `${availableParallelism()} CPUs; load average before ${loadBefore.map((x) => x.toFixed(2)).join(' ')}, after ${loadAfter.map((x) => x.toFixed(2)).join(' ')}` +
      ' (other work on the machine makes every number pessimistic)',
  );
  console.log(lines.join('\n'));

  const file = join(defaultReportDir(), 'bench', 'kernels.json');
  writeFileAtomic(
    file,
    `${JSON.stringify({ generatedAt: new Date().toISOString(), kernels, j, arch: arch ?? null, wallSeconds, exitCode: run.exitCode ?? null, cpus: availableParallelism(), loadAverage: { before: loadBefore, after: loadAfter }, guests }, null, 2)}\n`,
  );
  console.log(`wrote ${file}`);
  return run.exitCode === 0 ? 0 : 1;
});
