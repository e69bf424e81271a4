/**
 * npm run bench:suite [-- --runs N]: what the two commands cost against the
 * floor of any vitest run, measured in one session so that the machine's load
 * weighs on all three alike (issue 14: `npm run report` at most 4 times the
 * floor, `npm test` under 12 s wall on 2 cores).
 *
 * - floor: `vitest run` of cases/fixtures/floor.fixture.ts, one test that
 *   does nothing, through this project's config (global setup, setup file,
 *   reporter), so it pays every fixed cost and no test's;
 * - report: `npm run report` over the claim-bearing case files
 *   (CLAIM_CASE_FILES, passed explicitly, which is also its default);
 * - test: `npm test`, the whole suite.
 *
 * Each runs N times (default 3), in rounds (floor, report, test, then again),
 * so that a change of load during the session falls on all of them; the
 * median is kept. Wall time from process.hrtime around each child process,
 * nothing timed inside a test. Reports go to bench/ under the report
 * directory (reports/, or CLONELAB_REPORT_DIR), never over the user's
 * claims.json. Writes bench/suite.json there. A command that
 * fails makes the measurement meaningless: the table says which, and the
 * exit status is 1.
 */
import { loadavg, availableParallelism } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { CLAIM_CASE_FILES } from '../helpers/claims/families.js';
import { writeFileAtomic } from '../helpers/harness/fs.js';
import { defaultReportDir, PROJECT_ROOT, VITEST } from '../helpers/harness/paths.js';
import { defineCommand, option, runMain, wholeNumber } from '../helpers/cli.js';

export const command = defineCommand({
  name: 'bench:suite',
  summary:
    'Times a one-test vitest run (the floor), npm run report (claim-bearing cases) and npm test, N times each in rounds, and prints the medians, the ratio report/floor (target <= 4) and the wall time of npm test (target < 12 s); writes suite.json to bench/ under the report directory (reports/, or CLONELAB_REPORT_DIR).',
  options: {
    runs: option({ value: 'N', description: 'rounds of the three commands', convert: wholeNumber(1), default: 3 }),
  },
});

interface Command {
  name: 'floor' | 'report' | 'test';
  /** As a user would type it. */
  shown: string;
  file: string;
  args: string[];
  env: Record<string, string>;
}

/** The three commands, their reports under `out` (a function: the report directory is read when the bench runs, not on import). */
const commands = (out: string): Command[] => [
  {
    name: 'floor',
    shown: 'CLONELAB_FIXTURE=cases/fixtures/floor.fixture.ts vitest run',
    file: process.execPath,
    args: [VITEST, 'run'],
    env: { CLONELAB_FIXTURE: 'cases/fixtures/floor.fixture.ts', CLONELAB_REPORT_DIR: join(out, 'floor') },
  },
  {
    name: 'report',
    shown: `npm run report -- --out ${join(out, 'report')} ${CLAIM_CASE_FILES.length} claim case files`,
    file: 'npm',
    args: ['run', '--silent', 'report', '--', '--out', join(out, 'report'), ...CLAIM_CASE_FILES],
    env: {},
  },
  { name: 'test', shown: 'npm test', file: 'npm', args: ['test', '--silent'], env: { CLONELAB_REPORT_DIR: join(out, 'test') } },
];

interface Timed {
  ms: number;
  exitCode: number | undefined;
  /** The last lines of a failed run's output, to say why. */
  tail?: string;
}

async function timeOnce(c: Command): Promise<Timed> {
  const t0 = process.hrtime.bigint();
  // CI='' keeps vitest's output plain; FORCE_COLOR=0 keeps the tail readable.
  const r = await execa(c.file, c.args, { cwd: PROJECT_ROOT, reject: false, all: true, env: { CI: '', FORCE_COLOR: '0', ...c.env } });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  return { ms, exitCode: r.exitCode, ...(r.exitCode === 0 ? {} : { tail: (r.all ?? r.message).trimEnd().split('\n').slice(-12).join('\n') }) };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

await runMain(import.meta.url, command, async ({ runs }) => {
  const out = join(defaultReportDir(), 'bench');
  const COMMANDS = commands(out);
  const loadBefore = loadavg();
  const times: Record<Command['name'], Timed[]> = { floor: [], report: [], test: [] };
  for (let round = 1; round <= runs; round++) {
    for (const c of COMMANDS) {
      const t = await timeOnce(c);
      times[c.name].push(t);
      process.stderr.write(`bench:suite: round ${round}/${runs}: ${c.name} ${(t.ms / 1000).toFixed(2)} s${t.exitCode === 0 ? '' : ` (exit ${t.exitCode})`}\n`);
    }
  }
  const loadAfter = loadavg();

  const med = Object.fromEntries(COMMANDS.map((c) => [c.name, median(times[c.name].map((t) => t.ms))])) as Record<Command['name'], number>;
  const ratio = med.report / med.floor;
  const TARGETS = { reportOverFloor: 4, testWallMs: 12_000 };
  const failed = COMMANDS.filter((c) => times[c.name].some((t) => t.exitCode !== 0));

  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  const rows = COMMANDS.map((c) => [
    c.name,
    s(med[c.name]),
    times[c.name].map((t) => s(t.ms)).join(', '),
    c.name === 'floor' ? '1.00' : (med[c.name] / med.floor).toFixed(2),
    c.shown,
  ]);
  const head = ['command', 'median', 'each run', 'x floor', 'what ran'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r
      .map((x, i) => x.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  console.log([line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n'));
  console.log(
    `\nnpm run report / floor: ${ratio.toFixed(2)} (target <= ${TARGETS.reportOverFloor}: ${ratio <= TARGETS.reportOverFloor ? 'met' : 'MISSED'})` +
      `\nnpm test wall: ${s(med.test)} (target < ${TARGETS.testWallMs / 1000} s: ${med.test < TARGETS.testWallMs ? 'met' : 'MISSED'})` +
      `\n${availableParallelism()} CPUs; load average before ${loadBefore.map((x) => x.toFixed(2)).join(' ')}, after ${loadAfter.map((x) => x.toFixed(2)).join(' ')}` +
      ' (other work on the machine makes every number, the floor included, pessimistic)',
  );

  const result = {
    generatedAt: new Date().toISOString(),
    runs,
    cpus: availableParallelism(),
    loadAverage: { before: loadBefore, after: loadAfter },
    commands: Object.fromEntries(
      COMMANDS.map((c) => [
        c.name,
        { shown: c.shown, medianMs: med[c.name], runsMs: times[c.name].map((t) => t.ms), exitCodes: times[c.name].map((t) => t.exitCode) },
      ]),
    ),
    reportOverFloor: ratio,
    targets: TARGETS,
    met: { reportOverFloor: ratio <= TARGETS.reportOverFloor, testWall: med.test < TARGETS.testWallMs },
    ...(failed.length ? { failed: failed.map((c) => c.name) } : {}),
  };
  writeFileAtomic(join(out, 'suite.json'), `${JSON.stringify(result, null, 2)}\n`);
  console.log(`wrote ${join(out, 'suite.json')}`);
  if (failed.length) {
    for (const c of failed) {
      const bad = times[c.name].find((t) => t.exitCode !== 0)!;
      console.error(`bench:suite: ${c.shown} failed (exit ${bad.exitCode}); its times measure a broken run. Its last lines:\n${bad.tail}`);
    }
    process.exitCode = 1;
  }
});
